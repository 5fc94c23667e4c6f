package notify

import (
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"

	"github.com/ultravox-tray/ultravox-tray/internal/sessionbus"
)

// appName is the application name shown by the notification server.
const appName = "Ultravox Tray"

// DBus sends notifications with org.freedesktop.Notifications.Notify on the
// session bus. Notifications with the same Key replace each other on screen.
type DBus struct {
	conn *dbus.Conn

	mu  sync.Mutex
	ids map[string]uint32 // the server's id of the last notification per Key
}

// NewDBus connects to the session bus (DBUS_SESSION_BUS_ADDRESS), never
// starting one (sessionbus). The connection is private: Close closes it.
func NewDBus() (*DBus, error) {
	addr, err := sessionbus.Address()
	if err != nil {
		return nil, fmt.Errorf("notifications are off: %w", err)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("notifications need the D-Bus session bus: %w", err)
	}
	return &DBus{conn: conn, ids: map[string]uint32{}}, nil
}

// Send shows n. Urgent ones use the critical urgency and do not time out.
func (d *DBus) Send(n Notification) error {
	d.mu.Lock()
	replaces := d.ids[n.Key]
	d.mu.Unlock()
	urgency := byte(1)
	timeout := int32(-1)
	if n.Urgent {
		urgency, timeout = 2, 0
	}
	// No icon of its own: the desktop-entry hint lets the server use the
	// app's icon.
	hints := map[string]dbus.Variant{
		"urgency":       dbus.MakeVariant(urgency),
		"desktop-entry": dbus.MakeVariant("ultravox-tray"),
	}
	obj := d.conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	var id uint32
	err := obj.Call("org.freedesktop.Notifications.Notify", 0,
		appName, replaces, "", n.Summary, n.Body, []string{}, hints, timeout).Store(&id)
	if err != nil {
		return fmt.Errorf("showing the notification %q failed (is a notification daemon running?): %w", n.Summary, err)
	}
	if n.Key != "" {
		d.mu.Lock()
		d.ids[n.Key] = id
		d.mu.Unlock()
	}
	return nil
}

// Close closes the bus connection.
func (d *DBus) Close() error { return d.conn.Close() }
