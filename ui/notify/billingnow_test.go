package notify

import (
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"go.uber.org/goleak"
)

// Issue 12, defect 6: a notice about money (connection lost, an end that
// could not be confirmed, a time-out, a call billing elsewhere) is never
// merged into an "N updates" bundle nor held for the rate window. The
// window here is an hour, so "not delayed" holds with any machine load.
func TestBillingNoticesAreNeverBundledOrDelayed(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := &recorder{}
	c := NewCoalescer(r, time.Hour, time.Minute, nil)
	defer c.Close()
	started := call()
	c.Event(calls.Event{Kind: calls.EventCallStarted, Call: started}) // opens the window
	waitFor(t, r, 1)
	kinds := []calls.EventKind{calls.EventConnectionLost, calls.EventEndUnconfirmed, calls.EventTimedOut, calls.EventBillingElsewhere}
	want := map[string]bool{"Call started: billing": true}
	for i, k := range kinds {
		v := call()
		v.ID = string(rune('d' + i))
		c.Event(calls.Event{Kind: k, Call: v})
		n, _ := fromEvent(calls.Event{Kind: k, Call: v})
		want[n.Summary] = true
	}
	got := waitFor(t, r, 1+len(kinds))
	for _, n := range got {
		if !want[n.Summary] {
			t.Errorf("unexpected (bundled?) notification %+v", n)
		}
		delete(want, n.Summary)
	}
	if len(want) != 0 {
		t.Errorf("not sent on their own: %v", want)
	}
	// Other news still waits for the window and is bundled.
	c.Event(calls.Event{Kind: calls.EventRecoveredEnded, Call: calls.CallView{ID: "r1", AgentName: "Sales", Joined: t0}})
	time.Sleep(100 * time.Millisecond)
	if n := len(r.all()); n != 1+len(kinds) {
		t.Errorf("a non-billing notice was not held for the window: %d sent", n)
	}
}
