package calls

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The daily budget at exactly its limit: a spend equal to the budget has
// reached it (new calls refused); after midnight UTC it is a new day and
// calls start again.
func TestDailyBudgetAtExactlyItsLimitAndAfterMidnight(t *testing.T) {
	e := newEnv(t, envOpt{fake: true, settings: func(s *Settings) { s.DailyBudget = 0.05 }})
	v := e.startBilling()
	e.clock.Advance(60 * time.Second) // 60 s billed: exactly $0.05
	e.m.Recheck()
	ev := e.waitEvent(EventBudgetReached, 5*time.Second)
	if want := "Today's spend $0.05 has reached the daily budget of $0.05"; !strings.Contains(ev.Message, want) {
		t.Errorf("budget message %q, want %q", ev.Message, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second) // settle
	e.waitSnap("settled usage", 5*time.Second, func(s Snapshot) bool { return len(s.History) == 1 })
	if _, err := e.m.Start(ctx, ""); !errors.Is(err, ErrBudgetReached) || !strings.Contains(err.Error(), "$0.05 spent today (UTC) of a $0.05 budget") {
		t.Fatalf("Start at exactly the budget: %v", err)
	}
	// 12:01 UTC -> 00:00:30 the next day.
	now := e.clock.Now()
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 30, 0, time.UTC)
	e.clock.Advance(next.Sub(now))
	e.m.Recheck()
	e.waitSnap("a new day", 5*time.Second, func(s Snapshot) bool { return s.TodayCost == 0 })
	v2 := e.startBilling()
	if err := e.m.End(ctx, v2.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sim.Calls()); n != 2 {
		t.Fatalf("%d calls on the server, want 2", n)
	}
}
