package calls

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestHubLatestSnapshotWinsAndEventsKeepOrder(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := newHub(slog.New(slog.NewTextHandler(io.Discard, nil)))
	snaps, events, cancel := h.subscribe(Snapshot{TodayCost: 0})
	// A subscriber that does not read never blocks publishing.
	for i := 1; i <= 1000; i++ {
		h.publishSnapshot(Snapshot{TodayCost: float64(i)})
		h.publishEvent(Event{Kind: EventCallStarted, Message: string(rune('a' + i%26))})
	}
	select {
	case s := <-snaps:
		if s.TodayCost != 1000 {
			t.Fatalf("latest snapshot = %v, want 1000", s.TodayCost)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no snapshot")
	}
	select {
	case s := <-snaps:
		t.Fatalf("stale snapshot delivered after the latest: %v", s.TodayCost)
	default:
	}
	for i := 1; i <= 1000; i++ {
		select {
		case ev := <-events:
			if ev.Message != string(rune('a'+i%26)) {
				t.Fatalf("event %d out of order: %q", i, ev.Message)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never arrived", i)
		}
	}
	cancel()
	if _, ok := <-events; ok {
		t.Fatal("events channel open after cancel")
	}
	if _, ok := <-snaps; ok {
		t.Fatal("snapshot channel open after cancel")
	}
	cancel() // twice is harmless
	// Publishing after cancel reaches nobody and does not panic.
	h.publishSnapshot(Snapshot{})
	h.publishEvent(Event{})
	h.close()
	s2, e2, c2 := h.subscribe(Snapshot{})
	<-s2
	if _, ok := <-e2; ok {
		t.Fatal("subscription after close is open")
	}
	c2()
}

func TestHubCloseEndsSubscriptions(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := newHub(slog.New(slog.NewTextHandler(io.Discard, nil)))
	snaps, events, cancel := h.subscribe(Snapshot{Overall: OverallBilling})
	h.publishEvent(Event{Kind: EventEnded})
	h.close()
	// Both channels close (bounded: a hub that never closes them fails
	// here instead of hanging); the snapshot handed at subscribe is still
	// readable, and an event not read before the close may be dropped (a
	// reader that stopped must not hold Close up) but is never another.
	var got []Event
	var gotSnaps []Snapshot
	timeout := time.After(10 * time.Second)
	for events != nil || snaps != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			got = append(got, ev)
		case s, ok := <-snaps:
			if !ok {
				snaps = nil
				continue
			}
			gotSnaps = append(gotSnaps, s)
		case <-timeout:
			t.Fatalf("close left a channel open (events open %v, snapshots open %v)", events != nil, snaps != nil)
		}
	}
	if len(got) > 1 || (len(got) == 1 && got[0].Kind != EventEnded) {
		t.Errorf("events delivered around close: %+v", got)
	}
	if len(gotSnaps) != 1 || gotSnaps[0].Overall != OverallBilling {
		t.Errorf("snapshots: %+v", gotSnaps)
	}
	cancel() // after close: no panic
	// Subscribing after the close gets closed channels at once.
	snaps, events, cancel = h.subscribe(Snapshot{})
	defer cancel()
	if _, ok := <-events; ok {
		t.Error("an event channel open after close")
	}
	<-snaps
	if _, ok := <-snaps; ok {
		t.Error("a snapshot channel open after close")
	}
}

func TestHubHoldsEventsUntilTheFirstSubscriber(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := newHub(slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.publishEvent(Event{Kind: EventJournalProblem, Message: "early"})
	_, events, cancel := h.subscribe(Snapshot{})
	defer cancel()
	select {
	case ev := <-events:
		if ev.Message != "early" {
			t.Fatalf("got %q", ev.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an event published before anyone subscribed was lost")
	}
	h.close()
}
