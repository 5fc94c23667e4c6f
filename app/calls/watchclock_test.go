package calls

import (
	"testing"
	"time"
)

// watch.go decides when to fetch the billing usage and the agents list by
// the manager's clock, like everything else it times: with a clock that
// stands still, a few real polls fetch each once; moving the clock to just
// before usageRefresh (an hour: usage is otherwise refreshed when a call
// settles or ends elsewhere, issue 11) fetches neither again, and moving it
// past fetches both. (It used time.Since against a time taken from the
// manager's clock, so a clock other than the machine's refetched the usage
// on every poll, or never.)
func TestWatchTimesFetchesByTheManagersClock(t *testing.T) {
	e := newEnv(t, envOpt{fake: true})
	e.waitSnap("first check", 5*time.Second, func(s Snapshot) bool { return s.Health == HealthOK })
	usage := func() int { return len(e.sim.RequestsTo("GET", "/api/accounts/me/billing/usage")) }
	agents := func() int { return len(e.sim.RequestsTo("GET", "/api/agents")) }
	checks := func() int { return len(e.sim.RequestsTo("GET", "/api/accounts/me")) - usage() }
	// Several real polls (PollIdle is 400 ms of real time) while the
	// manager's clock stands still.
	polls := func(what string) {
		t.Helper()
		before := checks()
		for deadline := time.Now().Add(20 * time.Second); checks() < before+3; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no polls: %d checks", what, checks())
			}
			e.m.Recheck()
			time.Sleep(50 * time.Millisecond)
		}
	}
	polls("clock still")
	if n := usage(); n != 1 {
		t.Errorf("usage fetched %d times while the manager's clock stood still, want 1", n)
	}
	if n := agents(); n != 1 {
		t.Errorf("agents fetched %d times while the manager's clock stood still, want 1", n)
	}
	// Polls an instant short of the refresh interval fetch nothing more.
	pollIdle := e.config(DefaultSettings()).PollIdle
	e.clock.Advance(usageRefresh - pollIdle)
	polls("just before the refresh")
	if n := usage(); n != 1 {
		t.Errorf("usage fetched %d times before usageRefresh (%v) passed on the manager's clock, want 1", n, usageRefresh)
	}
	if n := agents(); n != 1 {
		t.Errorf("agents fetched %d times before agentsRefresh (%v) passed on the manager's clock, want 1", n, agentsRefresh)
	}
	e.clock.Advance(pollIdle)
	waitFor(t, "usage and agents fetched again", 10*time.Second, func() bool {
		e.m.Recheck()
		return usage() >= 2 && agents() >= 2
	})
}
