package notify

import (
	"log/slog"
	"sync"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
)

// Pump feeds the manager's events to c until events closes or stop is
// called; stop returns once the pump has exited. Subscribe before anything
// else does: the manager hands the events of its first check (a rejected
// key, calls of an earlier session that it ended) to its first subscriber.
func Pump(events <-chan calls.Event, c *Coalescer) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					return
				}
				c.Event(ev)
			case <-quit:
				return
			}
		}
	}()
	return sync.OnceFunc(func() {
		close(quit)
		<-done
	})
}

// Log is the sender when there is no notification service: the notices go
// to the log instead of being lost silently.
type Log struct{ Logger *slog.Logger }

// Send logs n as a warning.
func (l Log) Send(n Notification) error {
	l.Logger.Warn("notification (no notification service)", "summary", n.Summary, "body", n.Body)
	return nil
}
