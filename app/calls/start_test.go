package calls

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// The user cancels a start after the create request reached Ultravox, which
// created the call but whose answer never came back. The client reports the
// create as maybe created; the journal entry stays, the manager finds the
// call by its request id, and the entry goes only once the server says the
// call ended (here it was never joined: it expires, free).
func TestStartCanceledAfterTheCreateArrived(t *testing.T) {
	created := make(chan struct{})
	var once atomic.Bool
	// The create takes effect, then its answer is held until the client
	// gives up, and dropped.
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/calls") || !once.CompareAndSwap(false, true) {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(httptest.NewRecorder(), r)
			close(created)
			<-r.Context().Done()
			panic(http.ErrAbortHandler)
		})
	}
	e := newEnv(t, envOpt{
		sim:      []simtest.Option{func(o *simulator.Options) { o.Middleware = hold }},
		settings: func(s *Settings) { s.JoinTimeout = 2 * time.Second },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-created
		cancel()
	}()
	_, err := e.m.Start(ctx, "")
	if err == nil || !ultravox.IsCanceled(err) || !ultravox.MaybeCreated(err) || !strings.Contains(err.Error(), "it will be found and ended") {
		t.Fatalf("Start: %v (maybe created %v)", err, ultravox.MaybeCreated(err))
	}
	js := e.journalEntries()
	if len(js) != 1 || js[0].CallID != "" {
		t.Fatalf("journal after the lost answer: %+v", js)
	}
	calls := e.sim.Calls()
	if len(calls) != 1 || calls[0].Metadata[ultravox.MetaRequestID] != js[0].RequestID {
		t.Fatalf("server calls: %+v", calls)
	}
	e.waitSnap("the call found by its request id", 5*time.Second, func(s Snapshot) bool {
		return len(s.Ours) == 1 && s.Ours[0].ID == calls[0].CallID
	})
	deadline := time.Now().Add(15 * time.Second)
	for len(e.journalEntries()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("journal still holds %+v", e.journalEntries())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, _ := e.sim.Call(calls[0].CallID)
	if c.Ended == nil || c.EndReason == nil || *c.EndReason != simulator.EndUnjoined {
		t.Fatalf("the journal entry went before the server ended the call: %+v", c)
	}
	if n := len(e.sim.Calls()); n != 1 {
		t.Fatalf("%d calls on the server", n)
	}
}

// A create that never left (the connection was refused) cannot have made a
// call: the entry goes at once and the error says so plainly.
func TestStartRefusedConnectionLeavesNoEntry(t *testing.T) {
	e := newEnv(t, envOpt{})
	base := e.sim.URL()
	e.sim.Close()
	client := newClient(t, base, e.sim.APIKey(), e.logger)
	e.m.SetClient(client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.m.Start(ctx, e.sim.Agents()[0].AgentID)
	if err == nil || ultravox.MaybeCreated(err) || strings.Contains(err.Error(), "found and ended") {
		t.Fatalf("Start against a closed port: %v", err)
	}
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal: %+v", js)
	}
	if s := e.m.Snapshot(); len(s.Ours) != 0 {
		t.Fatalf("ours after a create that never left: %+v", s.Ours)
	}
}

// As above, but the watcher chose its idle interval (30 s in the app)
// before the start: the call found by its request id was never joined, and
// the watcher is woken to recheck it at the live interval, so the app is
// idle again soon after the call expires, not a whole idle interval later.
// (Campaign seed 27: "Ending" 20 s after the stop.)
func TestNeverJoinedCallAfterAnIdlePollIsRecheckedSoon(t *testing.T) {
	created := make(chan struct{})
	var once atomic.Bool
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/calls") || !once.CompareAndSwap(false, true) {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(httptest.NewRecorder(), r)
			close(created)
			<-r.Context().Done()
			panic(http.ErrAbortHandler)
		})
	}
	e := newEnv(t, envOpt{
		sim:      []simtest.Option{func(o *simulator.Options) { o.Middleware = hold }},
		settings: func(s *Settings) { s.JoinTimeout = 2 * time.Second },
		pollIdle: time.Minute,
	})
	e.waitSnap("first check", 5*time.Second, func(s Snapshot) bool { return s.Health == HealthOK })
	time.Sleep(200 * time.Millisecond) // the watcher is now waiting out its idle minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-created
		cancel()
	}()
	if _, err := e.m.Start(ctx, ""); err == nil {
		t.Fatal("Start succeeded")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(e.journalEntries()) != 0 || len(e.m.Snapshot().Ours) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the start the never-joined call is still watched: journal %+v, calls %v", e.journalEntries(), briefCalls(e.m.Snapshot().Ours))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := e.rec.count(EventUnjoinedExpired); n != 1 {
		t.Errorf("%d 'unjoined call expired' events: %s", n, describeEvents(e.rec.all()))
	}
}
