package desktoptest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
)

const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	watcherIface = "org.kde.StatusNotifierWatcher"
	// DefaultItemPath is where a StatusNotifierItem lives when it registers
	// by bus name only.
	DefaultItemPath = dbus.ObjectPath("/StatusNotifierItem")
)

const watcherIntrospection = `<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem">
      <arg name="service" type="s" direction="in"/>
    </method>
    <method name="RegisterStatusNotifierHost">
      <arg name="service" type="s" direction="in"/>
    </method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>` + prop.IntrospectDataString + introspect.IntrospectDataString + `</node>`

// WatcherItem is one registered StatusNotifierItem.
type WatcherItem struct {
	BusName string          // the item's bus name (the sender when it registered by path)
	Path    dbus.ObjectPath // the item's object path
	At      time.Time
	Gone    bool // its bus name lost its owner since
}

// Watcher is a StatusNotifierWatcher owned by a test (the part of a tray host
// that items register with).
type Watcher struct {
	conn  *dbus.Conn
	props *prop.Properties
	mu    sync.Mutex
	items []WatcherItem
	sigs  chan *dbus.Signal
	done  chan struct{}
}

// StatusNotifierWatcher exports a watcher on conn at /StatusNotifierWatcher
// and owns org.kde.StatusNotifierWatcher (the test fails if the name is
// taken). RegisterStatusNotifierItem records the item and emits
// StatusNotifierItemRegistered; IsStatusNotifierHostRegistered is true.
// Items whose bus name loses its owner are marked Gone and unregistered.
func StatusNotifierWatcher(t testing.TB, conn *dbus.Conn) *Watcher {
	t.Helper()
	w := &Watcher{conn: conn, sigs: make(chan *dbus.Signal, 64), done: make(chan struct{})}
	props, err := prop.Export(conn, watcherPath, prop.Map{watcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		t.Fatalf("desktoptest: export watcher properties: %v", err)
	}
	w.props = props
	if err := conn.Export(&watcherObject{w: w}, watcherPath, watcherIface); err != nil {
		t.Fatalf("desktoptest: export watcher: %v", err)
	}
	if err := conn.Export(introspect.Introspectable(watcherIntrospection), watcherPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		t.Fatalf("desktoptest: export introspection: %v", err)
	}
	match := []dbus.MatchOption{
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
	}
	if err := conn.AddMatchSignal(match...); err != nil {
		t.Fatalf("desktoptest: watch NameOwnerChanged: %v", err)
	}
	conn.Signal(w.sigs)
	go w.watchOwners()
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("desktoptest: own %s: %v (reply %v)", watcherName, err, reply)
	}
	t.Cleanup(func() {
		_, _ = conn.ReleaseName(watcherName)
		_ = conn.RemoveMatchSignal(match...)
		conn.RemoveSignal(w.sigs)
		close(w.done)
		_ = conn.Export(nil, watcherPath, watcherIface)
		_ = conn.Export(nil, watcherPath, "org.freedesktop.DBus.Introspectable")
		_ = conn.Export(nil, watcherPath, "org.freedesktop.DBus.Properties")
	})
	return w
}

// watchOwners marks items whose bus name vanished.
func (w *Watcher) watchOwners() {
	for {
		select {
		case <-w.done:
			return
		case s, ok := <-w.sigs:
			if !ok || s == nil {
				return
			}
			if s.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(s.Body) != 3 {
				continue
			}
			name, _ := s.Body[0].(string)
			newOwner, _ := s.Body[2].(string)
			if newOwner != "" {
				continue
			}
			w.mu.Lock()
			var gone []string
			for i := range w.items {
				if w.items[i].BusName == name && !w.items[i].Gone {
					w.items[i].Gone = true
					gone = append(gone, name+string(w.items[i].Path))
				}
			}
			w.mu.Unlock()
			if len(gone) > 0 {
				w.props.SetMust(watcherIface, "RegisteredStatusNotifierItems", w.registered())
				for _, g := range gone {
					_ = w.conn.Emit(watcherPath, watcherIface+".StatusNotifierItemUnregistered", g)
				}
			}
		}
	}
}

func (w *Watcher) registered() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []string{}
	for _, it := range w.items {
		if !it.Gone {
			out = append(out, it.BusName+string(it.Path))
		}
	}
	return out
}

// Items returns every registration so far, in order.
func (w *Watcher) Items() []WatcherItem {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WatcherItem(nil), w.items...)
}

// WaitItem waits for an item that is registered and not gone, and returns its
// bus name; the test fails after timeout.
func (w *Watcher) WaitItem(t testing.TB, timeout time.Duration) (busName string) {
	t.Helper()
	if !waitUntil(timeout, func() bool {
		for _, it := range w.Items() {
			if !it.Gone {
				busName = it.BusName
				return true
			}
		}
		return false
	}) {
		t.Fatalf("desktoptest: no StatusNotifierItem registered within %s", timeout)
	}
	return busName
}

// WaitGone waits until the item with busName has lost its bus name (the app
// exited or closed its connection); the test fails after timeout.
func (w *Watcher) WaitGone(t testing.TB, busName string, timeout time.Duration) {
	t.Helper()
	if !waitUntil(timeout, func() bool {
		for _, it := range w.Items() {
			if it.BusName == busName && it.Gone {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("desktoptest: item %s still on the bus after %s", busName, timeout)
	}
}

type watcherObject struct{ w *Watcher }

func (o *watcherObject) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w := o.w
	it := WatcherItem{BusName: string(sender), Path: DefaultItemPath, At: time.Now()}
	if strings.HasPrefix(service, "/") {
		it.Path = dbus.ObjectPath(service)
	} else if service != "" {
		it.BusName = service
	}
	w.mu.Lock()
	w.items = append(w.items, it)
	w.mu.Unlock()
	w.props.SetMust(watcherIface, "RegisteredStatusNotifierItems", w.registered())
	_ = w.conn.Emit(watcherPath, watcherIface+".StatusNotifierItemRegistered", it.BusName+string(it.Path))
	return nil
}

func (o *watcherObject) RegisterStatusNotifierHost(service string) *dbus.Error {
	return nil
}
