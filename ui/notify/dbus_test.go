package notify

import (
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// notifServer owns org.freedesktop.Notifications on a private bus and
// records Notify calls.
type notifServer struct {
	mu    sync.Mutex
	calls []notifyCall
	next  uint32
}

type notifyCall struct {
	App      string
	Replaces uint32
	Summary  string
	Body     string
	Hints    map[string]dbus.Variant
	Timeout  int32
}

func (s *notifServer) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, notifyCall{app, replaces, summary, body, hints, timeout})
	if replaces != 0 {
		return replaces, nil
	}
	s.next++
	return s.next, nil
}

func TestDBusSenderOverARealBus(t *testing.T) {
	bus := desktoptest.SessionBus(t)
	bus.Setenv(t)
	srv := &notifServer{}
	conn := bus.Conn(t)
	if err := conn.Export(srv, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own name: %v %v", r, err)
	}
	d, err := NewDBus()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Send(Notification{Summary: "Call started: billing", Body: "b1", Key: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(Notification{Summary: "Call may still be billing", Body: "b2", Key: "c1", Urgent: true}); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(Notification{Summary: "other", Body: "b3"}); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	got := append([]notifyCall(nil), srv.calls...)
	srv.mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d calls", len(got))
	}
	if got[0].App != "Ultravox Tray" || got[0].Summary != "Call started: billing" || got[0].Replaces != 0 || got[0].Hints["urgency"].Value() != byte(1) {
		t.Errorf("first %+v", got[0])
	}
	if got[1].Replaces != 1 || got[1].Hints["urgency"].Value() != byte(2) || got[1].Timeout != 0 {
		t.Errorf("urgent one for the same call %+v", got[1])
	}
	if got[2].Replaces != 0 {
		t.Errorf("unrelated one replaced %d", got[2].Replaces)
	}

	// With nobody owning the name, Send says what is missing.
	conn.ReleaseName("org.freedesktop.Notifications")
	err = d.Send(Notification{Summary: "x"})
	if err == nil || !strings.Contains(err.Error(), "is a notification daemon running?") {
		t.Errorf("no server: %v", err)
	}
}
