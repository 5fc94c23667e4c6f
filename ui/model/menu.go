package model

import (
	"fmt"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

func hasKey(s calls.Snapshot) bool { return s.Demo || s.Health != calls.HealthNoKey }

// menu is the tray menu, top to bottom: status and notes, starting, ending
// and the current call, history and today, settings and quit.
func menu(s calls.Snapshot, now time.Time, status string, opt Options) []Item {
	items := []Item{{Label: status}}
	items = append(items, infoItems(s, status)...)
	if s.Overall == calls.OverallUnknown && hasKey(s) {
		items = append(items, Item{Label: LabelCheckNow, Enabled: true, Action: Action{Kind: ActRecheck}})
	}
	items = append(items, Item{Separator: true})
	items = append(items, keyOrStartItems(s)...)
	if opt.Review && hasKey(s) {
		items = append(items, textCallItem(s))
	}
	items = append(items, callItems(s)...)
	items = append(items, Item{Separator: true}, recentItem(s, opt))
	if opt.Review {
		items = append(items, reviewItems(s)...)
	}
	items = append(items, Item{Label: todayLabel(s, now)})
	return append(items, Item{Separator: true},
		Item{Label: LabelSettings, Enabled: true, Action: Action{Kind: ActSettings}},
		Item{Label: LabelQuit, Enabled: true, IsQuit: true, Action: Action{Kind: ActQuit}},
	)
}

// keyOrStartItems offer starting a call, or a way to get a key first.
func keyOrStartItems(s calls.Snapshot) []Item {
	if !hasKey(s) {
		return []Item{
			{Label: LabelSetKey, Enabled: true, Action: Action{Kind: ActSetKey}},
			{Label: LabelTryDemo, Enabled: true, Action: Action{Kind: ActTryDemo}},
		}
	}
	var items []Item
	if s.Health == calls.HealthKeyRejected && !s.Demo {
		items = append(items, Item{Label: LabelSetKey, Enabled: true, Action: Action{Kind: ActSetKey}})
	}
	return append(items, startItems(s)...)
}

// callItems end our calls or all on the account, and reach our newest call.
func callItems(s calls.Snapshot) []Item {
	ours := s.OursLive()
	endLabel := LabelEndCall
	if len(ours) > 1 {
		endLabel = fmt.Sprintf("End calls (%d)", len(ours))
	}
	n := s.AccountLiveCount()
	items := []Item{
		{Label: endLabel, Enabled: len(ours) > 0, Action: Action{Kind: ActEndOurs}},
		{Label: fmt.Sprintf("%s (%d)", LabelEndAll, n), Enabled: n > 0, Action: Action{Kind: ActEndAll}},
	}
	mute := Item{Label: LabelMute, Checkable: true}
	show := Item{Label: LabelShowCall}
	if len(ours) > 0 {
		cur := ours[0]
		if cur.State != calls.CallEnding && cur.State != calls.CallEndUnconfirmed {
			mute.Enabled = true
			mute.Checked = cur.MicMuted
			mute.Action = Action{Kind: ActToggleMic, Arg: cur.ID}
		}
		show.Enabled = true
		show.Action = Action{Kind: ActShowCall, Arg: cur.ID}
	}
	return append(items, mute, show)
}

// maxMenuAgents caps the "Start call with" submenu; the rest are counted in
// an "and N more" item that opens Settings (which lists them all).
const maxMenuAgents = 20

func startItems(s calls.Snapshot) []Item {
	agents := s.Agents
	def := s.DefaultAgentID
	var defName string
	for _, a := range agents {
		if a.ID == def {
			defName = a.Name
		}
	}
	if def == "" && len(agents) > 0 {
		def, defName = agents[0].ID, agents[0].Name
	}
	if defName == "" {
		defName = def
	}
	start := Item{Action: Action{Kind: ActStartCall, Arg: def}}
	busy := startBusy(s)
	switch {
	case s.Starting:
		start.Label = LabelStartCall + " (starting…)"
	case busy != "":
		start.Label = LabelStartCall + " (" + busy + ")"
	case def == "":
		start.Label = LabelStartCall + " (no agent: choose one in Settings)"
	default:
		start.Label = fmt.Sprintf("%s: %s", LabelStartCall, defName)
		start.Enabled = true
	}
	if def == "" {
		start.Action = Action{}
	}
	out := []Item{start}
	if len(agents) > 1 {
		free := !s.Starting && busy == ""
		sub := Item{Label: LabelStartWith, Enabled: free}
		// Default first, then the others in the manager's order.
		for _, a := range agents {
			if a.ID == def {
				sub.Children = append(sub.Children, Item{Label: agentLabel(a) + " (default)", Enabled: free, Action: Action{Kind: ActStartCall, Arg: a.ID}})
			}
		}
		for _, a := range agents {
			if a.ID != def && len(sub.Children) < maxMenuAgents {
				sub.Children = append(sub.Children, Item{Label: agentLabel(a), Enabled: free, Action: Action{Kind: ActStartCall, Arg: a.ID}})
			}
		}
		if more := len(agents) - len(sub.Children); more > 0 {
			// An account with hundreds of agents keeps a usable menu.
			sub.Children = append(sub.Children, Item{Label: fmt.Sprintf("…and %d more (choose one in Settings)", more), Enabled: true, Action: Action{Kind: ActSettings}})
		}
		out = append(out, sub)
	}
	return out
}

// startBusy says why a new call cannot be started now, or "": one of ours
// is connecting, live or ending (a double click on Start call must do
// nothing visible). A call whose end the server never confirmed does not
// block: that can last, and the status line already warns of it.
func startBusy(s calls.Snapshot) string {
	why := ""
	for _, c := range s.Ours {
		switch c.State {
		case calls.CallCreating, calls.CallJoining:
			return "connecting a call…"
		case calls.CallBilling:
			why = "a call is live: end it first"
		case calls.CallEnding:
			if why == "" {
				why = "ending the last call…"
			}
		}
	}
	return why
}

func agentLabel(a calls.AgentView) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

func recentItem(s calls.Snapshot, opt Options) Item {
	it := Item{Label: LabelRecent}
	for i, h := range s.History {
		if i == opt.RecentCount {
			break
		}
		it.Children = append(it.Children, Item{
			Label:   recentLabel(h, opt.Location),
			Enabled: true,
			Action:  Action{Kind: ActShowRecent, Arg: h.CallID},
		})
	}
	it.Enabled = len(it.Children) > 0
	if !it.Enabled {
		it.Label = LabelRecent + " (none yet)"
	}
	return it
}

// todayLabel is "Today: N min, $X" (words.Minutes and words.Money: one
// rounding rule, so a 6-second call is not "0 min, $0.01"). While a call is live the manager's
// running total ticks; the menu must not, so it then shows only the settled
// history of today plus a note that a live call adds to it.
func todayLabel(s calls.Snapshot, now time.Time) string {
	mins, cost := s.TodayMinutes, s.TodayCost
	live := s.LiveCount() > 0
	if live {
		mins, cost = s.SettledToday(now)
	}
	l := fmt.Sprintf("Today: %s, %s", words.Minutes(mins), words.Money(cost))
	if live {
		l += " + live call"
	}
	if s.DailyBudget > 0 {
		l += fmt.Sprintf(" (budget %s)", words.Money(s.DailyBudget))
	}
	return l
}
