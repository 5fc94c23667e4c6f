package calls

import (
	"testing"
	"time"
)

// watch.go decides when to fetch the billing usage and the agents list by
// the manager's clock, like everything else it times: with a clock that
// stands still, a few real polls fetch the usage once, and moving the clock
// past PollIdle fetches it again. (It used time.Since against a time taken
// from the manager's clock, so a clock other than the machine's refetched
// the usage on every poll, or never.)
func TestWatchTimesFetchesByTheManagersClock(t *testing.T) {
	e := newEnv(t, envOpt{fake: true})
	e.waitSnap("first check", 5*time.Second, func(s Snapshot) bool { return s.Health == HealthOK })
	usage := func() int { return len(e.sim.RequestsTo("GET", "/api/accounts/me/billing/usage")) }
	agents := func() int { return len(e.sim.RequestsTo("GET", "/api/agents")) }
	checks := func() int { return len(e.sim.RequestsTo("GET", "/api/accounts/me")) - usage() }
	// Several real polls (PollIdle is 400 ms of real time) while the
	// manager's clock stands still.
	before := checks()
	for deadline := time.Now().Add(20 * time.Second); checks() < before+3; {
		if time.Now().After(deadline) {
			t.Fatalf("no polls: %d checks", checks())
		}
		e.m.Recheck()
		time.Sleep(50 * time.Millisecond)
	}
	if n := usage(); n != 1 {
		t.Errorf("usage fetched %d times while the manager's clock stood still, want 1", n)
	}
	if n := agents(); n != 1 {
		t.Errorf("agents fetched %d times while the manager's clock stood still, want 1", n)
	}
	e.clock.Advance(e.config(DefaultSettings()).PollIdle)
	waitFor(t, "usage fetched again", 10*time.Second, func() bool { e.m.Recheck(); return usage() >= 2 })
}
