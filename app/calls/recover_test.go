package calls

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// Crash mid-call: the manager is dropped without End and the server never
// hears the connection go (the call stays live on the simulator). A new
// manager on the same journal ends it with the REST hang_up and reports it.
func TestCrashRecoveryMidCall(t *testing.T) {
	e := newEnv(t, envOpt{proxy: true})
	v := e.startBilling()
	e.proxy.crash()
	e.close() // no End: Close leaves the journal alone
	time.Sleep(200 * time.Millisecond)
	srv, _ := e.sim.Call(v.ID)
	if srv.Ended != nil {
		t.Fatalf("the simulator call ended (%s) although the server never heard the crash", *srv.EndReason)
	}
	if js := e.journalEntries(); len(js) != 1 || js[0].CallID != v.ID || js[0].Joined.IsZero() {
		t.Fatalf("journal after the crash: %+v", js)
	}

	m2, err := New(e.config(e.m2Settings()))
	if err != nil {
		t.Fatal(err)
	}
	e.m, e.rec = m2, record(m2)
	// Until it is confirmed, the recovered call is a billing risk.
	if s := m2.Snapshot(); len(s.Ours) != 1 || !s.Ours[0].Recovered || s.Overall == OverallIdle {
		t.Fatalf("recovered call not shown: %v %+v", s.Overall, s.Ours)
	}
	ev := e.waitEvent(EventRecoveredEnded, 10*time.Second)
	if ev.Call.ID != v.ID || !strings.Contains(ev.Message, "earlier session") {
		t.Fatalf("event %+v", ev)
	}
	srv, _ = e.sim.Call(v.ID)
	if srv.Ended == nil || *srv.EndReason != ultravox.EndReasonAgentHangup {
		t.Fatalf("server call after recovery: ended %v reason %v", srv.Ended, srv.EndReason)
	}
	if hs := e.sim.RequestsTo("POST", "/api/calls/"+v.ID+"/send_data_message"); len(hs) != 1 {
		t.Fatalf("%d REST hang_ups", len(hs))
	}
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle && len(s.Ours) == 0 })
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal: %+v", js)
	}
	if n := e.rec.count(EventCallStarted); n != 0 {
		t.Errorf("a recovered call must not announce itself as started")
	}
}

// The create request was sent, the app crashed before its answer: the
// journal has only the request id. The next start finds the call by its
// metadata and ends it (here it was even joined elsewhere and billing).
func TestCrashRecoveryCreateAnswerLost(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.close()
	rid := newID()
	e.putJournal(journalEntry{RequestID: rid, Started: time.Now().UTC(), State: "creating", SessionID: "earlier"})
	call := e.createDirect(rid, 30*time.Second)
	if err := e.sim.JoinElsewhere(call.CallID); err != nil {
		t.Fatal(err)
	}
	// A journal entry for a create that never reached the server at all.
	never := newID()
	e.putJournal(journalEntry{RequestID: never, Started: time.Now().UTC(), State: "creating", SessionID: "earlier"})

	m2, err := New(e.config(e.m2Settings()))
	if err != nil {
		t.Fatal(err)
	}
	e.m, e.rec = m2, record(m2)
	waitFor(t, "both entries resolved", 10*time.Second, func() bool { return e.rec.count(EventRecoveredEnded) == 2 })
	var got []string
	for _, ev := range e.rec.all() {
		if ev.Kind == EventRecoveredEnded {
			got = append(got, ev.Call.RequestID+"|"+ev.Call.ID+"|"+ev.Message)
		}
	}
	joined := false
	for _, g := range got {
		if strings.HasPrefix(g, rid+"|"+call.CallID+"|") {
			joined = true
		}
	}
	if !joined {
		t.Fatalf("the lost-answer call was not reported ended: %v", got)
	}
	srv, _ := e.sim.Call(call.CallID)
	if srv.Ended == nil {
		t.Fatal("the lost-answer call is still live")
	}
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal: %+v", js)
	}
	if n := len(e.sim.Calls()); n != 1 {
		t.Fatalf("recovery created calls: %d on the server", n)
	}
}

// A corrupt journal is moved aside with a clear message, the references in
// it are still checked, and the manager works.
func TestCorruptJournalAtStartup(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.close()
	path := filepath.Join(e.dir, journalFileName)
	if err := os.WriteFile(path, []byte(`{"version":1,"entries":[{"requestId":"abc","callId":"00000000-0000-4000-8000-000000000000"`), 0o600); err != nil {
		t.Fatal(err)
	}
	m2, err := New(e.config(e.m2Settings()))
	if err != nil {
		t.Fatalf("New with a corrupt journal: %v", err)
	}
	e.m, e.rec = m2, record(m2)
	ev := e.waitEvent(EventJournalProblem, time.Second)
	if !strings.Contains(ev.Message, "corrupt") || !strings.Contains(ev.Message, "moved to") {
		t.Fatalf("journal problem message: %q", ev.Message)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	if len(matches) != 1 {
		t.Fatalf("moved-aside files: %v", matches)
	}
	// Both salvaged references are looked up; neither exists, so both go.
	waitFor(t, "salvaged entries resolved", 10*time.Second, func() bool { return len(e.journalEntries()) == 0 })
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	v := e.startBilling()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
}

// An unwritable journal refuses the start with a clear message, and no call
// is created.
func TestUnwritableJournalRefusesStart(t *testing.T) {
	base := t.TempDir()
	blocker := filepath.Join(base, "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{dir: filepath.Join(blocker, "state")})
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := e.m.Start(ctx, "")
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "no call was created") {
		t.Fatalf("Start with an unwritable journal: %v", err)
	}
	if n := len(e.sim.Calls()); n != 0 {
		t.Fatalf("%d calls created", n)
	}
	if s := e.m.Snapshot(); s.Starting || len(s.Ours) != 0 || s.Overall != OverallIdle {
		t.Fatalf("state after the refused start: %+v", s)
	}
}

// A journal file that exists but cannot be read is never overwritten: the
// start is refused until it can be read.
func TestUnreadableJournalRefusesStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, journalFileName), 0o700); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{dir: dir})
	ev := e.waitEvent(EventJournalProblem, time.Second)
	if !strings.Contains(ev.Message, "cannot be read") {
		t.Fatalf("message %q", ev.Message)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.m.Start(ctx, ""); !errors.Is(err, ErrJournal) {
		t.Fatalf("Start: %v", err)
	}
	if n := len(e.sim.Calls()); n != 0 {
		t.Fatalf("%d calls created", n)
	}
}
