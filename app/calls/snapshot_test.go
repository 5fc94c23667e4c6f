package calls

import (
	"testing"
	"time"
)

func TestCallViewBillingRules(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	joined := t0.Add(-37 * time.Second)
	cases := []struct {
		name            string
		c               CallView
		billed          time.Duration
		cost            float64
		mayBill, canEnd bool
	}{
		{"creating", CallView{State: CallCreating}, 0, 0, false, true},
		{"joining", CallView{State: CallJoining}, 0, 0, false, true},
		{"billing rounds up to 6 s units", CallView{State: CallBilling, Joined: joined}, 42 * time.Second, 0.035, true, true},
		{"ending", CallView{State: CallEnding, Joined: joined}, 42 * time.Second, 0.035, true, false},
		{"end unconfirmed", CallView{State: CallEndUnconfirmed}, 0, 0, true, true},
		{"ended at the server's time", CallView{State: CallEnded, Joined: joined, Ended: t0.Add(-30 * time.Second)}, 12 * time.Second, 0.01, true, false},
		{"settled: the server's duration wins", CallView{State: CallEnded, Joined: joined, Ended: t0, Settled: true, BilledDuration: time.Minute}, time.Minute, 0.05, true, false},
	}
	for _, c := range cases {
		if got := c.c.Billed(t0); got != c.billed {
			t.Errorf("%s: Billed %v, want %v", c.name, got, c.billed)
		}
		if got := c.c.Cost(t0, 0.05); got != c.cost {
			t.Errorf("%s: Cost %v, want %v", c.name, got, c.cost)
		}
		if c.c.MayBill() != c.mayBill || c.c.CanEnd() != c.canEnd {
			t.Errorf("%s: MayBill %v CanEnd %v", c.name, c.c.MayBill(), c.c.CanEnd())
		}
	}
}

func TestSnapshotRules(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	s := Snapshot{
		Ours: []CallView{
			{ID: "joining", State: CallJoining},
			{ID: "done", State: CallEnded, Joined: t0.Add(-time.Minute)},
			{ID: "bill", State: CallBilling, Joined: t0.Add(-time.Minute)},
		},
		Elsewhere: []CallView{{ID: "x", State: CallBilling, Joined: t0.Add(-time.Minute)}},
		History: []HistoryEntry{
			{CallID: "h1", Started: t0.Add(-time.Hour), BilledDuration: 90 * time.Second, Cost: 0.08},
			{CallID: "h2", Started: t0.Add(-15 * time.Hour), BilledDuration: time.Minute, Cost: 0.05}, // the day before
		},
	}
	ids := func(cs []CallView) (out []string) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(s.LiveCalls()); len(got) != 3 || got[0] != "joining" || got[1] != "bill" || got[2] != "x" {
		t.Errorf("LiveCalls %q", got)
	}
	if got := ids(s.Billing()); len(got) != 2 || got[0] != "bill" || got[1] != "x" {
		t.Errorf("Billing %q", got)
	}
	if s.LiveCount() != 3 || s.AccountLiveCount() != 3 {
		t.Errorf("LiveCount %d AccountLiveCount %d", s.LiveCount(), s.AccountLiveCount())
	}
	s.Account.ActiveCalls = 5
	if s.AccountLiveCount() != 5 {
		t.Errorf("the account's larger count: %d", s.AccountLiveCount())
	}
	if c, ok := s.Call("done"); !ok || c.State != CallEnded {
		t.Errorf("Call(done) %+v %v", c, ok)
	}
	if _, ok := s.Call("x"); ok {
		t.Error("Call finds a call elsewhere")
	}
	if h, ok := s.Finished("h2"); !ok || h.Cost != 0.05 {
		t.Errorf("Finished(h2) %+v %v", h, ok)
	}
	if m, c := s.SettledToday(t0); m != 1.5 || c != 0.08 {
		t.Errorf("SettledToday %v %v", m, c)
	}
}
