package model

import (
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

func sp(s string) *string { return &s }

func TestReviewWords(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	joined, ended := t0, t0.Add(151*time.Second)
	billed := ultravox.Duration(156 * time.Second)
	base := ultravox.Call{CallID: "c-1", Created: t0, Joined: &joined, Ended: &ended, BilledDuration: &billed,
		BillingStatus: ultravox.BillingStatusBilled, Agent: &ultravox.AgentBasic{Name: "Support agent"}}
	msgs := []ultravox.Message{
		{Role: ultravox.MessageRoleAgent, Text: "Hi, how can I help?"},
		{Role: ultravox.MessageRoleUser, Text: "What time is it?"},
		{Role: ultravox.MessageRoleToolCall, ToolName: "clock", Text: "{}"},
		{Role: ultravox.MessageRoleToolResult, ToolName: "clock", ErrorDetails: "no clock"},
		{Role: ultravox.MessageRoleAgent, Text: "Sorry, I cannot tell. Bye!"},
		{Role: "MESSAGE_ROLE_UNKNOWN", Text: "skipped"},
	}
	idle := calls.Snapshot{Health: calls.HealthOK}
	cases := []struct {
		name       string
		call       func(c *ultravox.Call)
		snap       calls.Snapshot
		now        time.Time
		wantRows   map[string]string
		wantShort  string
		wantWhy    string
		wantCont   bool
		wantRecord bool
	}{
		{name: "billed, agent hung up", call: func(c *ultravox.Call) {
			c.EndReason = sp(ultravox.EndReasonAgentHangup)
			c.ShortSummary, c.Summary = sp("Asked the time."), sp("The user asked the time; the agent could not tell.")
		}, snap: idle, now: ended.Add(time.Minute),
			wantRows:  map[string]string{"Agent": "Support agent", "Billed time": "2:36", "Cost": "$0.13", "Ended": "Agent hung up", "Billing": "Billed", "Reference": "c-1"},
			wantShort: "Asked the time.", wantWhy: "Ultravox says the agent hung up. The agent's last words: “Sorry, I cannot tell. Bye!”", wantCont: true},
		{name: "timeout, summary pending, recorded", call: func(c *ultravox.Call) {
			c.EndReason = sp(ultravox.EndReasonTimeout)
			c.BillingStatus = ultravox.BillingStatusPending
			c.RecordingEnabled = true
		}, snap: idle, now: ended.Add(time.Minute),
			wantRows:  map[string]string{"Cost": "not known yet", "Ended": "Timed out", "Billing": "Not settled yet"},
			wantShort: "Not available yet", wantWhy: "The call reached its time limit. The agent's last words: “Sorry, I cannot tell. Bye!”", wantCont: true, wantRecord: true},
		{name: "free, a call is live", call: func(c *ultravox.Call) {
			c.EndReason = sp(ultravox.EndReasonHangup)
			c.BillingStatus = ultravox.BillingStatusFreeMinutes
		}, snap: calls.Snapshot{Health: calls.HealthOK, Ours: []calls.CallView{{ID: "x", State: calls.CallBilling}}}, now: ended.Add(time.Hour),
			wantRows:  map[string]string{"Cost": "$0.00", "Ended": "Hung up", "Billing": "Free (paid from free minutes)"},
			wantShort: "No summary: Ultravox did not write one"},
		{name: "no key", call: func(c *ultravox.Call) {}, snap: calls.Snapshot{Health: calls.HealthNoKey}, now: ended},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.call(&c)
			v := Review(calls.Review{Call: c, Messages: msgs, PricePerMinute: 0.05}, tc.snap, time.UTC, tc.now)
			rows := map[string]string{}
			for _, r := range v.Rows {
				rows[r.Label] = r.Value
				if strings.Contains(r.Value, "BILLING_STATUS") || strings.Contains(r.Value, "_hangup") {
					t.Errorf("row %s shows a wire name: %q", r.Label, r.Value)
				}
			}
			if v.Rows[len(v.Rows)-1].Label != "Reference" {
				t.Errorf("the call id is not last: %+v", v.Rows)
			}
			for k, want := range tc.wantRows {
				if rows[k] != want {
					t.Errorf("%s = %q, want %q", k, rows[k], want)
				}
			}
			if !strings.HasPrefix(v.ShortSummary, tc.wantShort) {
				t.Errorf("short summary %q, want %q…", v.ShortSummary, tc.wantShort)
			}
			if v.WhyEnded != tc.wantWhy {
				t.Errorf("why ended %q, want %q", v.WhyEnded, tc.wantWhy)
			}
			if v.ContinueEnabled != tc.wantCont || v.HasRecording != tc.wantRecord {
				t.Errorf("continue %v (%s), recording %v", v.ContinueEnabled, v.ContinueNote, v.HasRecording)
			}
			want := []ReviewLine{{SpeakerAgent, "Support agent", "Hi, how can I help?"}, {SpeakerUser, "You", "What time is it?"},
				{SpeakerTool, "Tool clock", "called {}"}, {SpeakerTool, "Tool clock", "answered failed: no clock"},
				{SpeakerAgent, "Support agent", "Sorry, I cannot tell. Bye!"}}
			if len(v.Lines) != len(want) {
				t.Fatalf("lines %+v", v.Lines)
			}
			for i := range want {
				if v.Lines[i] != want[i] {
					t.Errorf("line %d %+v, want %+v", i, v.Lines[i], want[i])
				}
			}
		})
	}
}

func TestUsageChart(t *testing.T) {
	now := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	var u calls.Usage
	for i := 29; i >= 0; i-- {
		u.Days = append(u.Days, calls.UsageDay{Day: now.Truncate(24*time.Hour).AddDate(0, 0, -i)})
	}
	u.Days[0].Minutes = 10  // Nov 7
	u.Days[27].Minutes = 40 // Dec 4: $2.00
	u.Days[29].Minutes = 2  // today, before the live call
	u.Fetched = now
	s := calls.Snapshot{PricePerMinute: 0.05, DailyBudget: 1.5, TodayMinutes: 3.5,
		Ours: []calls.CallView{{ID: "live", State: calls.CallBilling}}}
	v := Usage(u, s, now, nil, "2026-12-04")
	if len(v.Bars) != 30 || v.Scale != 2.5 || v.Budget != 0.6 || v.BudgetLabel != "Daily budget $1.50" {
		t.Fatalf("bars %d scale %v budget %v %q", len(v.Bars), v.Scale, v.Budget, v.BudgetLabel)
	}
	today := v.Bars[29]
	if !today.Today || today.Minutes != 3.5 || today.Cost != 0.18 || today.Detail != "Today (Dec 6): 3.5 min, $0.18, including the live call" {
		t.Errorf("today %+v", today)
	}
	if b := v.Bars[27]; !b.OverBudget || b.Height != 0.8 || v.Selected != "Fri Dec 4: 40 min, $2.00" {
		t.Errorf("Dec 4 %+v, selected %q", b, v.Selected)
	}
	if v.Month != "December so far: 44 min, $2.18" || v.ScaleLabel != "Top of the chart: $2.50 a day" {
		t.Errorf("month %q, scale %q", v.Month, v.ScaleLabel)
	}
	if v.Bars[0].Label != "7" || v.Bars[0].Cost != 0.5 {
		t.Errorf("first bar %+v", v.Bars[0])
	}
	// Nothing live, no budget, a failed refresh, no selection.
	v = Usage(calls.Usage{}, calls.Snapshot{PricePerMinute: 0.05}, now, errTest("offline"), "")
	if v.Budget != 0 || v.Scale != 0.1 || !strings.Contains(v.Status, "offline") || v.Selected != UsageHint {
		t.Errorf("empty usage %+v", v)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestHistoryFilter(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	s := calls.Snapshot{History: []calls.HistoryEntry{
		{CallID: "a", AgentName: "Support agent", Started: t0, BilledDuration: 66 * time.Second, Cost: 0.06, EndReason: "hangup"},
		{CallID: "b", AgentName: "Sales", Started: t0.Add(-time.Hour), EndReason: "timeout"},
		{CallID: "c", AgentName: "Support agent", Started: t0.Add(-2 * time.Hour), EndReason: "agent_hangup"},
	}}
	v := History(s, "", time.UTC)
	if strings.Join(v.Filters, "|") != "All agents|Support agent|Sales" || len(v.Rows) != 3 || v.Empty != "" {
		t.Fatalf("all: %+v", v)
	}
	if got := strings.Join(v.Rows[0].Cells, "|"); got != "Support agent|Nov 22 14:00|1:06|$0.06|Hung up" {
		t.Errorf("row 0 %q", got)
	}
	v = History(s, "Support agent", time.UTC)
	if len(v.Rows) != 2 || v.Rows[1].CallID != "c" || v.Rows[1].Cells[4] != "Agent hung up" {
		t.Errorf("filtered %+v", v.Rows)
	}
	if v = History(s, "Nobody", time.UTC); len(v.Rows) != 0 || v.Empty != "No calls with Nobody in the last 3." {
		t.Errorf("no match %+v", v)
	}
	if v = History(calls.Snapshot{}, "", time.UTC); v.Empty != "No finished calls yet." {
		t.Errorf("empty %+v", v)
	}
}

func TestReviewMenuItems(t *testing.T) {
	s := calls.Snapshot{Health: calls.HealthOK, Agents: []calls.AgentView{{ID: "a1", Name: "Support"}, {ID: "a2", Name: "Sales"}}, DefaultAgentID: "a2"}
	find := func(items []Item, label string) (Item, bool) {
		for _, it := range items {
			if it.Label == label {
				return it, true
			}
		}
		return Item{}, false
	}
	v := Render(s, time.Now(), Options{})
	if _, ok := find(v.Menu, LabelUsage); ok {
		t.Error("Usage… offered without Review")
	}
	v = Render(s, time.Now(), Options{Review: true})
	text, ok := find(v.Menu, LabelStartText)
	if !ok || !text.Enabled || len(text.Children) != 2 || text.Children[0].Label != "Sales (default)" || text.Children[0].Action != (Action{Kind: ActTextCall, Arg: "a2"}) {
		t.Errorf("text call item %+v", text)
	}
	if h, _ := find(v.Menu, LabelHistory); h.Enabled {
		t.Error("Call history… enabled with no history")
	}
	if u, _ := find(v.Menu, LabelUsage); !u.Enabled || u.Action.Kind != ActUsage {
		t.Errorf("usage item %+v", u)
	}
}
