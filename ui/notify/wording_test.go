package notify

import (
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
)

// Issue 12, defect 5: urgent means money may be at risk now; every other
// journal or history event is worded for what it is.
func TestStateFileEventsAreWordedForWhatTheyAre(t *testing.T) {
	const risk = "may keep billing"
	for _, c := range []struct {
		name    string
		ev      calls.Event
		urgent  bool
		summary string
		has     string
		hasNot  string
	}{
		{"unreadable journal", calls.Event{Kind: calls.EventJournalProblem, AtRisk: true,
			Message: "the call journal /s/journal.json cannot be read (permission denied)"},
			true, "Crash protection problem", risk, ""},
		{"recovered journal", calls.Event{Kind: calls.EventJournalProblem,
			Message: "the call journal /s/journal.json was corrupt (unexpected EOF) and was moved to /s/j.corrupt-x; 1 call reference(s) were recovered from it and will be checked"},
			false, "Call journal repaired", "will be checked", risk},
		{"history", calls.Event{Kind: calls.EventHistoryProblem, Message: "the call history /s/history.json was corrupt and was moved aside"},
			false, "Call history problem", "not affected", risk},
		{"never joined, earlier session", calls.Event{Kind: calls.EventRecoveredEnded, Call: calls.CallView{ID: "c1", AgentName: "Support agent"},
			Message: "A call with Support agent from an earlier session was never joined and has ended; it cost nothing."},
			false, "Earlier call ended: nothing billed", "cost nothing", risk},
	} {
		n, ok := fromEvent(c.ev)
		if !ok || n.Urgent != c.urgent || n.Summary != c.summary || !strings.Contains(n.Body, c.has) ||
			(c.hasNot != "" && strings.Contains(n.Body, c.hasNot)) {
			t.Errorf("%s: %+v (ok %v); want urgent=%v %q, body with %q and without %q", c.name, n, ok, c.urgent, c.summary, c.has, c.hasNot)
		}
	}
}
