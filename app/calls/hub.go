package calls

import (
	"log/slog"
	"sync"
)

// maxQueuedEvents bounds the events held for one subscriber that stopped
// reading. Past it the oldest are dropped, and the drop is logged: never
// silently.
const maxQueuedEvents = 4096

// hub delivers snapshots (latest wins, never blocking the publisher) and
// events (queued in order, never blocking the publisher) to subscribers.
type hub struct {
	log    *slog.Logger
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	// backlog holds events published while nobody was subscribed (e.g. a
	// corrupt journal found in New); the next subscriber gets them first.
	backlog []Event
}

type subscriber struct {
	snaps  chan Snapshot // capacity 1: holds the latest undelivered snapshot
	events chan Event    // unbuffered: the pump goroutine feeds it

	mu      sync.Mutex
	queue   []Event
	dropped int
	wake    chan struct{} // capacity 1
	done    chan struct{}
	stopped chan struct{} // closed when the pump has exited
	once    sync.Once
}

func newHub(log *slog.Logger) *hub {
	return &hub{log: log, subs: map[*subscriber]struct{}{}}
}

// subscribe registers a subscriber and hands it initial, the current
// snapshot.
func (h *hub) subscribe(initial Snapshot) (<-chan Snapshot, <-chan Event, func()) {
	s := &subscriber{
		snaps:   make(chan Snapshot, 1),
		events:  make(chan Event),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s.snaps <- initial
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(s.snaps)
		close(s.events)
		close(s.stopped)
		return s.snaps, s.events, func() {}
	}
	h.subs[s] = struct{}{}
	s.queue = append(s.queue, h.backlog...)
	h.backlog = nil
	h.mu.Unlock()
	go s.pump(h.log)
	return s.snaps, s.events, func() { h.unsubscribe(s) }
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	_, ok := h.subs[s]
	delete(h.subs, s)
	h.mu.Unlock()
	if ok {
		s.stop()
	}
}

// stop ends the pump and closes both channels. The subscriber must already
// be out of the hub's set, so nothing sends on snaps any more.
func (s *subscriber) stop() {
	s.once.Do(func() {
		close(s.done)
		<-s.stopped
		close(s.snaps)
	})
}

// publishSnapshot replaces whatever snapshot a subscriber has not read yet.
// Callers serialise publishing, so the latest one always ends up in the slot.
func (h *hub) publishSnapshot(snap Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case <-s.snaps:
		default:
		}
		s.snaps <- snap
	}
}

func (h *hub) publishEvent(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 && !h.closed {
		if len(h.backlog) >= maxQueuedEvents {
			h.backlog = h.backlog[1:]
			h.log.Warn("no subscriber for events; dropping the oldest held event")
		}
		h.backlog = append(h.backlog, ev)
		return
	}
	for s := range h.subs {
		s.mu.Lock()
		if len(s.queue) >= maxQueuedEvents {
			s.queue = s.queue[1:]
			s.dropped++
			if s.dropped == 1 || s.dropped%100 == 0 {
				h.log.Warn("a subscriber is not reading events; dropping the oldest", "dropped", s.dropped)
			}
		}
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *subscriber) pump(log *slog.Logger) {
	defer close(s.stopped)
	defer close(s.events)
	var pending *Event
	for {
		if pending == nil {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				select {
				case <-s.wake:
					continue
				case <-s.done:
					return
				}
			}
			ev := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			pending = &ev
		}
		select {
		case s.events <- *pending:
			pending = nil
		case <-s.done:
			s.mu.Lock()
			n := len(s.queue) + 1
			s.mu.Unlock()
			log.Debug("subscriber cancelled with undelivered events", "events", n)
			return
		}
	}
}

// close ends every subscription (their channels close).
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	subs := h.subs
	h.subs = map[*subscriber]struct{}{}
	h.mu.Unlock()
	for s := range subs {
		s.stop()
	}
}
