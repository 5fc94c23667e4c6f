package desktoptest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

const (
	notifName  = "org.freedesktop.Notifications"
	notifPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifIface = "org.freedesktop.Notifications"
)

const notifIntrospection = `<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg name="app_name" type="s" direction="in"/>
      <arg name="replaces_id" type="u" direction="in"/>
      <arg name="app_icon" type="s" direction="in"/>
      <arg name="summary" type="s" direction="in"/>
      <arg name="body" type="s" direction="in"/>
      <arg name="actions" type="as" direction="in"/>
      <arg name="hints" type="a{sv}" direction="in"/>
      <arg name="expire_timeout" type="i" direction="in"/>
      <arg name="id" type="u" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg name="id" type="u" direction="in"/>
    </method>
    <method name="GetCapabilities">
      <arg name="capabilities" type="as" direction="out"/>
    </method>
    <method name="GetServerInformation">
      <arg name="name" type="s" direction="out"/>
      <arg name="vendor" type="s" direction="out"/>
      <arg name="version" type="s" direction="out"/>
      <arg name="spec_version" type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed">
      <arg name="id" type="u"/>
      <arg name="reason" type="u"/>
    </signal>
    <signal name="ActionInvoked">
      <arg name="id" type="u"/>
      <arg name="action_key" type="s"/>
    </signal>
  </interface>` + introspect.IntrospectDataString + `</node>`

// Notification is one Notify call the server received.
type Notification struct {
	ID         uint32 // the id the server returned
	Sender     string // unique bus name of the caller
	AppName    string
	ReplacesID uint32
	Icon       string
	Summary    string
	Body       string
	Actions    []string // key, label, key, label...
	Hints      map[string]dbus.Variant
	// Urgency is hints["urgency"]: 0 low, 1 normal (also when absent), 2
	// critical.
	Urgency byte
	Timeout int32 // expire_timeout in ms; -1 server default, 0 never
	At      time.Time
	// Closed is set when the client called CloseNotification for this id.
	Closed bool
}

// Notifications is a notification server owned by a test: it owns
// org.freedesktop.Notifications on a bus and records every Notify.
type Notifications struct {
	conn *dbus.Conn
	mu   sync.Mutex
	list []Notification
	next uint32
}

// NotificationServer exports a notification server on conn and owns
// org.freedesktop.Notifications (the test fails if the name is taken). It
// implements Notify, CloseNotification, GetCapabilities ("actions", "body")
// and GetServerInformation. The name is released at t.Cleanup.
func NotificationServer(t testing.TB, conn *dbus.Conn) *Notifications {
	t.Helper()
	n := &Notifications{conn: conn}
	obj := &notifObject{n: n}
	if err := conn.Export(obj, notifPath, notifIface); err != nil {
		t.Fatalf("desktoptest: export notification server: %v", err)
	}
	if err := conn.Export(introspect.Introspectable(notifIntrospection), notifPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		t.Fatalf("desktoptest: export introspection: %v", err)
	}
	reply, err := conn.RequestName(notifName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("desktoptest: own %s: %v (reply %v)", notifName, err, reply)
	}
	t.Cleanup(func() {
		_, _ = conn.ReleaseName(notifName)
		_ = conn.Export(nil, notifPath, notifIface)
		_ = conn.Export(nil, notifPath, "org.freedesktop.DBus.Introspectable")
	})
	return n
}

// All returns every notification received so far, in order.
func (n *Notifications) All() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Notification, len(n.list))
	copy(out, n.list)
	return out
}

// Wait waits until a received notification satisfies pred and returns it,
// failing the test (listing what arrived) after timeout.
func (n *Notifications) Wait(t testing.TB, pred func(Notification) bool, timeout time.Duration) Notification {
	t.Helper()
	var found Notification
	if waitUntil(timeout, func() bool {
		for _, x := range n.All() {
			if pred(x) {
				found = x
				return true
			}
		}
		return false
	}) {
		return found
	}
	var got string
	for _, x := range n.All() {
		got += fmt.Sprintf("\n  #%d %q: %q / %q (urgency %d)", x.ID, x.AppName, x.Summary, x.Body, x.Urgency)
	}
	if got == "" {
		got = " none"
	}
	t.Fatalf("desktoptest: no matching notification within %s; received:%s", timeout, got)
	return Notification{}
}

// InvokeAction emits ActionInvoked(id, key), as a server does when the user
// clicks an action (key "default" for the body).
func (n *Notifications) InvokeAction(id uint32, key string) error {
	return n.conn.Emit(notifPath, notifIface+".ActionInvoked", id, key)
}

// Dismiss emits NotificationClosed(id, 2): the user closed it.
func (n *Notifications) Dismiss(id uint32) error {
	return n.conn.Emit(notifPath, notifIface+".NotificationClosed", id, uint32(2))
}

// notifObject carries the D-Bus methods (kept off Notifications so that its
// Go helpers are not exported on the bus).
type notifObject struct{ n *Notifications }

func (o *notifObject) Notify(sender dbus.Sender, appName string, replacesID uint32, icon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n := o.n
	n.mu.Lock()
	defer n.mu.Unlock()
	id := replacesID
	if id == 0 {
		n.next++
		id = n.next
	}
	urgency := byte(1)
	if v, ok := hints["urgency"]; ok {
		switch u := v.Value().(type) {
		case byte:
			urgency = u
		case int32:
			urgency = byte(u)
		case uint32:
			urgency = byte(u)
		case int64:
			urgency = byte(u)
		}
	}
	n.list = append(n.list, Notification{
		ID: id, Sender: string(sender), AppName: appName, ReplacesID: replacesID, Icon: icon,
		Summary: summary, Body: body, Actions: actions, Hints: hints, Urgency: urgency,
		Timeout: timeout, At: time.Now(),
	})
	return id, nil
}

func (o *notifObject) CloseNotification(id uint32) *dbus.Error {
	n := o.n
	n.mu.Lock()
	found := false
	for i := range n.list {
		if n.list[i].ID == id {
			n.list[i].Closed = true
			found = true
		}
	}
	n.mu.Unlock()
	if found {
		// Reason 3: closed by a call to CloseNotification.
		_ = n.conn.Emit(notifPath, notifIface+".NotificationClosed", id, uint32(3))
	}
	return nil
}

func (o *notifObject) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

func (o *notifObject) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "uvt-desktoptest", "ultravox-tray", "1.0", "1.2", nil
}
