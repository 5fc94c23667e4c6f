package calls

import "testing"

// Every move between end phases, allowed or not, written out here apart
// from endTransitions so that a change to the table shows up as a failure.
func TestEndPhaseTransitions(t *testing.T) {
	all := []endPhase{endNone, endRequested, endTearingDown, endConfirming, endNeverJoined,
		endRecheckingUnjoined, endUnconfirmed, endConfirmed}
	allowed := map[[2]endPhase]bool{
		{endNone, endRequested}: true, // End, EndAll, EndEverything, a dropped socket, recovery
		{endNone, endConfirmed}: true, // the server ended it on its own

		{endRequested, endTearingDown}: true, // the attempt starts
		{endRequested, endConfirmed}:   true, // seen ended by the poll before any attempt

		{endTearingDown, endConfirming}: true,
		{endTearingDown, endConfirmed}:  true,

		{endConfirming, endNeverJoined}: true,
		{endConfirming, endUnconfirmed}: true,
		{endConfirming, endRequested}:   true, // Close interrupted the attempt
		{endConfirming, endConfirmed}:   true,

		{endNeverJoined, endRecheckingUnjoined}: true, // the watcher checks whether it expired
		{endNeverJoined, endConfirmed}:          true,

		{endRecheckingUnjoined, endNeverJoined}: true, // still not joined, or the check failed
		{endRecheckingUnjoined, endConfirmed}:   true,

		{endUnconfirmed, endTearingDown}: true, // the watcher retries
		{endUnconfirmed, endConfirmed}:   true,
	}
	for _, from := range all {
		for _, to := range all {
			p := from
			got := p.advance(to)
			want := allowed[[2]endPhase{from, to}]
			if got != want {
				t.Errorf("%s -> %s: advance = %v, want %v", from, to, got, want)
			}
			switch {
			case got && p != to:
				t.Errorf("%s -> %s: allowed, but the phase is %s", from, to, p)
			case !got && p != from:
				t.Errorf("%s -> %s: refused, but the phase changed to %s", from, to, p)
			}
		}
	}
	if len(endTransitions) != len(all) {
		t.Errorf("endTransitions lists %d phases, the test knows %d", len(endTransitions), len(all))
	}
}

// The questions the rest of the package asks of a phase.
func TestEndPhasePredicates(t *testing.T) {
	cases := []struct {
		p                          endPhase
		wanted, running, confirmed bool
	}{
		{endNone, false, false, false},
		{endRequested, true, false, false},
		{endTearingDown, true, true, false},
		{endConfirming, true, true, false},
		{endNeverJoined, true, false, false},
		{endRecheckingUnjoined, true, true, false},
		{endUnconfirmed, true, false, false},
		{endConfirmed, true, false, true},
	}
	for _, c := range cases {
		if c.p.wanted() != c.wanted || c.p.attemptRunning() != c.running || c.p.confirmed() != c.confirmed {
			t.Errorf("%s: wanted %v running %v confirmed %v, want %v %v %v", c.p,
				c.p.wanted(), c.p.attemptRunning(), c.p.confirmed(), c.wanted, c.running, c.confirmed)
		}
	}
	if s := endPhase(99).String(); s != "invalid" {
		t.Errorf("endPhase(99) = %q", s)
	}
}

// requestEnd keeps the first cause and moves only a call nobody asked to
// end; releaseEndWaitersLocked closes endDone once, and never while an
// attempt runs.
func TestRequestEndAndRelease(t *testing.T) {
	oc := &ourCall{}
	oc.requestEnd(causeSocketDropped)
	oc.requestEnd(causeUs)
	if oc.cause != causeSocketDropped || oc.end != endRequested || !oc.endAsked() {
		t.Fatalf("after two requests: cause %v phase %s", oc.cause, oc.end)
	}
	m := &Manager{}
	done := make(chan struct{})
	oc.endDone = done
	oc.end = endConfirming
	m.releaseEndWaitersLocked(oc)
	select {
	case <-done:
		t.Fatal("waiters released while the attempt runs")
	default:
	}
	oc.end.advance(endUnconfirmed)
	m.releaseEndWaitersLocked(oc)
	m.releaseEndWaitersLocked(oc) // a second call must not close it again
	select {
	case <-done:
	default:
		t.Fatal("waiters not released after the attempt")
	}
	if oc.endDone != nil {
		t.Fatal("endDone kept after release")
	}
	confirmed := &ourCall{}
	if !confirmed.end.advance(endConfirmed) {
		t.Fatal("a call nobody asked to end cannot be confirmed ended")
	}
	confirmed.requestEnd(causeUs)
	if confirmed.end != endConfirmed {
		t.Fatalf("requestEnd moved a confirmed end to %s", confirmed.end)
	}
}
