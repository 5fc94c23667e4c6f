package ultravox_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// The client reads the simulator's answers in every alternative format it
// can send (durations as fractions, clock and day forms; timestamps with
// offsets) with the same values as in the canonical form.
func TestClientReadsAlternativeFormats(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false; o.SettleDelay = -1 })
	c := simClient(t, sim)
	ctx := context.Background()
	id, err := sim.StartCallElsewhere(sim.Agents()[0].AgentID, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := sim.ForceEnd(id, simulator.EndHangup); err != nil {
		t.Fatal(err)
	}
	want, err := c.GetCall(ctx, id)
	if err != nil || want.BilledDuration == nil {
		t.Fatalf("canonical call: %+v, %v", want, err)
	}
	wantAcc, err := c.GetAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []simulator.Formats{
		{Durations: simulator.DurationFraction},
		{Durations: simulator.DurationClock},
		{Durations: simulator.DurationDays},
		{OffsetTimes: true},
		{Durations: simulator.DurationDays, OffsetTimes: true},
	} {
		if err := sim.SetFormats(f); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetCall(ctx, id)
		if err != nil {
			t.Fatalf("%+v: GetCall: %v", f, err)
		}
		if got.BilledDuration == nil || *got.BilledDuration != *want.BilledDuration || !got.Created.Equal(want.Created) ||
			!got.Joined.Equal(*want.Joined) || !got.Ended.Equal(*want.Ended) {
			t.Errorf("%+v: call read as billed %v created %v joined %v ended %v; want %v %v %v %v", f,
				got.BilledDuration, got.Created, got.Joined, got.Ended, want.BilledDuration, want.Created, *want.Joined, *want.Ended)
		}
		acc, err := c.GetAccount(ctx)
		if err != nil {
			t.Fatalf("%+v: GetAccount: %v", f, err)
		}
		if acc.FreeTimeUsed != wantAcc.FreeTimeUsed || acc.FreeTimeRemaining != wantAcc.FreeTimeRemaining {
			t.Errorf("%+v: free time used %v remaining %v, want %v %v", f, acc.FreeTimeUsed, acc.FreeTimeRemaining, wantAcc.FreeTimeUsed, wantAcc.FreeTimeRemaining)
		}
		page, err := c.ListCalls(ctx, ultravox.ListCallsParams{})
		if err != nil || len(page.Results) != 1 || page.Results[0].BilledDuration == nil || *page.Results[0].BilledDuration != *want.BilledDuration {
			t.Errorf("%+v: list %+v, %v", f, page, err)
		}
	}
}

// An ambiguous create (the call was made, the answer lost) while the
// server's metadata filter lags: the filtered lookup finds nothing, the
// unfiltered one finds the call, and no second call is created.
func TestAmbiguousCreateLooksUpUnfiltered(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false })
	sim.SetMetadataIndexLag(time.Hour)
	c := simClient(t, sim)
	sim.FailNextAfterHandling(1, 502)
	rid := uuid.NewString()
	call, err := c.CreateAgentCall(context.Background(), sim.Agents()[0].AgentID, wsRequest(rid))
	if err != nil {
		t.Fatal(err)
	}
	var ours int
	for _, r := range sim.Requests() {
		if r.Method == "POST" && r.Path == "/api/agents/"+sim.Agents()[0].AgentID+"/calls" {
			ours++
		}
	}
	if ours != 1 || call.RequestID() != rid {
		t.Fatalf("%d creates sent (want 1); returned call %s with request id %q", ours, call.CallID, call.RequestID())
	}
}
