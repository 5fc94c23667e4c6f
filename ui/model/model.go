// Package model turns a call manager Snapshot into what the tray shows: the
// icon state, the tooltip and title (which tick every second), and the menu
// (which changes only when the state does). It is plain data: no Fyne, no
// D-Bus, so every wording and every enabled flag is unit-tested.
package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/assets"
)

// ActionKind is what a menu item does when clicked.
type ActionKind int

const (
	ActNone       ActionKind = iota
	ActStartCall             // Arg: agent ID ("" = default agent)
	ActEndOurs               // end every live call this app started
	ActEndAll                // end every live call on the account
	ActToggleMic             // Arg: call ID
	ActShowCall              // Arg: call ID
	ActShowRecent            // Arg: call ID of a history entry
	ActSettings              // open the settings window
	ActSetKey                // open the settings window at the API key
	ActTryDemo               // restart into demo mode
	ActRecheck               // check the account now
	ActQuit                  // end calls, then quit
)

// Action is a menu item's action with its argument.
type Action struct {
	Kind ActionKind
	Arg  string
}

// Item is one menu entry. A Separator has no other field set.
type Item struct {
	Label     string
	Enabled   bool
	Checkable bool
	Checked   bool
	Separator bool
	IsQuit    bool
	Action    Action
	Children  []Item
}

// Menu labels that tests and scripts rely on (documented in the README).
const (
	LabelStartCall = "Start call"
	LabelStartWith = "Start call with"
	LabelEndCall   = "End call"
	LabelEndAll    = "End all calls on account"
	LabelMute      = "Mute microphone"
	LabelShowCall  = "Show call…"
	LabelRecent    = "Recent calls"
	LabelSettings  = "Settings…"
	LabelSetKey    = "Set API key…"
	LabelTryDemo   = "Try demo mode"
	LabelCheckNow  = "Check now"
	LabelQuit      = "Quit"
)

// View is everything the tray shows for one snapshot at one instant.
type View struct {
	Icon    assets.State
	Demo    bool
	Tooltip string // ticks every second while billing
	Title   string // short form of the tooltip, ticks too
	Status  string // the menu's status line: no ticking numbers
	Menu    []Item
}

// Options are the few things the view needs beyond the snapshot.
type Options struct {
	// Location is the time zone for the times in "Recent calls"; nil = Local.
	Location *time.Location
	// RecentCount is how many history entries "Recent calls" lists (5).
	RecentCount int
}

// IconState maps the manager's overall state to the icon.
func IconState(o calls.Overall) assets.State {
	switch o {
	case calls.OverallIdle:
		return assets.Idle
	case calls.OverallConnecting:
		return assets.Connecting
	case calls.OverallBilling:
		return assets.Billing
	case calls.OverallEnding:
		return assets.Ending
	default:
		return assets.Unknown
	}
}

// Render builds the View of snap at now.
func Render(snap calls.Snapshot, now time.Time, opt Options) View {
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.RecentCount <= 0 {
		opt.RecentCount = 5
	}
	v := View{Icon: IconState(snap.Overall), Demo: snap.Demo}
	v.Tooltip, v.Title, v.Status = words(snap, now)
	if snap.Demo {
		v.Tooltip += " [demo]"
	}
	v.Menu = menu(snap, now, v.Status, opt)
	return v
}

// liveCalls are the calls that may be billing: ours (not confirmed ended)
// first, then those elsewhere.
func liveCalls(s calls.Snapshot) []calls.CallView {
	var out []calls.CallView
	for _, c := range s.Ours {
		if c.State.Live() {
			out = append(out, c)
		}
	}
	return append(out, s.Elsewhere...)
}

func billingCalls(s calls.Snapshot) []calls.CallView {
	var out []calls.CallView
	for _, c := range liveCalls(s) {
		if c.State == calls.CallBilling || c.State == calls.CallEndUnconfirmed || c.State == calls.CallEnding || !c.Joined.IsZero() {
			out = append(out, c)
		}
	}
	return out
}

func ourLive(s calls.Snapshot) []calls.CallView {
	var out []calls.CallView
	for _, c := range s.Ours {
		if c.State.Live() {
			out = append(out, c)
		}
	}
	return out
}

// callName is how a call is named to the user.
func callName(c calls.CallView) string {
	name := c.AgentName
	if name == "" {
		name = c.AgentID
	}
	if !c.Ours {
		if name == "" {
			return "a call elsewhere"
		}
		return name + ", elsewhere"
	}
	if c.Recovered {
		if name == "" || name == c.AgentID {
			return "a call from an earlier session"
		}
		return name + " (earlier session)"
	}
	if name == "" {
		return "your call"
	}
	return name
}

// UnaccountedWords says that the account reports n active calls that no
// listing showed ("Account reports 1 active call not listed").
func UnaccountedWords(n int) string {
	if n == 1 {
		return "Account reports 1 active call not listed"
	}
	return fmt.Sprintf("Account reports %d active calls not listed", n)
}

// maxInfoLen bounds an information line in the menu; the call window shows
// the whole text.
const maxInfoLen = 90

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxInfoLen {
		return s
	}
	return strings.TrimSpace(string(r[:maxInfoLen-1])) + "…"
}

// CallNotes are the manager's words about one call, one sentence each, for
// the menu and the call window: its note and its audio problem (a call from
// an earlier session says so in its name). No ticking numbers.
func CallNotes(c calls.CallView) []string {
	var out []string
	if c.Note != "" {
		out = append(out, capitalize(c.Note))
	}
	if c.AudioError != "" && c.State.Live() {
		l := "Audio: " + c.AudioError
		if !strings.Contains(c.AudioError, "text") && !strings.Contains(c.AudioError, "type") {
			l += " (type to the agent in Show call…)"
		}
		out = append(out, l)
	}
	return out
}

func capitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// infoItems are disabled lines under the status that tell what the manager
// knows beyond the state: calls the account reports but no listing shows,
// and each live call's notes. They change only with the snapshot.
func infoItems(s calls.Snapshot, status string) []Item {
	var items []Item
	if s.Unaccounted > 0 && !strings.Contains(status, "not listed") {
		items = append(items, Item{Label: UnaccountedWords(s.Unaccounted)})
	}
	ours := ourLive(s)
	for _, c := range ours {
		for _, n := range CallNotes(c) {
			l := n
			if len(ours) > 1 || !strings.Contains(status, callName(c)) {
				l = callName(c) + ": " + n
			}
			items = append(items, Item{Label: shorten(capitalize(l))})
		}
	}
	return items
}

func names(cs []calls.CallView) string {
	var n []string
	for _, c := range cs {
		n = append(n, callName(c))
	}
	if len(n) > 3 {
		n = append(n[:3], fmt.Sprintf("%d more", len(n)-3))
	}
	return strings.Join(n, "; ")
}

// Clock formats a duration as MM:SS, or H:MM:SS from one hour.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// Money formats dollars with cents.
func Money(d float64) string {
	return "$" + strconv.FormatFloat(math.Round(d*100)/100, 'f', 2, 64)
}

// Ago says how long ago t was, in whole seconds or minutes.
func Ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	default:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
}

// healthWords says why the state is unknown.
func healthWords(s calls.Snapshot) string {
	switch s.Health {
	case calls.HealthKeyRejected:
		return "API key rejected"
	case calls.HealthNoKey:
		return "no API key set"
	case calls.HealthOffline:
		if s.HealthDetail != "" {
			return "offline (" + s.HealthDetail + ")"
		}
		return "offline"
	case calls.HealthRateLimited:
		return "rate limited by Ultravox"
	case calls.HealthUnchecked:
		return "not checked yet"
	}
	if s.Unaccounted > 0 {
		return strings.ToLower(UnaccountedWords(s.Unaccounted)[:1]) + UnaccountedWords(s.Unaccounted)[1:]
	}
	if s.HealthDetail != "" {
		return s.HealthDetail
	}
	return "cannot verify that nothing is billing"
}

// words returns tooltip, title and the status line (the tooltip without the
// ticking numbers).
func words(s calls.Snapshot, now time.Time) (tooltip, title, status string) {
	price := s.PricePerMinute
	switch s.Overall {
	case calls.OverallBilling:
		bill := billingCalls(s)
		if len(bill) == 0 { // the manager says billing: trust it, name what is live
			bill = liveCalls(s)
		}
		var elapsed time.Duration
		var cost float64
		for _, c := range bill {
			if e := c.Elapsed(now); e > elapsed {
				elapsed = e
			}
			cost += c.Cost(now, price)
		}
		count := ""
		if len(bill) > 1 {
			count = fmt.Sprintf("%d calls, ", len(bill))
		}
		warn := ""
		for _, c := range bill {
			if c.State == calls.CallEndUnconfirmed {
				warn = " – end not confirmed"
				break
			}
		}
		who := names(bill)
		if who == "" {
			who = "calls on your account"
		}
		tooltip = fmt.Sprintf("Billing: %s%s, %s (%s)%s", count, Clock(elapsed), Money(cost), who, warn)
		title = fmt.Sprintf("Billing %s %s", Clock(elapsed), Money(cost))
		if len(bill) > 1 {
			status = fmt.Sprintf("Billing: %d calls (%s)%s", len(bill), who, warn)
		} else {
			status = fmt.Sprintf("Billing: %s%s", who, warn)
		}
		if s.Health != calls.HealthOK && s.Health != calls.HealthUnchecked {
			tooltip += "; " + healthWords(s)
		}
	case calls.OverallConnecting:
		live := liveCalls(s)
		who := names(live)
		if who == "" {
			who = "starting a call"
		}
		tooltip = "Connecting: " + who
		title = "Connecting"
		status = tooltip
	case calls.OverallEnding:
		live := liveCalls(s)
		tooltip = "Ending: " + names(live)
		if len(live) == 0 {
			tooltip = "Ending: waiting for Ultravox to confirm"
		}
		title = "Ending"
		status = tooltip
	case calls.OverallIdle:
		status = "Idle: no calls billing"
		if s.LastCheck.IsZero() {
			tooltip = status
		} else {
			tooltip = fmt.Sprintf("%s (checked %s)", status, Ago(now, s.LastCheck))
		}
		title = "Idle"
	default:
		status = "Unknown: " + healthWords(s)
		tooltip = status
		if !s.LastCheck.IsZero() && s.Health != calls.HealthKeyRejected && s.Health != calls.HealthNoKey {
			tooltip = fmt.Sprintf("%s (last good check %s)", status, Ago(now, s.LastCheck))
		}
		title = "Unknown"
	}
	if s.Unaccounted > 0 && !strings.Contains(tooltip, "not listed") {
		tooltip += "; " + strings.ToLower(UnaccountedWords(s.Unaccounted)[:1]) + UnaccountedWords(s.Unaccounted)[1:]
	}
	return tooltip, title, status
}

func hasKey(s calls.Snapshot) bool { return s.Demo || s.Health != calls.HealthNoKey }

func menu(s calls.Snapshot, now time.Time, status string, opt Options) []Item {
	items := []Item{{Label: status}}
	items = append(items, infoItems(s, status)...)
	if s.Overall == calls.OverallUnknown && hasKey(s) {
		items = append(items, Item{Label: LabelCheckNow, Enabled: true, Action: Action{Kind: ActRecheck}})
	}
	items = append(items, Item{Separator: true})

	if hasKey(s) {
		if s.Health == calls.HealthKeyRejected && !s.Demo {
			items = append(items, Item{Label: LabelSetKey, Enabled: true, Action: Action{Kind: ActSetKey}})
		}
		items = append(items, startItems(s)...)
	} else {
		items = append(items,
			Item{Label: LabelSetKey, Enabled: true, Action: Action{Kind: ActSetKey}},
			Item{Label: LabelTryDemo, Enabled: true, Action: Action{Kind: ActTryDemo}},
		)
	}

	ours := ourLive(s)
	endLabel := LabelEndCall
	if len(ours) > 1 {
		endLabel = fmt.Sprintf("End calls (%d)", len(ours))
	}
	items = append(items, Item{Label: endLabel, Enabled: len(ours) > 0, Action: Action{Kind: ActEndOurs}})

	n := s.LiveCount()
	if s.Account.ActiveCalls > n {
		n = s.Account.ActiveCalls
	}
	items = append(items, Item{
		Label:   fmt.Sprintf("%s (%d)", LabelEndAll, n),
		Enabled: n > 0,
		Action:  Action{Kind: ActEndAll},
	})

	var cur *calls.CallView
	if len(ours) > 0 {
		cur = &ours[0]
	}
	mute := Item{Label: LabelMute, Checkable: true}
	show := Item{Label: LabelShowCall}
	if cur != nil && cur.State != calls.CallEnding && cur.State != calls.CallEndUnconfirmed {
		mute.Enabled = true
		mute.Checked = cur.MicMuted
		mute.Action = Action{Kind: ActToggleMic, Arg: cur.ID}
	}
	if cur != nil {
		show.Enabled = true
		show.Action = Action{Kind: ActShowCall, Arg: cur.ID}
	}
	items = append(items, mute, show, Item{Separator: true})

	items = append(items, recentItem(s, opt), Item{Label: todayLabel(s, now)})
	items = append(items, Item{Separator: true},
		Item{Label: LabelSettings, Enabled: true, Action: Action{Kind: ActSettings}},
		Item{Label: LabelQuit, Enabled: true, IsQuit: true, Action: Action{Kind: ActQuit}},
	)
	return items
}

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
	switch {
	case s.Starting:
		start.Label = LabelStartCall + " (starting…)"
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
		sub := Item{Label: LabelStartWith, Enabled: !s.Starting}
		// Default first, then the others in the manager's order.
		for _, a := range agents {
			if a.ID == def {
				sub.Children = append(sub.Children, Item{Label: label(a) + " (default)", Enabled: !s.Starting, Action: Action{Kind: ActStartCall, Arg: a.ID}})
			}
		}
		for _, a := range agents {
			if a.ID != def {
				sub.Children = append(sub.Children, Item{Label: label(a), Enabled: !s.Starting, Action: Action{Kind: ActStartCall, Arg: a.ID}})
			}
		}
		out = append(out, sub)
	}
	return out
}

func label(a calls.AgentView) string {
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
			Label:   RecentLabel(h, opt.Location),
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

// RecentLabel is one history entry in the "Recent calls" submenu: agent,
// when, billed duration, cost, end reason.
func RecentLabel(h calls.HistoryEntry, loc *time.Location) string {
	name := h.AgentName
	if name == "" {
		name = "Call"
	}
	when := "?"
	if !h.Started.IsZero() {
		when = h.Started.In(loc).Format("Jan 2 15:04")
	}
	reason := EndReasonWords(h.EndReason)
	return fmt.Sprintf("%s · %s · %s · %s · %s", name, when, Clock(h.BilledDuration), Money(h.Cost), reason)
}

// EndReasonWords turns the server's endReason into words.
func EndReasonWords(r string) string {
	switch r {
	case "hangup":
		return "hung up"
	case "agent_hangup":
		return "agent hung up"
	case "timeout":
		return "timed out"
	case "unjoined":
		return "never joined"
	case "connection_error":
		return "connection lost"
	case "system_error":
		return "Ultravox error"
	case "":
		return "end reason unknown"
	}
	return r
}

// todayLabel is "Today: N min, $X". While a call is live the manager's
// running total ticks; the menu must not, so it then shows only the settled
// history of today plus a note that a live call adds to it.
func todayLabel(s calls.Snapshot, now time.Time) string {
	mins, cost := s.TodayMinutes, s.TodayCost
	live := s.LiveCount() > 0
	if live {
		mins, cost = 0, 0
		y, m, d := now.UTC().Date()
		for _, h := range s.History {
			hy, hm, hd := h.Started.UTC().Date()
			if hy == y && hm == m && hd == d {
				mins += h.BilledDuration.Minutes()
				cost += h.Cost
			}
		}
	}
	l := fmt.Sprintf("Today: %d min, %s", int(math.Round(mins)), Money(cost))
	if live {
		l += " + live call"
	}
	if s.DailyBudget > 0 {
		l += fmt.Sprintf(" (budget %s)", Money(s.DailyBudget))
	}
	return l
}

// Signature identifies the menu's structure and words: the tray rebuilds
// its menu only when the signature changes.
func Signature(items []Item) string {
	var b strings.Builder
	sig(&b, items)
	return b.String()
}

func sig(b *strings.Builder, items []Item) {
	for _, it := range items {
		fmt.Fprintf(b, "%q|%t%t%t%t%t|%d:%q", it.Label, it.Enabled, it.Checkable, it.Checked, it.Separator, it.IsQuit, it.Action.Kind, it.Action.Arg)
		if len(it.Children) > 0 {
			b.WriteString("[")
			sig(b, it.Children)
			b.WriteString("]")
		}
		b.WriteString(";")
	}
}
