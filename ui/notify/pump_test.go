package notify

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"go.uber.org/goleak"
)

func TestPumpDeliversUntilStopped(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := &recorder{}
	c := NewCoalescer(r, 10*time.Millisecond, time.Minute, nil)
	defer c.Close()
	events := make(chan calls.Event)
	stop := Pump(events, c)
	events <- calls.Event{Kind: calls.EventTimedOut, Call: call(), Message: "Call timed out after 4:00, billed $0.20"}
	if got := waitFor(t, r, 1); got[0].Body != "Call timed out after 4:00, billed $0.20" {
		t.Errorf("pumped %+v", got[0])
	}
	stop()
	stop() // a second stop is harmless
	select {
	case events <- calls.Event{Kind: calls.EventKeyRejected}:
		t.Fatal("the pump still reads after stop")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestPumpEndsWhenEventsClose(t *testing.T) {
	r := &recorder{}
	c := NewCoalescer(r, time.Millisecond, time.Minute, nil)
	events := make(chan calls.Event)
	stop := Pump(events, c)
	close(events)
	c.Close()
	goleak.VerifyNone(t) // the pump's goroutine is gone without stop
	stop()
}

func TestLogSenderLogs(t *testing.T) {
	var b strings.Builder
	l := Log{slog.New(slog.NewTextHandler(&b, nil))}
	if err := l.Send(Notification{Summary: "Audio is off", Body: "no device"}); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "Audio is off") || !strings.Contains(out, "no device") {
		t.Errorf("log %q", out)
	}
}
