package notify

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
	"go.uber.org/goleak"
)

type recorder struct {
	mu   sync.Mutex
	sent []Notification
	err  error
}

func (r *recorder) Send(n Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n)
	return r.err
}

func (r *recorder) all() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notification(nil), r.sent...)
}

func waitFor(t *testing.T, r *recorder, n int) []Notification {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s := r.all(); len(s) >= n {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("got %d notifications, want %d: %+v", len(r.all()), n, r.all())
	return nil
}

var t0 = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

func call() calls.CallView {
	return calls.CallView{ID: "c1", Ours: true, AgentName: "Support agent", Joined: t0, Ended: t0.Add(240 * time.Second), MaxDuration: 240 * time.Second}
}

func TestFromEvent(t *testing.T) {
	cases := []struct {
		ev      calls.Event
		summary string
		body    string
		urgent  bool
	}{
		{calls.Event{Kind: calls.EventTimedOut, Call: call()}, "Call timed out", "Support agent timed out after 4:00 of billing.", false},
		{calls.Event{Kind: calls.EventTimedOut, Call: call(), Message: "Call timed out after 4:00, billed $0.20"}, "Call timed out", "Call timed out after 4:00, billed $0.20", false},
		{calls.Event{Kind: calls.EventEndUnconfirmed, Call: call()}, "Call may still be billing", "Could not confirm that support agent ended. Use \"End all calls on account\" or check the Ultravox console.", true},
		{calls.Event{Kind: calls.EventEndingSoon, Call: func() calls.CallView { c := call(); c.Ended = time.Time{}; return c }(), Time: t0.Add(210 * time.Second)}, "Call ending soon", "Support agent reaches its time limit in 0:30.", false},
		{calls.Event{Kind: calls.EventKeyRejected}, "API key rejected", "Ultravox rejected the API key. Set a new one in Settings.", false},
		{calls.Event{Kind: calls.EventEndedByAgent, Call: call()}, "Agent ended the call", "Support agent was ended by the agent after 4:00.", false},
	}
	for _, c := range cases {
		n, ok := fromEvent(c.ev)
		if !ok || n.Summary != c.summary || n.Body != c.body || n.Urgent != c.urgent {
			t.Errorf("FromEvent(%v) = %+v %v, want %q %q urgent=%v", c.ev.Kind, n, ok, c.summary, c.body, c.urgent)
		}
	}
	for _, k := range []calls.EventKind{calls.EventEnded, calls.EventBackOnline} {
		if _, ok := fromEvent(calls.Event{Kind: k, Call: call()}); ok {
			t.Errorf("event %d makes a popup", k)
		}
	}
	// Every other kind the manager names makes one with words, including
	// kinds added at the end of the list later.
	for k := calls.EventCallStarted; k.String() != "unknown event"; k++ {
		if k == calls.EventEnded || k == calls.EventBackOnline {
			continue
		}
		n, ok := fromEvent(calls.Event{Kind: k, Call: call()})
		if !ok || n.Summary == "" || n.Body == "" {
			t.Errorf("kind %d: %+v %v", k, n, ok)
		}
	}
}

func TestCoalescerOnePerEventNoStorm(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := &recorder{}
	c := NewCoalescer(r, 300*time.Millisecond, time.Minute, nil)
	ev := calls.Event{Kind: calls.EventTimedOut, Call: call()}
	c.Event(ev)
	got := waitFor(t, r, 1)
	if got[0].Summary != "Call timed out" {
		t.Fatalf("first %+v", got[0])
	}
	// The same event again is dropped; a burst of others becomes one popup
	// (news about money never does: TestBillingNoticesAreNeverBundledOrDelayed).
	c.Event(ev)
	other := call()
	other.ID = "c2"
	c.Event(calls.Event{Kind: calls.EventRecoveredEnded, Call: other})
	c.Event(calls.Event{Kind: calls.EventKeyRejected})
	c.Event(calls.Event{Kind: calls.EventEnded, Call: other}) // no popup
	got = waitFor(t, r, 2)
	time.Sleep(400 * time.Millisecond)
	got = r.all()
	if len(got) != 2 {
		t.Fatalf("%d popups: %+v", len(got), got)
	}
	m := got[1]
	if m.Summary != "Ultravox Tray: 2 updates" || m.Urgent || !strings.Contains(m.Body, "Earlier call ended: ") || !strings.Contains(m.Body, "API key rejected: ") {
		t.Errorf("merged %+v", m)
	}
	// After a quiet window the next event goes out at once.
	time.Sleep(400 * time.Millisecond)
	c.Event(calls.Event{Kind: calls.EventUnjoinedExpired, Call: call(), Message: "Call with Support agent was never joined and expired; it cost nothing."})
	got = waitFor(t, r, 3)
	if got[2].Summary != "Call never joined" || got[2].Body != "Call with Support agent was never joined and expired; it cost nothing." {
		t.Errorf("third %+v", got[2])
	}
	// Push: other notices share the rate limit and the dedupe.
	time.Sleep(400 * time.Millisecond)
	c.Push(Notification{Summary: "No sleep lock", Body: "Sleep may not wait."}, "")
	c.Push(Notification{Summary: "No sleep lock", Body: "Sleep may not wait."}, "")
	got = waitFor(t, r, 4)
	time.Sleep(400 * time.Millisecond)
	if len(r.all()) != 4 || got[3].Summary != "No sleep lock" {
		t.Errorf("push: %+v", r.all())
	}
	c.Close()
	c.Event(ev) // after Close: nothing, no panic
}

func TestCoalescerCloseFlushesAndReportsErrors(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := &recorder{err: errors.New("no daemon")}
	var mu sync.Mutex
	var errs []error
	c := NewCoalescer(r, time.Hour, time.Minute, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	c.Event(calls.Event{Kind: calls.EventCallStarted, Call: call()})
	c2 := call()
	c2.ID = "c9"
	c.Event(calls.Event{Kind: calls.EventCallStarted, Call: c2})
	c.Close()
	if got := r.all(); len(got) != 2 {
		t.Fatalf("close did not flush: %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 2 {
		t.Errorf("errors %v", errs)
	}
}

// A journal that cannot be read puts money at risk now: urgent, and it
// says what is at stake. (A recovered one is not: see
// TestStateFileEventsAreWordedForWhatTheyAre.)
func TestJournalProblemIsUrgent(t *testing.T) {
	msg := "the call journal /s/journal.json cannot be read (permission denied); new calls are refused until it can be, so that calls it lists are never forgotten"
	n, ok := fromEvent(calls.Event{Kind: calls.EventJournalProblem, Message: msg, AtRisk: true})
	if !ok || !n.Urgent || n.Summary != "Crash protection problem" || n.Key != "journal" {
		t.Fatalf("journal problem: %+v %v", n, ok)
	}
	if !strings.HasPrefix(n.Body, "The call journal /s/journal.json cannot be read") || !strings.Contains(n.Body, "never forgotten. Until this is fixed") ||
		!strings.Contains(n.Body, "may keep billing after a crash") {
		t.Errorf("body %q", n.Body)
	}
	// Without a message it still says what is at stake.
	n, ok = fromEvent(calls.Event{Kind: calls.EventJournalProblem, AtRisk: true})
	if !ok || !strings.HasPrefix(n.Body, "The call journal could not be read or written.") {
		t.Errorf("no message: %+v %v", n, ok)
	}
	// Through the coalescer: the journal and the history problem at start
	// both reach the user, each worded for what it is.
	r := &recorder{}
	c := NewCoalescer(r, 50*time.Millisecond, time.Minute, nil)
	c.Event(calls.Event{Kind: calls.EventJournalProblem, Message: msg, AtRisk: true})
	c.Event(calls.Event{Kind: calls.EventHistoryProblem, Message: "the call history h.json cannot be read"})
	got := waitFor(t, r, 2)
	c.Close()
	for _, n := range got {
		if n.Summary == "Call history problem" && (n.Urgent || !strings.Contains(n.Body, "The call history h.json cannot be read.")) {
			t.Errorf("history %+v", n)
		}
	}
}

func TestUnknownKindShowsItsMessage(t *testing.T) {
	// A kind this version has no case for (say the manager adds "audio
	// device lost" after the last kind it names).
	k := calls.EventHistoryProblem + 1
	for k.String() != "unknown event" {
		k++
	}
	k += 3
	n, ok := fromEvent(calls.Event{Kind: k, Call: call(), Message: "the microphone was unplugged; type to the agent in Show call…"})
	if !ok || n.Summary != "Ultravox Tray" || n.Body != "The microphone was unplugged; type to the agent in Show call…" || n.Key != "c1" {
		t.Errorf("unknown kind: %+v %v", n, ok)
	}
	n, ok = fromEvent(calls.Event{Kind: k})
	if !ok || n.Body == "" {
		t.Errorf("unknown kind without message: %+v %v", n, ok)
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{"": "", " ended ": "Ended.", "ümlaut here": "Ümlaut here.", "Done!": "Done!", "ok.": "Ok."} {
		if got := words.Sentence(in); got != want {
			t.Errorf("words.Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
