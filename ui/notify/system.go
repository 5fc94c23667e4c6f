package notify

import (
	"errors"
	"log/slog"
	"sync"
	"time"
)

// SendTimeout bounds one send: a stuck backend (a hung D-Bus peer, a
// PowerShell fallback on Windows) costs a notice, never a call or a quit.
const SendTimeout = 5 * time.Second

// System is the OS's notification sender: D-Bus on Linux and the BSDs
// (replace and urgency), beeep on Windows (toasts) and macOS (Notification
// Center). A backend that cannot start or fails is logged once; the notice
// then goes to the log, and Send reports no error, so nothing upstream
// retries or logs it again.
type System struct {
	backend Sender
	close   func() error
	log     *slog.Logger
	timeout time.Duration

	mu     sync.Mutex
	failed bool // the last send failed and was logged
}

// NewSystem starts the OS's backend (newBackend, one per OS).
func NewSystem(log *slog.Logger) *System {
	s := &System{log: log, timeout: SendTimeout}
	b, closeFn, err := newBackend()
	if err != nil {
		log.Warn("notifications off; notices go to this log", "err", err)
		s.failed = true
		return s
	}
	s.backend, s.close = b, closeFn
	return s
}

// Send shows n, within SendTimeout.
func (s *System) Send(n Notification) error {
	err := errors.New("no notification backend")
	if s.backend != nil {
		done := make(chan error, 1)
		go func() { done <- s.backend.Send(n) }()
		select {
		case err = <-done:
		case <-time.After(s.timeout):
			err = errors.New("the notification backend did not answer in time")
		}
	}
	s.mu.Lock()
	first := err != nil && !s.failed
	s.failed = err != nil
	s.mu.Unlock()
	if first && s.backend != nil {
		s.log.Warn("notifications failing; notices go to this log until one works", "err", err)
	}
	if err != nil {
		s.log.Warn("notification", "summary", n.Summary, "body", n.Body)
	}
	return nil
}

// Close stops the backend.
func (s *System) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}
