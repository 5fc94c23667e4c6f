package model

import (
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
)

func TestRecentDetails(t *testing.T) {
	t.Parallel()
	s := idleSnap()
	s.History = []calls.HistoryEntry{
		{CallID: "call-42", AgentName: "Support agent", Started: t0, BilledDuration: 151 * time.Second, Cost: 0.13, EndReason: "timeout", BillingStatus: "BILLING_STATUS_BILLED"},
		{CallID: "call-7"},
	}
	for _, c := range []struct {
		id    string
		title string
		rows  []Row
	}{
		{"call-42", "Call with Support agent", []Row{
			{"Agent", "Support agent", false}, {"Started", "Sun Nov 22 2026 14:00:00 UTC", false},
			{"Billed time", "2:31", false}, {"Cost", "$0.13", false}, {"Ended", "Timed out", false}, {"Billing", "Billed", false},
			{"Reference", "call-42", true},
		}},
		{"call-7", "Call with —", []Row{
			{"Agent", "—", false}, {"Started", "unknown", false},
			{"Billed time", "0:00", false}, {"Cost", "$0.00", false}, {"Ended", "End reason unknown", false}, {"Billing", "Not settled yet", false},
			{"Reference", "call-7", true},
		}},
	} {
		d, ok := Recent(s, c.id, time.UTC)
		if !ok || d.Title != c.title || len(d.Rows) != len(c.rows) {
			t.Fatalf("%s: %v %+v", c.id, ok, d)
		}
		for i, r := range c.rows {
			if d.Rows[i] != r {
				t.Errorf("%s row %d: %+v, want %+v", c.id, i, d.Rows[i], r)
			}
		}
	}
	if _, ok := Recent(s, "gone", time.UTC); ok {
		t.Error("details of a call that is not in the history")
	}
}
