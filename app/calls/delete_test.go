package calls

import (
	"context"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// "Delete call records" off (the default): an ended, settled call is never
// DELETEd.
func TestDeleteRecordsOffSendsNoDelete(t *testing.T) {
	e := newEnv(t, envOpt{})
	v := e.startBilling()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.waitEvent(EventBilledSummary, 10*time.Second)
	// A few more checks after the settle, when a delete would have gone.
	// Every check reads the account; it lists calls only when the account
	// says some are live (the cheap idle poll).
	checks := func() int { return len(e.sim.RequestsTo("GET", "/api/accounts/me")) }
	n := checks()
	waitFor(t, "more checks", 10*time.Second, func() bool { e.m.Recheck(); return checks() >= n+3 })
	if d := e.sim.RequestsTo("DELETE", "/api/calls/"); len(d) != 0 {
		t.Fatalf("%d DELETE requests with delete-records off: %+v", len(d), d)
	}
}

// With "delete call records" on, a call whose billing never settled is not
// deleted when the app stops waiting for it (settleLimit): deleting it would
// throw away the server's only billing record before it exists.
func TestUnsettledCallIsNotDeleted(t *testing.T) {
	e := newEnv(t, envOpt{fake: true, settings: func(s *Settings) { s.DeleteAfterEnd = true },
		sim: []simtest.Option{func(o *simulator.Options) { o.SettleDelay = 24 * time.Hour }}})
	v := e.startBilling()
	e.clock.Advance(30 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(settleLimit + time.Minute)
	e.m.Recheck()
	e.waitSnap("given up settling", 10*time.Second, func(s Snapshot) bool { return len(s.History) == 1 })
	// Every check reads the account; it lists calls only when the account
	// says some are live (the cheap idle poll).
	checks := func() int { return len(e.sim.RequestsTo("GET", "/api/accounts/me")) }
	n := checks()
	waitFor(t, "more checks", 10*time.Second, func() bool { e.m.Recheck(); return checks() >= n+3 })
	if d := e.sim.RequestsTo("DELETE", "/api/calls/"); len(d) != 0 {
		t.Fatalf("an unsettled call was deleted: %+v", d)
	}
	if c, _ := e.sim.Call(v.ID); c.Ended == nil {
		t.Fatalf("call not ended: %+v", c)
	}
}
