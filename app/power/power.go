// Package power turns the operating system's sleep, shutdown and screen-lock
// notices into one small stream of events, and (in guard.go) ends our calls
// before the machine stops.
//
// Per OS:
//   - Linux: logind on the system bus (PrepareForSleep, PrepareForShutdown, the
//     session's Lock/Unlock and LockedHint) and the ScreenSaver ActiveChanged
//     signal on the session bus; a logind "delay" inhibitor makes sleep wait
//     for us (see Inhibitor).
//   - macOS: IOKit IORegisterForSystemPower (cgo); sleep waits for
//     IOAllowPowerChange, which Event.Ack calls.
//   - Windows: WM_POWERBROADCAST and WM_QUERYENDSESSION/WM_ENDSESSION on a
//     hidden top-level window (message-only windows get no broadcasts); the
//     window procedure waits for Event.Ack.
//   - Everywhere: a clock-jump detector (the machine slept without telling us)
//     that reports DidWake.
package power

import (
	"errors"
	"sync"
	"time"
)

// Kind is what happened.
type Kind int

const (
	// WillSleep: the machine is about to suspend. End what bills, then Ack.
	WillSleep Kind = iota + 1
	// DidWake: the machine resumed (or slept without telling us, or a
	// shutdown was cancelled). Re-check everything.
	DidWake
	// WillShutdown: the machine (or the session) is about to stop.
	WillShutdown
	// Locked: the screen or session was locked.
	Locked
	// Unlocked: the screen or session was unlocked.
	Unlocked
)

func (k Kind) String() string {
	switch k {
	case WillSleep:
		return "will sleep"
	case DidWake:
		return "did wake"
	case WillShutdown:
		return "will shut down"
	case Locked:
		return "locked"
	case Unlocked:
		return "unlocked"
	default:
		return "unknown power event"
	}
}

// Event is one notice from the OS.
type Event struct {
	Kind Kind
	// Deadline is when the OS goes on regardless of us (for WillSleep and
	// WillShutdown: signal time plus the OS's grace period). Zero when the
	// OS does not wait at all (DidWake, Locked, Unlocked).
	Deadline time.Time
	// Ack lets the OS go on (closes the logind delay lock, calls
	// IOAllowPowerChange, returns from the window procedure). It is never
	// nil, is safe to call more than once and from any goroutine, and is a
	// no-op for events the OS does not wait on.
	Ack func()
	// Reason says where the event came from, in words for logs, e.g.
	// "logind PrepareForSleep", "wall clock jumped 42s past the monotonic
	// clock", "shutdown cancelled".
	Reason string
}

// Source delivers power events. Events are delivered in order; the channel is
// closed by Close.
type Source interface {
	Events() <-chan Event
	Close() error
}

// Inhibitor is implemented by sources whose OS waits only for apps that hold
// a lock (logind's "delay" inhibitor). Without one, the OS does not wait for
// us at all; with one held, it waits until Ack (or Release) or its deadline.
type Inhibitor interface {
	// Inhibit takes the delay lock if it is not held already. A refusal or
	// an absent service is returned as an error; ErrNoInhibitor means this
	// source has no such lock at all.
	Inhibit() error
	// Release closes the lock if it is held.
	Release()
	// Holding reports whether the lock is held now.
	Holding() bool
}

// ErrNoInhibitor: the source has no lock to take (the OS waits for Ack by
// itself, or not at all).
var ErrNoInhibitor = errors.New("power: this platform has no sleep inhibitor")

// noAck is the Ack of events the OS does not wait for.
func noAck() {}

// onceAck wraps f so it runs at most once.
func onceAck(f func()) func() {
	var once sync.Once
	return func() { once.Do(f) }
}

// Logf is a printf-like logger. A nil Logf discards.
type Logf func(format string, args ...any)

func (l Logf) printf(format string, args ...any) {
	if l != nil {
		l(format, args...)
	}
}

// Merge combines sources into one. Events keep their order within each
// source. The merged source implements Inhibitor by delegating to the first
// source that does (and returns ErrNoInhibitor when none does). Close closes
// every source.
func Merge(srcs ...Source) Source {
	m := &merged{srcs: srcs, ch: make(chan Event, 16), done: make(chan struct{})}
	for _, s := range srcs {
		if in, ok := s.(Inhibitor); ok && m.inh == nil {
			m.inh = in
		}
		m.wg.Add(1)
		go m.forward(s)
	}
	go func() {
		m.wg.Wait()
		close(m.ch)
	}()
	return m
}

type merged struct {
	srcs []Source
	inh  Inhibitor
	ch   chan Event
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func (m *merged) forward(s Source) {
	defer m.wg.Done()
	for ev := range s.Events() {
		select {
		case m.ch <- ev:
		case <-m.done:
			ev.Ack()
			// Keep draining so the inner source can close its channel.
		}
	}
}

func (m *merged) Events() <-chan Event { return m.ch }

func (m *merged) Close() error {
	var errs []error
	m.once.Do(func() {
		close(m.done)
		for _, s := range m.srcs {
			if err := s.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		m.wg.Wait()
	})
	return errors.Join(errs...)
}

func (m *merged) Inhibit() error {
	if m.inh == nil {
		return ErrNoInhibitor
	}
	return m.inh.Inhibit()
}

func (m *merged) Release() {
	if m.inh != nil {
		m.inh.Release()
	}
}

func (m *merged) Holding() bool { return m.inh != nil && m.inh.Holding() }
