package calls

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
)

// endAfter37sAndSettle ends v after 37 s on the fake clock and returns the ended
// and billed-summary events.
func (e *env) endAfter37sAndSettle(v CallView) (ended, summary Event) {
	e.t.Helper()
	e.clock.Advance(37 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		e.t.Fatalf("End: %v", err)
	}
	ended = e.waitEvent(EventEnded, 5*time.Second)
	e.clock.Advance(time.Second)
	return ended, e.waitEvent(EventBilledSummary, 5*time.Second)
}

// The manager works the same when the server writes durations and times
// in the other forms a server may use: the account check stays verified,
// the billed duration and cost are the server's.
func TestManagerReadsAlternativeFormats(t *testing.T) {
	for _, f := range []simulator.Formats{
		{Durations: simulator.DurationClock},
		{Durations: simulator.DurationDays, OffsetTimes: true},
		{Durations: simulator.DurationFraction},
	} {
		t.Run(string(f.Durations), func(t *testing.T) {
			e := newEnv(t, envOpt{fake: true})
			if err := e.sim.SetFormats(f); err != nil {
				t.Fatal(err)
			}
			e.m.Recheck()
			e.waitSnap("verified idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle && s.Health == HealthOK })
			v := e.startBilling()
			_, sum := e.endAfter37sAndSettle(v)
			if sum.Call.BilledDuration != 42*time.Second || !strings.Contains(sum.Message, "billed: 0:42, $0.04") {
				t.Fatalf("summary %q, billed %v; want the server's 42 s", sum.Message, sum.Call.BilledDuration)
			}
			h := e.waitSnap("history", 5*time.Second, func(s Snapshot) bool { return len(s.History) == 1 }).History[0]
			if h.BilledDuration != 42*time.Second || h.Cost != 0.035 {
				t.Fatalf("history %+v", h)
			}
		})
	}
}

// Enum values this app does not know (a newer server) keep the call shown
// and counted as it was, with the raw value in the words.
func TestManagerKeepsUnknownEnumValues(t *testing.T) {
	e := newEnv(t, envOpt{fake: true, offSchema: true})
	if err := e.sim.SetFormats(simulator.Formats{UnknownEnums: true}); err != nil {
		t.Fatal(err)
	}
	v := e.startBilling()
	ended, sum := e.endAfter37sAndSettle(v)
	if ended.Call.EndReason != simulator.UnknownEndReason || !strings.Contains(ended.Message, `end reason "future_reason"`) {
		t.Fatalf("end %q (reason %q), want the raw end reason in the words", ended.Message, ended.Call.EndReason)
	}
	if !strings.Contains(sum.Message, simulator.UnknownBillingStatus) || strings.Contains(sum.Message, "free") || !strings.Contains(sum.Message, "$0.04") {
		t.Fatalf("summary %q: want the raw billing status and the estimate, never \"free\"", sum.Message)
	}
	h := e.waitSnap("history", 5*time.Second, func(s Snapshot) bool { return len(s.History) == 1 }).History[0]
	if h.BillingStatus != simulator.UnknownBillingStatus || h.Cost != 0.035 || h.BilledDuration != 42*time.Second {
		t.Fatalf("history %+v: want the raw status, the server's billed duration and its cost", h)
	}
}

// With an agent that speaks a farewell before a hang_up ends the call, End
// still ends the call at once (our socket closes first) and confirms it.
func TestEndWithAFarewellAgent(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.sim.SetHangupFarewell("Thanks for calling, goodbye!")
	v := e.startBilling()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatalf("End: %v", err)
	}
	ended := e.waitEvent(EventEnded, 10*time.Second)
	if c, ok := e.sim.Call(v.ID); !ok || c.Ended == nil || ended.Call.ID != v.ID {
		t.Fatalf("call %+v not ended on the server (event %+v)", c, ended.Call)
	}
}
