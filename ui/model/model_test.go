package model

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
	"github.com/ultravox-tray/ultravox-tray/assets"
)

var t0 = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

var opt = Options{Location: time.UTC}

func idleSnap() calls.Snapshot {
	return calls.Snapshot{
		Taken: t0, Overall: calls.OverallIdle, Health: calls.HealthOK, LastCheck: t0.Add(-12 * time.Second),
		Agents:         []calls.AgentView{{ID: "a1", Name: "Support agent"}},
		DefaultAgentID: "a1", PricePerMinute: 0.05,
	}
}

func billingSnap() calls.Snapshot {
	s := idleSnap()
	s.Overall = calls.OverallBilling
	s.Ours = []calls.CallView{{
		ID: "c1", Ours: true, AgentID: "a1", AgentName: "Support agent", State: calls.CallBilling,
		Created: t0.Add(-160 * time.Second), Joined: t0.Add(-151 * time.Second), MaxDuration: 240 * time.Second,
	}}
	return s
}

func find(items []Item, prefix string) *Item {
	for i := range items {
		if strings.HasPrefix(items[i].Label, prefix) {
			return &items[i]
		}
		if c := find(items[i].Children, prefix); c != nil {
			return c
		}
	}
	return nil
}

// TestTooltipWording uses $0.05/min: 2:31 joined is billed as 2:36 (6 s
// units, rounded up), $0.13.
func TestTooltipWording(t *testing.T) {
	cases := []struct {
		name string
		snap func() calls.Snapshot
		tip  string
		icon assets.State
	}{
		{"billing", billingSnap, "Billing: 2:31, $0.13 (Support agent)", assets.Billing},
		{"idle", idleSnap, "Idle: no calls billing (checked 12 s ago)", assets.Idle},
		{"key rejected", func() calls.Snapshot {
			s := idleSnap()
			s.Overall, s.Health, s.HealthDetail = calls.OverallUnknown, calls.HealthKeyRejected, "API key rejected (401)"
			return s
		}, "Unknown: API key rejected", assets.Unknown},
		{"unchecked", func() calls.Snapshot {
			s := idleSnap()
			s.Overall, s.Health, s.LastCheck = calls.OverallUnknown, calls.HealthUnchecked, time.Time{}
			return s
		}, "Unknown: not checked yet", assets.Unknown},
		{"offline", func() calls.Snapshot {
			s := idleSnap()
			s.Overall, s.Health, s.HealthDetail = calls.OverallUnknown, calls.HealthOffline, "connection refused"
			s.LastCheck = t0.Add(-3 * time.Minute)
			return s
		}, "Unknown: offline (connection refused) (last good check 3 min ago)", assets.Unknown},
		{"connecting", func() calls.Snapshot {
			s := billingSnap()
			s.Overall = calls.OverallConnecting
			s.Ours[0].State, s.Ours[0].Joined = calls.CallJoining, time.Time{}
			return s
		}, "Connecting: Support agent", assets.Connecting},
		{"ending", func() calls.Snapshot {
			s := billingSnap()
			s.Overall = calls.OverallEnding
			s.Ours[0].State = calls.CallEnding
			return s
		}, "Ending: Support agent", assets.Ending},
		{"two billing, one elsewhere", func() calls.Snapshot {
			s := billingSnap()
			s.Elsewhere = []calls.CallView{{ID: "x", AgentName: "Sales", State: calls.CallBilling, Joined: t0.Add(-60 * time.Second)}}
			return s
		}, "Billing: 2 calls, 2:31, $0.18 (Support agent; Sales, elsewhere)", assets.Billing},
		{"end unconfirmed", func() calls.Snapshot {
			s := billingSnap()
			s.Ours[0].State = calls.CallEndUnconfirmed
			return s
		}, "Billing: 2:31, $0.13 (Support agent) – end not confirmed", assets.Billing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Render(c.snap(), t0, opt)
			if v.Tooltip != c.tip {
				t.Errorf("tooltip %q, want %q", v.Tooltip, c.tip)
			}
			if v.Icon != c.icon {
				t.Errorf("icon %s, want %s", v.Icon, c.icon)
			}
			// The state word "Billing" shows only when something is billing.
			if (c.icon == assets.Billing) != strings.HasPrefix(v.Tooltip, "Billing") {
				t.Errorf("tooltip %q: Billing prefix does not match the state %s", v.Tooltip, c.icon)
			}
			if c.icon != assets.Billing && strings.Contains(v.Tooltip+v.Title+v.Status, "Billing") {
				t.Errorf("non-billing state %s says Billing: %q / %q / %q", c.icon, v.Tooltip, v.Title, v.Status)
			}
			if v.Menu[0].Label != v.Status || v.Menu[0].Enabled {
				t.Errorf("first menu item %+v is not the disabled status line %q", v.Menu[0], v.Status)
			}
		})
	}
}

func TestTooltipTicksButMenuDoesNot(t *testing.T) {
	s := billingSnap()
	s.History = []calls.HistoryEntry{{CallID: "old", AgentName: "Support agent", Started: t0.Add(-time.Hour), BilledDuration: 3 * time.Minute, Cost: 0.15, EndReason: "hangup"}}
	s.TodayMinutes, s.TodayCost = 5.5, 0.28
	a := Render(s, t0, opt)
	b := Render(s, t0.Add(7*time.Second), opt)
	c := Render(s, t0.Add(2*time.Minute+13*time.Second), opt)
	if a.Tooltip == b.Tooltip || a.Title == b.Title {
		t.Fatalf("tooltip/title did not tick: %q -> %q", a.Tooltip, b.Tooltip)
	}
	if b.Tooltip != "Billing: 2:38, $0.14 (Support agent)" {
		t.Errorf("after 7 s: %q", b.Tooltip)
	}
	if c.Tooltip != "Billing: 4:44, $0.24 (Support agent)" {
		t.Errorf("after 2:13: %q", c.Tooltip)
	}
	if Signature(a.Menu) != Signature(b.Menu) || Signature(a.Menu) != Signature(c.Menu) {
		t.Fatalf("menu changed with time alone:\n%s\n%s", Signature(a.Menu), Signature(c.Menu))
	}
	// While live, Today shows today's settled history, not the ticking total.
	if got := find(a.Menu, "Today:"); got == nil || got.Label != "Today: 3 min, $0.15 + live call" {
		t.Errorf("today line while live: %+v", got)
	}
	// Idle: the "checked N s ago" ticks in the tooltip only.
	i1, i2 := Render(idleSnap(), t0, opt), Render(idleSnap(), t0.Add(5*time.Second), opt)
	if i1.Tooltip == i2.Tooltip || Signature(i1.Menu) != Signature(i2.Menu) {
		t.Errorf("idle: tooltip %q->%q, menu equal=%v", i1.Tooltip, i2.Tooltip, Signature(i1.Menu) == Signature(i2.Menu))
	}
	if i1.Status != "Idle: no calls billing" {
		t.Errorf("idle status %q", i1.Status)
	}
}

func TestSignatureChangesWithState(t *testing.T) {
	base := Signature(Render(idleSnap(), t0, opt).Menu)
	muted := billingSnap()
	muted.Ours[0].MicMuted = true
	variants := map[string]calls.Snapshot{"billing": billingSnap(), "muted": muted}
	starting := idleSnap()
	starting.Starting = true
	variants["starting"] = starting
	more := idleSnap()
	more.Agents = append(more.Agents, calls.AgentView{ID: "a2", Name: "Sales"})
	variants["agents"] = more
	seen := map[string]string{base: "idle"}
	for name, s := range variants {
		sg := Signature(Render(s, t0, opt).Menu)
		if prev, ok := seen[sg]; ok {
			t.Errorf("%s has the same menu signature as %s", name, prev)
		}
		seen[sg] = name
	}
}

func TestMenuIdle(t *testing.T) {
	v := Render(idleSnap(), t0, opt)
	start := find(v.Menu, "Start call")
	if start == nil || start.Label != "Start call: Support agent" || !start.Enabled || start.Action != (Action{ActStartCall, "a1"}) {
		t.Fatalf("start item %+v", start)
	}
	if find(v.Menu, LabelStartWith) != nil {
		t.Error("a submenu of agents with only one agent")
	}
	if e := find(v.Menu, LabelEndCall); e == nil || e.Enabled {
		t.Errorf("End call while idle: %+v", e)
	}
	if e := find(v.Menu, LabelEndAll); e == nil || e.Enabled || e.Label != "End all calls on account (0)" {
		t.Errorf("End all while idle: %+v", e)
	}
	if m := find(v.Menu, LabelMute); m == nil || m.Enabled || !m.Checkable {
		t.Errorf("mute while idle: %+v", m)
	}
	if r := find(v.Menu, LabelRecent); r == nil || r.Enabled || len(r.Children) != 0 {
		t.Errorf("recent with no history: %+v", r)
	}
	last := v.Menu[len(v.Menu)-1]
	if last.Label != "Quit" || !last.IsQuit || !last.Enabled || last.Action.Kind != ActQuit {
		t.Errorf("last item %+v is not our Quit", last)
	}
	for _, it := range v.Menu[:len(v.Menu)-1] {
		if it.IsQuit {
			t.Errorf("%q is marked IsQuit", it.Label)
		}
	}
	order := []string{"Idle:", "Start call", "End call", "End all calls", "Mute microphone", "Show call", "Recent calls", "Today:", "Settings", "Quit"}
	var labels []string
	for _, it := range v.Menu {
		if !it.Separator {
			labels = append(labels, it.Label)
		}
	}
	if len(labels) != len(order) {
		t.Fatalf("menu %q", labels)
	}
	for i, p := range order {
		if !strings.HasPrefix(labels[i], p) {
			t.Errorf("item %d is %q, want %q…", i, labels[i], p)
		}
	}
	if got := find(v.Menu, "Today:"); got.Label != "Today: 0 min, $0.00" || got.Enabled {
		t.Errorf("today %+v", got)
	}
}

func TestMenuBilling(t *testing.T) {
	s := billingSnap()
	s.Ours[0].MicMuted = true
	s.Elsewhere = []calls.CallView{{ID: "x", State: calls.CallBilling, Joined: t0.Add(-10 * time.Second)}}
	v := Render(s, t0, opt)
	if e := find(v.Menu, LabelEndCall); !e.Enabled || e.Label != "End call" || e.Action.Kind != ActEndOurs {
		t.Errorf("end call %+v", e)
	}
	if e := find(v.Menu, LabelEndAll); !e.Enabled || e.Label != "End all calls on account (2)" {
		t.Errorf("end all %+v", e)
	}
	if m := find(v.Menu, LabelMute); !m.Enabled || !m.Checked || m.Action != (Action{ActToggleMic, "c1"}) {
		t.Errorf("mute %+v", m)
	}
	if sc := find(v.Menu, "Show call"); !sc.Enabled || sc.Action != (Action{ActShowCall, "c1"}) {
		t.Errorf("show call %+v", sc)
	}
	if v.Status != "Billing: 2 calls (Support agent; a call elsewhere)" {
		t.Errorf("status %q", v.Status)
	}
	// A call elsewhere only: End call stays disabled, End all is enabled.
	s2 := idleSnap()
	s2.Overall = calls.OverallBilling
	s2.Elsewhere = s.Elsewhere
	v2 := Render(s2, t0, opt)
	if find(v2.Menu, LabelEndCall).Enabled || !find(v2.Menu, LabelEndAll).Enabled {
		t.Error("with only a call elsewhere, End call must be off and End all on")
	}
	// The account's count wins when it knows of more live calls.
	s2.Account.ActiveCalls = 3
	if l := find(Render(s2, t0, opt).Menu, LabelEndAll).Label; l != "End all calls on account (3)" {
		t.Errorf("end all label %q", l)
	}
	// Two of ours.
	s3 := billingSnap()
	s3.Ours = append(s3.Ours, calls.CallView{ID: "c2", Ours: true, State: calls.CallJoining})
	if l := find(Render(s3, t0, opt).Menu, "End call").Label; l != "End calls (2)" {
		t.Errorf("two ours: %q", l)
	}
}

func TestMenuAgentsSubmenuDefaultFirst(t *testing.T) {
	s := idleSnap()
	s.Agents = []calls.AgentView{{ID: "a0", Name: "Alpha"}, {ID: "a1", Name: "Support agent"}, {ID: "a2", Name: "Sales"}}
	v := Render(s, t0, opt)
	sub := find(v.Menu, LabelStartWith)
	if sub == nil || len(sub.Children) != 3 {
		t.Fatalf("submenu %+v", sub)
	}
	want := []string{"Support agent (default)", "Alpha", "Sales"}
	for i, w := range want {
		if sub.Children[i].Label != w {
			t.Errorf("child %d %q, want %q", i, sub.Children[i].Label, w)
		}
	}
	if sub.Children[2].Action != (Action{ActStartCall, "a2"}) {
		t.Errorf("Sales action %+v", sub.Children[2].Action)
	}
	s.Starting = true
	v = Render(s, t0, opt)
	if st := find(v.Menu, "Start call"); st.Enabled || st.Label != "Start call (starting…)" {
		t.Errorf("start while starting %+v", st)
	}
	s.Starting, s.DefaultAgentID, s.Agents = false, "", nil
	if st := find(Render(s, t0, opt).Menu, "Start call"); st.Enabled {
		t.Errorf("start with no agent is enabled: %+v", st)
	}
}

// 200 agents: the submenu shows the default and 19 others, then one item
// that counts the rest and opens Settings.
func TestMenuAgentsSubmenuCapped(t *testing.T) {
	s := idleSnap()
	s.Agents = nil
	for i := 0; i < 200; i++ {
		s.Agents = append(s.Agents, calls.AgentView{ID: fmt.Sprintf("a%03d", i), Name: fmt.Sprintf("Agent %03d", i)})
	}
	s.DefaultAgentID = "a150"
	sub := find(Render(s, t0, opt).Menu, LabelStartWith)
	if sub == nil || len(sub.Children) != maxMenuAgents+1 {
		t.Fatalf("submenu with 200 agents: %+v", sub)
	}
	if sub.Children[0].Label != "Agent 150 (default)" {
		t.Errorf("first %q, want the default", sub.Children[0].Label)
	}
	last := sub.Children[maxMenuAgents]
	if last.Label != "…and 180 more (choose one in Settings)" || last.Action.Kind != ActSettings || !last.Enabled {
		t.Errorf("last item %+v", last)
	}
}

func TestMenuWithoutKey(t *testing.T) {
	s := idleSnap()
	s.Overall, s.Health, s.Agents, s.DefaultAgentID = calls.OverallUnknown, calls.HealthNoKey, nil, ""
	v := Render(s, t0, opt)
	if find(v.Menu, "Start call") != nil {
		t.Error("Start call shown without a key")
	}
	if k := find(v.Menu, LabelSetKey); k == nil || !k.Enabled || k.Action.Kind != ActSetKey {
		t.Errorf("set key %+v", k)
	}
	if d := find(v.Menu, LabelTryDemo); d == nil || !d.Enabled || d.Action.Kind != ActTryDemo {
		t.Errorf("demo %+v", d)
	}
	if v.Tooltip != "Unknown: no API key set" {
		t.Errorf("tooltip %q", v.Tooltip)
	}
	// Demo mode has no key but offers Start call and says it is a demo.
	s.Demo, s.Overall, s.Health = true, calls.OverallIdle, calls.HealthOK
	s.Agents, s.DefaultAgentID = []calls.AgentView{{ID: "demo", Name: "Demo agent"}}, "demo"
	v = Render(s, t0, opt)
	if find(v.Menu, "Start call: Demo agent") == nil || find(v.Menu, LabelSetKey) != nil {
		t.Error("demo menu lacks Start call or offers Set API key")
	}
	if !v.Demo || !strings.HasSuffix(v.Tooltip, "[demo]") {
		t.Errorf("demo not shown: %+v", v)
	}
}

func TestRecentCalls(t *testing.T) {
	s := idleSnap()
	for i := 0; i < 7; i++ {
		s.History = append(s.History, calls.HistoryEntry{
			CallID: string(rune('a' + i)), AgentName: "Support agent", Started: t0.Add(-time.Duration(i+1) * time.Hour),
			BilledDuration: 151 * time.Second, Cost: 0.13, EndReason: "timeout",
		})
	}
	s.TodayMinutes, s.TodayCost = 17.6, 0.88
	v := Render(s, t0, opt)
	r := find(v.Menu, LabelRecent)
	if !r.Enabled || len(r.Children) != 5 {
		t.Fatalf("recent %+v", r)
	}
	if got := r.Children[0].Label; got != "Support agent · Nov 22 13:00 · 2:31 · $0.13 · timed out" {
		t.Errorf("entry %q", got)
	}
	if r.Children[4].Action != (Action{ActShowRecent, "e"}) {
		t.Errorf("fifth entry action %+v", r.Children[4].Action)
	}
	if got := find(v.Menu, "Today:").Label; got != "Today: 18 min, $0.88" {
		t.Errorf("today %q", got)
	}
	s.DailyBudget = 2
	if got := find(Render(s, t0, opt).Menu, "Today:").Label; got != "Today: 18 min, $0.88 (budget $2.00)" {
		t.Errorf("today with budget %q", got)
	}
}

func TestFormatting(t *testing.T) {
	// The tray uses the app's shared words: the menu, windows and
	// notifications show one clock and one money format.
	for d, w := range map[time.Duration]string{0: "0:00", 151 * time.Second: "2:31", 3725 * time.Second: "1:02:05", -time.Second: "0:00"} {
		if g := words.Clock(d); g != w {
			t.Errorf("Clock(%v)=%q want %q", d, g, w)
		}
	}
	if words.Money(0.125) != "$0.13" || words.Money(3) != "$3.00" {
		t.Errorf("Money: %s %s", words.Money(0.125), words.Money(3))
	}
	if endReasonWords("agent_hangup") != "agent hung up" || endReasonWords("weird") != "weird" {
		t.Error("end reason words")
	}
}

func TestKeyRejectedOffersSetKey(t *testing.T) {
	s := idleSnap()
	s.Overall, s.Health = calls.OverallUnknown, calls.HealthKeyRejected
	v := Render(s, t0, opt)
	k := find(v.Menu, LabelSetKey)
	if k == nil || !k.Enabled || k.Action.Kind != ActSetKey {
		t.Fatalf("set key with a rejected key: %+v", k)
	}
	if c := find(v.Menu, LabelCheckNow); c == nil || c.Action.Kind != ActRecheck {
		t.Errorf("check now: %+v", c)
	}
	if find(Render(idleSnap(), t0, opt).Menu, LabelSetKey) != nil {
		t.Error("Set API key shown with a working key")
	}
}

// infoLines are the disabled lines between the status and the first
// separator.
func infoLines(t *testing.T, v View) []string {
	t.Helper()
	var out []string
	for _, it := range v.Menu[1:] {
		if it.Separator || it.Action.Kind != ActNone {
			break
		}
		if it.Enabled {
			t.Errorf("info line %q is enabled", it.Label)
		}
		out = append(out, it.Label)
	}
	return out
}

func TestUnaccountedCalls(t *testing.T) {
	// Nothing listed, but the account reports an active call: unknown, and
	// the status says why.
	s := idleSnap()
	s.Overall, s.Unaccounted = calls.OverallUnknown, 1
	s.HealthDetail = "the account reports 1 active call(s) that the call list does not show"
	s.Account.ActiveCalls = 1
	v := Render(s, t0, opt)
	if v.Status != "Unknown: account reports 1 active call not listed" {
		t.Errorf("status %q", v.Status)
	}
	if got := infoLines(t, v); len(got) != 0 {
		t.Errorf("the status already says it, yet info lines %q", got)
	}
	if !strings.HasPrefix(v.Tooltip, "Unknown: account reports 1 active call not listed") || strings.Count(v.Tooltip, "not listed") != 1 {
		t.Errorf("tooltip %q", v.Tooltip)
	}
	if e := find(v.Menu, LabelEndAll); !e.Enabled || e.Label != "End all calls on account (1)" {
		t.Errorf("end all %+v", e)
	}
	// While our call bills and two more are unaccounted: an info line under
	// the status, and the tooltip says it too.
	b := billingSnap()
	b.Unaccounted = 2
	v = Render(b, t0, opt)
	if got := infoLines(t, v); len(got) != 1 || got[0] != "Account reports 2 active calls not listed" {
		t.Errorf("info %q", got)
	}
	if v.Tooltip != "Billing: 2:31, $0.13 (Support agent); account reports 2 active calls not listed" {
		t.Errorf("tooltip %q", v.Tooltip)
	}
	// Offline with an unaccounted call: the status says offline, the line
	// says the rest.
	o := idleSnap()
	o.Overall, o.Health, o.Unaccounted = calls.OverallUnknown, calls.HealthOffline, 1
	if got := infoLines(t, Render(o, t0, opt)); len(got) != 1 || got[0] != "Account reports 1 active call not listed" {
		t.Errorf("offline info %q", got)
	}
}

func TestCallNotesInMenuAndTooltip(t *testing.T) {
	s := billingSnap()
	s.Ours[0].State = calls.CallEndUnconfirmed
	s.Ours[0].Note = "the end is not confirmed yet: Ultravox answered 503 three times"
	s.Ours[0].AudioError = "no microphone"
	v := Render(s, t0, opt)
	want := []string{"The end is not confirmed yet: Ultravox answered 503 three times", "Audio: no microphone (type to the agent in Show call…)"}
	got := infoLines(t, v)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("info %q, want %q", got, want)
	}
	// The tooltip stays one line: the audio problem is in the menu.
	if v.Tooltip != "Billing: 2:31, $0.13 (Support agent) – end not confirmed" {
		t.Errorf("tooltip %q", v.Tooltip)
	}
	// The manager's text that already says how to go on gets no advice.
	s.Ours[0].AudioError = "off (text only): the call bills until you end it"
	if got := infoLines(t, Render(s, t0, opt)); len(got) != 2 || got[1] != "Audio: off (text only): the call bills until you end it" {
		t.Errorf("text-only info %q", got)
	}
	s.Ours[0].AudioError = "no microphone"
	// The notes do not tick: the menu stays the same a minute later.
	if Signature(v.Menu) != Signature(Render(s, t0.Add(time.Minute), opt).Menu) {
		t.Error("menu changed with time alone")
	}
	// A new note changes the menu (it is rebuilt once).
	s2 := billingSnap()
	s2.Ours[0].State = calls.CallEndUnconfirmed
	if Signature(v.Menu) == Signature(Render(s2, t0, opt).Menu) {
		t.Error("the note does not change the menu")
	}

	// Two calls: each line names its call; a long note is shortened.
	long := strings.Repeat("very ", 30) + "long"
	s.Ours = append(s.Ours, calls.CallView{ID: "c2", Ours: true, AgentName: "Sales", State: calls.CallJoining, Note: long})
	got = infoLines(t, Render(s, t0, opt))
	if len(got) != 3 || !strings.HasPrefix(got[0], "Support agent: The end is not confirmed") || !strings.HasPrefix(got[2], "Sales: Very very") {
		t.Fatalf("two calls: %q", got)
	}
	if n := len([]rune(got[2])); n != maxInfoLen || !strings.HasSuffix(got[2], "…") {
		t.Errorf("long note not shortened to %d: %d %q", maxInfoLen, n, got[2])
	}
	// An ended call's audio error is history: no line.
	e := idleSnap()
	e.Ours = []calls.CallView{{ID: "c1", Ours: true, State: calls.CallEnded, AudioError: "no microphone", Note: "x"}}
	if got := infoLines(t, Render(e, t0, opt)); len(got) != 0 {
		t.Errorf("ended call: %q", got)
	}
}

func TestRecoveredCallNamed(t *testing.T) {
	s := idleSnap()
	s.Overall = calls.OverallEnding
	s.Ours = []calls.CallView{{ID: "old", Ours: true, Recovered: true, AgentID: "a1", State: calls.CallEnding}}
	v := Render(s, t0, opt)
	if v.Status != "Ending: a call from an earlier session" {
		t.Errorf("status %q", v.Status)
	}
	s.Ours[0].AgentName = "Support agent"
	s.Ours[0].State = calls.CallEndUnconfirmed
	s.Ours[0].Note = "the end was not confirmed before the deadline"
	s.Overall = calls.OverallBilling
	v = Render(s, t0, opt)
	if v.Status != "Billing: Support agent (earlier session) – end not confirmed" {
		t.Errorf("status %q", v.Status)
	}
	if got := infoLines(t, v); len(got) != 1 || got[0] != "The end was not confirmed before the deadline" {
		t.Errorf("info %q", got)
	}
	if sc := find(v.Menu, "Show call"); !sc.Enabled || sc.Action.Arg != "old" {
		t.Errorf("show call %+v", sc)
	}
}
