package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// Ending soon fires once, EndingSoonLead before maxDuration counted from the
// server's join time (injected clock): the default 240 s call with a 30 s
// lead at joined+210 s, a 60 s call at joined+30 s.
func TestEndingSoonOnceAtTheRightTime(t *testing.T) {
	for _, max := range []time.Duration{240 * time.Second, 60 * time.Second} {
		t.Run(max.String(), func(t *testing.T) {
			e := newEnv(t, envOpt{fake: true, settings: func(s *Settings) { s.MaxDuration = max; s.EndingSoonLead = 30 * time.Second }})
			v := e.startBilling()
			due := v.Joined.Add(max - 30*time.Second)

			e.clock.Advance(due.Add(-time.Second).Sub(e.clock.Now()))
			e.m.Recheck()
			time.Sleep(300 * time.Millisecond) // several live polls
			if n := e.rec.count(EventEndingSoon); n != 0 {
				t.Fatalf("ending soon fired %d times 1 s early", n)
			}
			e.clock.Advance(time.Second)
			e.m.Recheck()
			ev := e.waitEvent(EventEndingSoon, 5*time.Second)
			if !ev.Time.Equal(due) {
				t.Errorf("ending soon at %v, want %v (joined + maxDuration - 30 s)", ev.Time, due)
			}
			if !strings.Contains(ev.Message, "0:30") {
				t.Errorf("message %q should say 0:30 left", ev.Message)
			}
			e.clock.Advance(10 * time.Second)
			e.m.Recheck()
			time.Sleep(300 * time.Millisecond)
			if n := e.rec.count(EventEndingSoon); n != 1 {
				t.Fatalf("ending soon fired %d times", n)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := e.m.End(ctx, v.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A call whose whole length is within the warning lead (maxDuration <=
// EndingSoonLead) gets no ending-soon warning: not at its start, and not
// later. A lead of 0 turns the warning off.
func TestNoEndingSoonForShortCalls(t *testing.T) {
	for _, c := range []struct{ max, lead time.Duration }{
		{20 * time.Second, 30 * time.Second},
		{30 * time.Second, 30 * time.Second},
		{60 * time.Second, 0},
	} {
		t.Run(fmt.Sprintf("%s-%s", c.max, c.lead), func(t *testing.T) {
			e := newEnv(t, envOpt{fake: true, settings: func(s *Settings) { s.MaxDuration = c.max; s.EndingSoonLead = c.lead }})
			v := e.startBilling()
			// Up to a second before the limit, in steps, with polls between.
			for e.clock.Now().Before(v.Joined.Add(c.max - time.Second)) {
				e.clock.Advance(min(5*time.Second, v.Joined.Add(c.max-time.Second).Sub(e.clock.Now())))
				e.m.Recheck()
				time.Sleep(150 * time.Millisecond)
			}
			if n := e.rec.count(EventEndingSoon); n != 0 {
				t.Fatalf("ending soon fired %d times for a %s call with a %s lead: %s", n, c.max, c.lead, describeEvents(e.rec.all()))
			}
			if s := e.m.Snapshot(); len(s.Ours) != 1 || s.Ours[0].State != CallBilling {
				t.Fatalf("call not billing: %v", briefCalls(s.Ours))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := e.m.End(ctx, v.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// End and a server-side end at the same moment: one end, one event, no
// error, nothing left in the journal.
func TestConcurrentEndAndServerEnd(t *testing.T) {
	for i := 0; i < 3; i++ {
		t.Run("", func(t *testing.T) {
			e := newEnv(t, envOpt{})
			v := e.startBilling()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			var endErr, forceErr error
			wg.Add(2)
			go func() { defer wg.Done(); endErr = e.m.End(ctx, v.ID) }()
			go func() { defer wg.Done(); forceErr = e.sim.ForceEnd(v.ID, simulator.EndTimeout) }()
			wg.Wait()
			if endErr != nil {
				t.Fatalf("End: %v", endErr)
			}
			_ = forceErr // either side may win the race
			e.waitSnap("no live call", 5*time.Second, func(s Snapshot) bool { return len(s.Ours) == 0 })
			time.Sleep(300 * time.Millisecond)
			n := 0
			for _, k := range []EventKind{EventTimedOut, EventEnded, EventEndedByAgent, EventConnectionLost} {
				n += e.rec.count(k)
			}
			if n != 1 || e.rec.count(EventEndUnconfirmed) != 0 {
				t.Fatalf("%d end events: %s", n, describeEvents(e.rec.all()))
			}
			if js := e.journalEntries(); len(js) != 0 {
				t.Fatalf("journal: %+v", js)
			}
			srv, _ := e.sim.Call(v.ID)
			if srv.Ended == nil {
				t.Fatal("the server still has the call live")
			}
		})
	}
}

// End while offline: the state stays "end unconfirmed" (billing risk) and
// the journal keeps the call, until the server answers again; then the call
// is hung up over REST (our socket close never arrived) and confirmed.
func TestEndWhileOffline(t *testing.T) {
	e := newEnv(t, envOpt{proxy: true})
	v := e.startBilling()
	e.proxy.setDown(true, false)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := e.m.End(ctx, v.ID)
	if err == nil || !strings.Contains(err.Error(), "could not confirm") {
		t.Fatalf("End while offline: %v", err)
	}
	s := e.m.Snapshot()
	if len(s.Ours) != 1 || s.Ours[0].State != CallEndUnconfirmed || s.Overall != OverallBilling {
		t.Fatalf("after an unconfirmed end: overall %v, ours %+v", s.Overall, briefCalls(s.Ours))
	}
	if !e.m.HasLiveCalls() {
		t.Fatal("HasLiveCalls false while the end is unconfirmed")
	}
	ev := e.waitEvent(EventEndUnconfirmed, time.Second)
	if ev.Call.ID != v.ID || !strings.Contains(ev.Message, "may still be billing") {
		t.Errorf("unconfirmed event %+v", ev)
	}
	if js := e.journalEntries(); len(js) != 1 || js[0].CallID != v.ID {
		t.Fatalf("journal must keep the unconfirmed call: %+v", js)
	}
	time.Sleep(time.Second)
	if s := e.m.Snapshot(); len(s.Ours) != 1 || s.Ours[0].State != CallEndUnconfirmed || s.Health != HealthOffline {
		t.Fatalf("while offline: health %v, ours %+v", s.Health, briefCalls(s.Ours))
	}
	if srv, _ := e.sim.Call(v.ID); srv.Ended != nil {
		t.Fatal("the server heard about the end through a dead network")
	}

	e.proxy.setDown(false, false)
	e.waitSnap("end confirmed after the network came back", 15*time.Second, func(s Snapshot) bool { return len(s.Ours) == 0 })
	e.waitEvent(EventEnded, time.Second)
	e.waitEvent(EventBackOnline, 5*time.Second)
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal after confirmation: %+v", js)
	}
	if hs := e.sim.RequestsTo("POST", "/api/calls/"+v.ID+"/send_data_message"); len(hs) == 0 {
		t.Fatal("the call was not hung up over REST after the network came back")
	}
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	if n := e.rec.count(EventEndUnconfirmed); n != 1 {
		t.Errorf("%d unconfirmed events, want 1", n)
	}
}

// EndEverything with a server that hangs finishes within its deadline and
// reports what stayed unconfirmed; the next start resolves it.
func TestEndEverythingSlowServer(t *testing.T) {
	e := newEnv(t, envOpt{proxy: true})
	v := e.startBilling()
	e.proxy.setDown(true, true) // REST hangs; the call socket still works
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	t0 := time.Now()
	left := e.m.EndEverything(ctx)
	took := time.Since(t0)
	t.Logf("EndEverything with a hanging server took %v (deadline 2s)", took)
	if took > 3*time.Second {
		t.Fatalf("EndEverything took %v with a 2 s deadline", took)
	}
	if len(left) != 1 || left[0].ID != v.ID || left[0].State != CallEndUnconfirmed {
		t.Fatalf("unconfirmed = %+v", left)
	}
	// Local teardown came first: the socket was closed, so the server ended
	// the websocket call although REST hangs.
	waitFor(t, "server-side end by the socket close", 5*time.Second, func() bool {
		srv, _ := e.sim.Call(v.ID)
		return srv.Ended != nil
	})
	if js := e.journalEntries(); len(js) != 1 {
		t.Fatalf("journal must keep the unconfirmed call: %+v", js)
	}
	e.close()
	e.proxy.setDown(false, false)

	// Next start: the journal entry is resolved and reported.
	m2, err := New(e.config(e.m2Settings()))
	if err != nil {
		t.Fatal(err)
	}
	e.m, e.rec = m2, record(m2)
	ev := e.waitEvent(EventRecoveredEnded, 10*time.Second)
	if ev.Call.ID != v.ID {
		t.Fatalf("recovered %+v", ev.Call)
	}
	waitFor(t, "journal empty", 5*time.Second, func() bool { return len(e.journalEntries()) == 0 })
}

func (e *env) m2Settings() Settings { return testSettings(e.sim) }

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Calls live on the account that we did not start show as billing
// elsewhere (one event per call), and EndAll ends them.
func TestStrayCallsAndEndAll(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	agent := e.sim.Agents()[1]
	id, err := e.sim.StartCallElsewhere(agent.AgentID, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	unjoined, err := e.sim.StartCallElsewhere("", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := e.waitSnap("billing elsewhere", 5*time.Second, func(s Snapshot) bool { return len(s.Elsewhere) == 2 })
	if s.Overall != OverallBilling {
		t.Fatalf("overall %v with a call billing elsewhere", s.Overall)
	}
	var stray CallView
	for _, c := range s.Elsewhere {
		if c.ID == id {
			stray = c
		}
	}
	if stray.Ours || stray.AgentName != agent.Name || stray.State != CallBilling || stray.Joined.IsZero() {
		t.Fatalf("stray call view %+v", stray)
	}
	time.Sleep(400 * time.Millisecond) // more polls: still one event
	if n := e.rec.count(EventBillingElsewhere); n != 1 {
		t.Fatalf("%d billing-elsewhere events, want 1 (the unjoined call does not bill)", n)
	}
	if ev := e.waitEvent(EventBillingElsewhere, time.Second); ev.Call.ID != id {
		t.Fatalf("event for %s", ev.Call.ID)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = e.m.EndAll(ctx)
	// The unjoined one cannot be ended (422); EndAll says so and it costs
	// nothing.
	if err == nil || !strings.Contains(err.Error(), "not joined") || !strings.Contains(err.Error(), "costs nothing") {
		t.Fatalf("EndAll: %v", err)
	}
	srv, _ := e.sim.Call(id)
	if srv.Ended == nil {
		t.Fatal("EndAll left the stray call live")
	}
	if hs := e.sim.RequestsTo("POST", "/api/calls/"+id+"/send_data_message"); len(hs) == 0 {
		t.Fatal("no REST hang_up sent for the stray call")
	}
	if err := e.sim.ForceEnd(unjoined, simulator.EndUnjoined); err != nil {
		t.Fatal(err)
	}
	e.waitSnap("nothing elsewhere", 5*time.Second, func(s Snapshot) bool { return len(s.Elsewhere) == 0 && s.Overall == OverallIdle })
}

// An old call beyond the recent-calls window is found through the
// activeCalls cross-check.
func TestActiveCallsCrossCheck(t *testing.T) {
	e := newEnv(t, envOpt{fake: true})
	id, err := e.sim.StartCallElsewhere("", true, 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour) // older than the 1 h 10 min window
	s := e.waitSnap("old call found", 5*time.Second, func(s Snapshot) bool { return len(s.Elsewhere) == 1 })
	if s.Elsewhere[0].ID != id || s.Unaccounted != 0 || s.Overall != OverallBilling {
		t.Fatalf("snapshot: %+v unaccounted %d overall %v", s.Elsewhere, s.Unaccounted, s.Overall)
	}
	if err := e.sim.ForceEnd(id, simulator.EndHangup); err != nil {
		t.Fatal(err)
	}
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
}

// A 422 on an unjoined call of ours is not a failure: it costs nothing and
// is watched until it expires unjoined.
func TestEndUnjoinedCall(t *testing.T) {
	e := newEnv(t, envOpt{settings: func(s *Settings) { s.JoinTimeout = 2 * time.Second }})
	e.close()
	// The app wrote its journal entry, sent the create and crashed before
	// the answer: the call exists, nobody joined it.
	rid := newID()
	e.putJournal(journalEntry{RequestID: rid, Started: time.Now().UTC(), State: "creating"})
	call := e.createDirect(rid, 2*time.Second)

	m2, err := New(e.config(e.m2Settings()))
	if err != nil {
		t.Fatal(err)
	}
	e.m, e.rec = m2, record(m2)
	s := e.waitSnap("found by request id, not joined", 5*time.Second, func(s Snapshot) bool {
		return len(s.Ours) == 1 && s.Ours[0].ID == call.CallID && strings.Contains(s.Ours[0].Note, "costs nothing")
	})
	if s.Ours[0].State == CallEndUnconfirmed {
		t.Fatalf("an unjoined call is not an unconfirmed end: %+v", s.Ours[0])
	}
	ev := e.waitEvent(EventRecoveredEnded, 10*time.Second)
	if ev.Call.EndReason != ultravox.EndReasonUnjoined || !strings.Contains(ev.Message, "cost nothing") {
		t.Fatalf("event %+v", ev)
	}
	if n := e.rec.count(EventEndUnconfirmed); n != 0 {
		t.Fatalf("%d unconfirmed events for a free unjoined call", n)
	}
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal: %+v", js)
	}
}

func (e *env) putJournal(entries ...journalEntry) {
	e.t.Helper()
	j, prob := openJournal(e.dir, time.Now())
	if prob != nil {
		e.t.Fatal(prob)
	}
	for _, en := range entries {
		if err := j.Put(en); err != nil {
			e.t.Fatal(err)
		}
	}
}

// createDirect creates a call the way the manager would (our metadata and
// request id) without the manager: the answer "was lost".
func (e *env) createDirect(rid string, joinTimeout time.Duration) *ultravox.Call {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := e.client.CreateAgentCall(ctx, e.sim.Agents()[0].AgentID, ultravox.StartAgentCallRequest{
		Metadata:    map[string]string{ultravox.MetaRequestID: rid, ultravox.MetaApp: "ultravox-tray/test"},
		Medium:      &ultravox.CallMedium{ServerWebSocket: &ultravox.ServerWebSocketMedium{InputSampleRate: 16000, OutputSampleRate: 16000}},
		JoinTimeout: ultravox.DurationOf(joinTimeout).Ptr(),
		MaxDuration: ultravox.DurationOf(2 * time.Minute).Ptr(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// Removing the key during a call does not strand it: the call keeps the
// client it was created with, so End still confirms it.
func TestKeyRemovedDuringCall(t *testing.T) {
	e := newEnv(t, envOpt{})
	v := e.startBilling()
	e.m.SetClient(nil)
	if s := e.m.Snapshot(); s.Health != HealthNoKey || s.Overall != OverallBilling {
		t.Fatalf("without a key during a call: %v %v", s.Health, s.Overall)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatalf("End after the key was removed: %v", err)
	}
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal: %+v", js)
	}
}

// A start is refused while a call from an earlier session is still being
// ended, so the two can never bill at once.
func TestStartRefusedDuringRecovery(t *testing.T) {
	e := newEnv(t, envOpt{proxy: true})
	e.close()
	e.proxy.setDown(true, false) // recovery cannot finish
	e.putJournal(journalEntry{RequestID: newID(), CallID: "8d1c0c2e-58a4-4a43-9d2a-6a3f1d3b2c11", Started: time.Now().UTC(), State: "billing"})
	m2, err := New(e.config(e.m2Settings()))
	if err != nil {
		t.Fatal(err)
	}
	e.m, e.rec = m2, record(m2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = m2.Start(ctx, "")
	if !errors.Is(err, ErrCallInProgress) || !strings.Contains(err.Error(), "earlier session") {
		t.Fatalf("Start during recovery: %v", err)
	}
	if s := m2.Snapshot(); s.Overall == OverallIdle || len(s.Ours) != 1 || !s.Ours[0].Recovered {
		t.Fatalf("during recovery: %v %+v", s.Overall, briefCalls(s.Ours))
	}
	e.proxy.setDown(false, false)
	e.waitEvent(EventRecoveredEnded, 15*time.Second)
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
}

// EndOurs (the menu's "End call") ends our live call and leaves a call
// billing elsewhere on the account alone: no hang-up is sent for it and it
// still shows as billing elsewhere.
func TestEndOursLeavesCallsElsewhere(t *testing.T) {
	e := newEnv(t, envOpt{})
	v := e.startBilling()
	other, err := e.sim.StartCallElsewhere(e.sim.Agents()[1].AgentID, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.waitSnap("billing elsewhere", 5*time.Second, func(s Snapshot) bool { return len(s.Elsewhere) == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.EndOurs(ctx); err != nil {
		t.Fatalf("EndOurs: %v", err)
	}
	if srv, _ := e.sim.Call(v.ID); srv.Ended == nil {
		t.Fatal("EndOurs left our call live on the server")
	}
	if ev := e.waitEvent(EventEnded, 5*time.Second); ev.Call.ID != v.ID {
		t.Fatalf("ended event for %s, our call is %s", ev.Call.ID, v.ID)
	}
	if srv, _ := e.sim.Call(other); srv.Ended != nil {
		t.Fatalf("EndOurs ended the call billing elsewhere (at %v)", *srv.Ended)
	}
	if hs := e.sim.RequestsTo("POST", "/api/calls/"+other+"/"); len(hs) != 0 {
		t.Fatalf("EndOurs sent %d request(s) to the call billing elsewhere", len(hs))
	}
	s := e.waitSnap("ours gone, elsewhere still billing", 5*time.Second, func(s Snapshot) bool {
		return len(s.Ours) == 0 && len(s.Elsewhere) == 1
	})
	if s.Elsewhere[0].ID != other || s.Overall != OverallBilling {
		t.Fatalf("after EndOurs: elsewhere %v, overall %v", briefCalls(s.Elsewhere), s.Overall)
	}
	if err := e.m.EndOurs(ctx); err != nil {
		t.Fatalf("EndOurs with nothing of ours live: %v", err)
	}
	if srv, _ := e.sim.Call(other); srv.Ended != nil {
		t.Fatal("a second EndOurs ended the call billing elsewhere")
	}
}
