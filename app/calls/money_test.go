package calls

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// One money rule (words.Money, half a cent up) for what the simulator billed,
// in the billed notice and in the history the Recent calls menu shows: at
// 0, 1 ns, 6.0 s, 6.001 s and 150 s of billing at $0.05 a minute. (The
// notice once rounded half to even and the menu half up: 150 s was "$0.12"
// in one and "$0.13" in the other.)
func TestBilledMoneyAgreesWithTheSimulator(t *testing.T) {
	e := newEnv(t, envOpt{fake: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, c := range []struct {
		joined               time.Duration
		billed, cost, notice string
	}{
		{0, "0s", "$0.00", "free (no billable time)"},
		{time.Nanosecond, "6s", "$0.01", "0:06, $0.01"},
		{6 * time.Second, "6s", "$0.01", "0:06, $0.01"},
		{6*time.Second + time.Millisecond, "12s", "$0.01", "0:12, $0.01"},
		{150 * time.Second, "150s", "$0.13", "2:30, $0.13"},
	} {
		v := e.startBilling()
		e.clock.Advance(c.joined)
		if err := e.m.End(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second) // billing settles
		s := e.waitSnap("billed", 10*time.Second, func(s Snapshot) bool { return len(s.History) == i+1 })
		h := s.History[0]
		sc, _ := e.sim.Call(v.ID)
		simBilled, err := ultravox.ParseDuration(deref(sc.BilledDuration))
		if err != nil || time.Duration(simBilled) != h.BilledDuration || deref(sc.BilledDuration) != c.billed {
			t.Errorf("%v: the simulator billed %q (%v), the history %v; want %s", c.joined, deref(sc.BilledDuration), err, h.BilledDuration, c.billed)
		}
		if got := words.Money(h.Cost); got != c.cost {
			t.Errorf("%v: history cost %s, want %s", c.joined, got, c.cost)
		}
		var notice string
		waitFor(t, "the billed notice", 10*time.Second, func() bool {
			for _, ev := range e.rec.all() {
				if ev.Kind == EventBilledSummary && ev.Call.ID == v.ID {
					notice = ev.Message
					return true
				}
			}
			return false
		})
		if !strings.Contains(notice, c.notice) {
			t.Errorf("%v: billed notice %q lacks %q", c.joined, notice, c.notice)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
