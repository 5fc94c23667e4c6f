package desktoptest

import (
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Session is a private desktop for running a tray app: an X display, a
// session bus, and on it a StatusNotifierWatcher and a notification server
// owned by the test.
type Session struct {
	Display       string // DISPLAY of the Xvfb
	Bus           *Bus
	Conn          *dbus.Conn // the test's connection; it owns the watcher and notification names
	Watcher       *Watcher
	Notifications *Notifications
}

// Desktop starts Xvfb, a session bus, a StatusNotifierWatcher and a
// notification server; all stop at t.Cleanup.
func Desktop(t testing.TB) *Session {
	t.Helper()
	Need(t, "Xvfb", "dbus-daemon")
	s := &Session{Display: Xvfb(t), Bus: SessionBus(t)}
	s.Conn = s.Bus.Conn(t)
	s.Watcher = StatusNotifierWatcher(t, s.Conn)
	s.Notifications = NotificationServer(t, s.Conn)
	return s
}

// Env is what a child app needs to live in this session: DISPLAY,
// DBUS_SESSION_BUS_ADDRESS and LANG=C.UTF-8 (Fyne rejects the C locale).
// Append it to the child's environment (later entries win in os/exec).
func (s *Session) Env() []string {
	return []string{"DISPLAY=" + s.Display, s.Bus.Env(), "LANG=C.UTF-8"}
}

// Tray waits for a StatusNotifierItem to register and returns helpers to
// drive it over the test's connection.
func (s *Session) Tray(t testing.TB, timeout time.Duration) *Tray {
	t.Helper()
	name := s.Watcher.WaitItem(t, timeout)
	var path dbus.ObjectPath
	for _, it := range s.Watcher.Items() {
		if it.BusName == name && !it.Gone {
			path = it.Path
		}
	}
	return &Tray{Conn: s.Conn, BusName: name, Path: path}
}
