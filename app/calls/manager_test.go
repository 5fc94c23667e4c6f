package calls

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// start -> billing -> end: elapsed and cost come from the server's joined and
// ended times, with 6-second rounding; the journal holds the call exactly
// while it is live; billing settles into the history.
func TestStartBillingEnd(t *testing.T) {
	e := newEnv(t, envOpt{fake: true})
	e.waitSnap("first check", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })

	v := e.startBilling()
	started := e.waitEvent(EventCallStarted, 5*time.Second)
	if started.Call.ID != v.ID {
		t.Fatalf("started event for %s, call is %s", started.Call.ID, v.ID)
	}
	srv, _ := e.sim.Call(v.ID)
	if srv.Joined == nil || !v.Joined.Equal(*srv.Joined) {
		t.Fatalf("joined = %v, server says %v", v.Joined, srv.Joined)
	}
	if s := e.m.Snapshot(); s.Overall != OverallBilling || !e.m.HasLiveCalls() {
		t.Fatalf("overall %v while billing", s.Overall)
	}
	// The create request carried every explicit limit and our metadata.
	creates := e.sim.RequestsTo("POST", "/api/agents/")
	if len(creates) != 1 {
		t.Fatalf("%d create requests", len(creates))
	}
	var body map[string]any
	if err := json.Unmarshal(creates[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["maxDuration"] != "120s" || body["joinTimeout"] != "5s" {
		t.Errorf("limits not sent explicitly: %v", body)
	}
	ws := body["medium"].(map[string]any)["serverWebSocket"].(map[string]any)
	if ws["inputSampleRate"] != float64(16000) || ws["outputSampleRate"] != float64(16000) || ws["clientBufferSizeMs"] != float64(30000) {
		t.Errorf("medium = %v", ws)
	}
	meta := body["metadata"].(map[string]any)
	if meta[ultravox.MetaRequestID] != v.RequestID || meta[ultravox.MetaDevice] != "test-device" || meta[ultravox.MetaApp] != "ultravox-tray/test" || meta[ultravox.MetaSession] == "" {
		t.Errorf("metadata = %v", meta)
	}
	// The journal has the call while it is live.
	if js := e.journalEntries(); len(js) != 1 || js[0].CallID != v.ID || js[0].RequestID != v.RequestID {
		t.Fatalf("journal while live: %+v", js)
	}

	e.clock.Advance(37 * time.Second)
	now := e.clock.Now()
	if got := e.m.Snapshot().Ours[0].Elapsed(now); got != 37*time.Second {
		t.Fatalf("elapsed after 37 s = %v", got)
	}
	if got := e.m.Snapshot().Ours[0].Cost(now, 0.05); got != 0.035 {
		t.Fatalf("cost after 37 s = %v, want 0.035 (42 s billed)", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatalf("End: %v", err)
	}
	ended := e.waitEvent(EventEnded, 5*time.Second)
	if got := ended.Call.Elapsed(time.Time{}); got != 37*time.Second {
		t.Errorf("ended call elapsed = %v, want 37s from the server's times", got)
	}
	if !strings.Contains(ended.Message, "0:42") || !strings.Contains(ended.Message, "$0.04") {
		t.Errorf("end message %q should say 0:42 and about $0.04", ended.Message)
	}
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal after a confirmed end: %+v", js)
	}
	s := e.m.Snapshot()
	if len(s.Ours) != 0 || e.m.HasLiveCalls() {
		t.Fatalf("ours after end: %+v", s.Ours)
	}
	// Settling happens on the simulator's (fake) clock.
	e.clock.Advance(time.Second)
	sum := e.waitEvent(EventBilledSummary, 5*time.Second)
	if sum.Call.BilledDuration != 42*time.Second || sum.Call.BillingStatus != ultravox.BillingStatusBilled {
		t.Errorf("summary call = %+v", sum.Call)
	}
	h := e.waitSnap("history", 5*time.Second, func(s Snapshot) bool { return len(s.History) == 1 }).History[0]
	if h.CallID != v.ID || h.BilledDuration != 42*time.Second || h.Cost != 0.035 || h.EndReason == "" {
		t.Errorf("history entry %+v", h)
	}
	// Today's usage: the billed 0.7 minutes.
	e.waitSnap("today's usage", 5*time.Second, func(s Snapshot) bool { return s.TodayMinutes == 0.7 && s.TodayCost == 0.035 })
	e.waitSnap("idle again", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	if n := e.rec.count(EventCallStarted); n != 1 {
		t.Errorf("%d call-started events", n)
	}

	// The history survives a restart.
	e.close()
	hist, err := loadHistory(e.dir, time.Now())
	if err != nil || len(hist) != 1 || hist[0].CallID != v.ID {
		t.Fatalf("history on disk: %+v, %v", hist, err)
	}
}

// Double clicks must never create two calls.
func TestDoubleStart(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.waitSnap("first check", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = e.m.Start(ctx, "") }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrStartInProgress), errors.Is(err, ErrCallInProgress):
		default:
			t.Errorf("unexpected start error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d starts succeeded, want exactly 1 (errors %v)", ok, errs)
	}
	if n := len(e.sim.Calls()); n != 1 {
		t.Fatalf("simulator has %d calls", n)
	}
	_, err := e.m.Start(ctx, "")
	if !errors.Is(err, ErrCallInProgress) || !strings.Contains(err.Error(), "end it before starting another") {
		t.Fatalf("start during a call: %v", err)
	}
	if err := e.m.EndAll(ctx); err != nil {
		t.Fatalf("EndAll: %v", err)
	}
}

// Each end reason leads to the right event.
func TestServerEndReasons(t *testing.T) {
	cases := []struct {
		reason string
		want   EventKind
	}{
		{simulator.EndTimeout, EventTimedOut},
		{simulator.EndAgentHangup, EventEndedByAgent},
		{simulator.EndConnectionError, EventConnectionLost},
		{simulator.EndSystemError, EventConnectionLost},
		{simulator.EndHangup, EventConnectionLost},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			e := newEnv(t, envOpt{})
			v := e.startBilling()
			if err := e.sim.ForceEnd(v.ID, c.reason); err != nil {
				t.Fatal(err)
			}
			ev := e.waitEvent(c.want, 10*time.Second)
			if ev.Call.ID != v.ID || ev.Call.EndReason != c.reason {
				t.Fatalf("event call %+v", ev.Call)
			}
			e.waitSnap("no live calls", 5*time.Second, func(s Snapshot) bool { return len(s.Ours) == 0 })
			for _, k := range []EventKind{EventTimedOut, EventEndedByAgent, EventConnectionLost, EventEnded, EventEndUnconfirmed} {
				want := 0
				if k == c.want {
					want = 1
				}
				if n := e.rec.count(k); n != want {
					t.Errorf("%d %q events, want %d: %s", n, k, want, describeEvents(e.rec.all()))
				}
			}
			if js := e.journalEntries(); len(js) != 0 {
				t.Errorf("journal after the server ended the call: %+v", js)
			}
		})
	}
}

// maxDuration reached for real (no forced end): the agent speaks its
// time-exceeded message and the server ends the call with "timeout".
func TestMaxDurationTimesOut(t *testing.T) {
	e := newEnv(t, envOpt{settings: func(s *Settings) { s.MaxDuration = 2 * time.Second; s.EndingSoonLead = time.Second }})
	v := e.startBilling()
	soon := e.waitEvent(EventEndingSoon, 5*time.Second)
	ev := e.waitEvent(EventTimedOut, 10*time.Second)
	if ev.Call.ID != v.ID || ev.Call.EndReason != ultravox.EndReasonTimeout {
		t.Fatalf("timed-out event %+v", ev.Call)
	}
	if !soon.Time.Before(ev.Time) {
		t.Errorf("ending soon at %v, not before the timeout at %v", soon.Time, ev.Time)
	}
}

// DeleteAfterEnd removes the call's data on the server once it has ended
// and settled (never before: DELETE is not a way to end a call).
func TestDeleteAfterEnd(t *testing.T) {
	e := newEnv(t, envOpt{settings: func(s *Settings) { s.DeleteAfterEnd = true }})
	v := e.startBilling()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n := len(e.sim.RequestsTo("DELETE", "/api/calls/")); n != 0 {
		t.Fatalf("%d deletes while live", n)
	}
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	sum := e.waitEvent(EventBilledSummary, 10*time.Second)
	if sum.Call.ID != v.ID {
		t.Fatalf("summary for %s", sum.Call.ID)
	}
	waitFor(t, "delete after settle", 5*time.Second, func() bool {
		for _, r := range e.sim.RequestsTo("DELETE", "/api/calls/"+v.ID) {
			if r.Status == 204 {
				return true
			}
		}
		return false
	})
	for _, r := range e.sim.Requests() {
		if r.Method == "DELETE" && r.Time.Before(sum.Time) {
			t.Fatalf("deleted before the billing settled")
		}
	}
}

// The journal entry is on disk before the create request reaches the
// server: checked by the server itself when the request arrives.
func TestJournalWrittenBeforeCreate(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var seen []string // request ids on disk when each create arrived
	check := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/calls") {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				var req struct {
					Metadata map[string]string `json:"metadata"`
				}
				_ = json.Unmarshal(body, &req)
				j, _ := openJournal(dir, time.Now())
				for _, en := range j.Entries() {
					if en.RequestID == req.Metadata[ultravox.MetaRequestID] && en.CallID == "" {
						mu.Lock()
						seen = append(seen, en.RequestID)
						mu.Unlock()
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, envOpt{dir: dir, sim: []simtest.Option{func(o *simulator.Options) { o.Middleware = check }}})
	v := e.startBilling()
	mu.Lock()
	got := append([]string(nil), seen...)
	mu.Unlock()
	if len(got) != 1 || got[0] != v.RequestID {
		t.Fatalf("journal entries seen by the server at create time: %v, want [%s]", got, v.RequestID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
}
