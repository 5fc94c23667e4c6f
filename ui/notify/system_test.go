package notify

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// backendFunc is a backend whose behaviour the test chooses: the wrapper's
// rules (log once, never block, never fail the caller) are what is tested.
type backendFunc func(Notification) error

func (f backendFunc) Send(n Notification) error { return f(n) }

func TestSystemLogsAFailingBackendOnce(t *testing.T) {
	var buf bytes.Buffer
	fail := true
	s := &System{log: slog.New(slog.NewTextHandler(&buf, nil)), timeout: time.Second,
		backend: backendFunc(func(Notification) error {
			if fail {
				return errors.New("no toast today")
			}
			return nil
		})}
	for i := 0; i < 3; i++ {
		if err := s.Send(Notification{Summary: "S", Body: "B"}); err != nil {
			t.Fatalf("Send returned %v; a failing backend must not fail the caller", err)
		}
	}
	if got := strings.Count(buf.String(), "no toast today"); got != 1 {
		t.Errorf("backend error logged %d times, want once:\n%s", got, buf.String())
	}
	if got := strings.Count(buf.String(), "summary=S"); got != 3 {
		t.Errorf("notices in the log %d, want 3:\n%s", got, buf.String())
	}
	fail = false
	s.Send(Notification{Summary: "ok"})
	fail = true
	s.Send(Notification{Summary: "again"})
	if got := strings.Count(buf.String(), "no toast today"); got != 2 {
		t.Errorf("a new failure after a success is logged again; got %d logs", got)
	}
}

func TestSystemNeverBlocks(t *testing.T) {
	var buf bytes.Buffer
	release := make(chan struct{})
	defer close(release)
	s := &System{log: slog.New(slog.NewTextHandler(&buf, nil)), timeout: 100 * time.Millisecond,
		backend: backendFunc(func(Notification) error { <-release; return nil })}
	start := time.Now()
	s.Send(Notification{Summary: "stuck"})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Send took %v with a hung backend", d)
	}
	if !strings.Contains(buf.String(), "did not answer in time") {
		t.Errorf("hung backend not logged:\n%s", buf.String())
	}
}

func TestSystemWithoutBackend(t *testing.T) {
	var buf bytes.Buffer
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+t.TempDir()+"/none")
	s := NewSystem(slog.New(slog.NewTextHandler(&buf, nil)))
	defer s.Close()
	if s.backend != nil {
		t.Skip("this OS's backend needs no session bus")
	}
	s.Send(Notification{Summary: "to the log"})
	if !strings.Contains(buf.String(), "notifications off") || !strings.Contains(buf.String(), "summary=\"to the log\"") {
		t.Errorf("log:\n%s", buf.String())
	}
}
