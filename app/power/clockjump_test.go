package power

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// manualClock is a Clock whose wall and monotonic readings and ticks the test
// drives. Every reading is reported on reads, so the test knows the detector
// has read the clock before it moves it again.
type manualClock struct {
	mu      sync.Mutex
	wall    time.Time
	mono    time.Duration
	ticks   chan time.Time
	reads   chan struct{}
	stopped bool
}

func newManualClock() *manualClock {
	return &manualClock{wall: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC),
		ticks: make(chan time.Time), reads: make(chan struct{}, 1)}
}

func (c *manualClock) Now() (time.Time, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads <- struct{}{}
	return c.wall, c.mono
}

// started waits for the detector's first reading.
func (c *manualClock) started(t testing.TB) {
	t.Helper()
	select {
	case <-c.reads:
	case <-time.After(5 * time.Second):
		t.Fatal("the clock-jump detector never read the clock")
	}
}

func (c *manualClock) Tick(time.Duration) (<-chan time.Time, func()) {
	return c.ticks, func() { c.mu.Lock(); c.stopped = true; c.mu.Unlock() }
}

// step advances both clocks and delivers one tick.
func (c *manualClock) step(t testing.TB, wall, mono time.Duration) {
	t.Helper()
	c.mu.Lock()
	c.wall = c.wall.Add(wall)
	c.mono += mono
	now := c.wall
	c.mu.Unlock()
	select {
	case c.ticks <- now:
	case <-time.After(5 * time.Second):
		t.Fatal("the clock-jump detector did not take a tick within 5 s")
	}
	c.started(t)
}

func nextEvent(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

func noEvent(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %v (%s)", ev.Kind, ev.Reason)
	default:
	}
}

func TestClockJumpDetectsSleepWithoutNotice(t *testing.T) {
	clk := newManualClock()
	var logs []string
	var logMu sync.Mutex
	src := newClockJump(ClockJumpOptions{Interval: 2 * time.Second, Threshold: 5 * time.Second, Clock: clk,
		Logf: func(f string, a ...any) { logMu.Lock(); logs = append(logs, f); logMu.Unlock() }})
	ch := src.Events()
	clk.started(t)

	// Ordinary ticks, small jitter both ways, and a tick 4 s late (under the
	// threshold): nothing.
	clk.step(t, 2*time.Second, 2*time.Second)
	clk.step(t, 2100*time.Millisecond, 2*time.Second)
	clk.step(t, 1900*time.Millisecond, 2*time.Second)
	clk.step(t, 6*time.Second, 6*time.Second)
	noEvent(t, ch)

	// Slept an hour: the wall clock moved, the monotonic clock did not.
	clk.step(t, time.Hour+2*time.Second, 2*time.Second)
	ev := nextEvent(t, ch)
	if ev.Kind != DidWake || !strings.Contains(ev.Reason, "1h0m0s past the monotonic clock") {
		t.Fatalf("after a 1 h wall jump: got %v %q, want DidWake naming the 1h0m0s jump", ev.Kind, ev.Reason)
	}
	if !ev.Deadline.IsZero() || ev.Ack == nil {
		t.Fatalf("DidWake must carry no deadline and a non-nil Ack: %+v", ev)
	}
	ev.Ack()

	// Frozen (both clocks moved, the tick came 28 s late).
	clk.step(t, 30*time.Second, 30*time.Second)
	if ev := nextEvent(t, ch); ev.Kind != DidWake || !strings.Contains(ev.Reason, "28s late") {
		t.Fatalf("after a late tick: got %v %q", ev.Kind, ev.Reason)
	}
	// Wall clock set back.
	clk.step(t, -time.Minute, 2*time.Second)
	if ev := nextEvent(t, ch); ev.Kind != DidWake || !strings.Contains(ev.Reason, "went back 1m2s") {
		t.Fatalf("after the wall clock went back: got %v %q", ev.Kind, ev.Reason)
	}
	// Exactly at the threshold is not a jump.
	clk.step(t, 7*time.Second, 2*time.Second)
	noEvent(t, ch)

	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("events channel still open after Close")
	}
	clk.mu.Lock()
	stopped := clk.stopped
	clk.mu.Unlock()
	if !stopped {
		t.Fatal("Close did not stop the ticker")
	}
	logMu.Lock()
	defer logMu.Unlock()
	if len(logs) != 3 {
		t.Fatalf("want one log line per jump (3), got %d: %q", len(logs), logs)
	}
}

func TestClockJumpRealClockIsQuiet(t *testing.T) {
	src := newClockJump(ClockJumpOptions{Interval: 10 * time.Millisecond, Threshold: 2 * time.Second})
	time.Sleep(100 * time.Millisecond)
	noEvent(t, src.Events())
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMergeKeepsOrderAndClosesAll(t *testing.T) {
	a, b := newManualClock(), newManualClock()
	sa := newClockJump(ClockJumpOptions{Clock: a})
	sb := newClockJump(ClockJumpOptions{Clock: b})
	a.started(t)
	b.started(t)
	m := Merge(sa, sb)
	if err := m.(Inhibitor).Inhibit(); err != ErrNoInhibitor {
		t.Fatalf("Inhibit on sources without a lock: got %v, want ErrNoInhibitor", err)
	}
	a.step(t, time.Hour, 2*time.Second)
	if ev := nextEvent(t, m.Events()); ev.Kind != DidWake {
		t.Fatalf("got %v", ev.Kind)
	}
	b.step(t, 2*time.Hour+2*time.Second, 2*time.Second)
	if ev := nextEvent(t, m.Events()); ev.Kind != DidWake || !strings.Contains(ev.Reason, "2h0m0s") {
		t.Fatalf("got %v %q", ev.Kind, ev.Reason)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for range m.Events() {
		t.Fatal("event after Close")
	}
}
