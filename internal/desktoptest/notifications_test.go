//go:build linux

package desktoptest

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func TestNotificationServerRecordsGdbusAndGodbusCalls(t *testing.T) {
	Need(t, "gdbus")
	bus := SessionBus(t)
	n := NotificationServer(t, bus.Conn(t))

	// gdbus: a separate process, types taken from our introspection data.
	cmd := exec.Command("gdbus", "call", "--session", "--dest", "org.freedesktop.Notifications",
		"--object-path", "/org/freedesktop/Notifications", "--method", "org.freedesktop.Notifications.Notify",
		"gdbus-app", "0", "", "Call timed out", "Billed 4 min", "['default', 'Open']",
		"{'urgency': <byte 2>}", "5000")
	cmd.Env = envWith(bus.Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gdbus Notify: %v: %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "(uint32 1,)" {
		t.Errorf("gdbus got id %s, want (uint32 1,)", out)
	}
	got := n.Wait(t, func(x Notification) bool { return x.AppName == "gdbus-app" }, 5*time.Second)
	if got.Summary != "Call timed out" || got.Body != "Billed 4 min" || got.Urgency != 2 || got.Timeout != 5000 ||
		len(got.Actions) != 2 || got.Actions[0] != "default" || got.ID != 1 {
		t.Errorf("recorded %+v", got)
	}

	// godbus, from the test's own client connection.
	client := bus.Conn(t)
	obj := client.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	var id uint32
	if err := obj.Call("org.freedesktop.Notifications.Notify", 0, "godbus-app", uint32(0), "", "Started", "",
		[]string{}, map[string]dbus.Variant{}, int32(-1)).Store(&id); err != nil {
		t.Fatal(err)
	}
	if id != 2 {
		t.Errorf("second id = %d, want 2", id)
	}
	g := n.Wait(t, func(x Notification) bool { return x.AppName == "godbus-app" }, 5*time.Second)
	if g.Urgency != 1 || g.Sender != client.Names()[0] {
		t.Errorf("godbus notification: urgency %d (want default 1), sender %q (want %q)", g.Urgency, g.Sender, client.Names()[0])
	}
	var caps []string
	if err := obj.Call("org.freedesktop.Notifications.GetCapabilities", 0).Store(&caps); err != nil || len(caps) == 0 {
		t.Errorf("GetCapabilities = %v, %v", caps, err)
	}
	var name, vendor, version, spec string
	if err := obj.Call("org.freedesktop.Notifications.GetServerInformation", 0).Store(&name, &vendor, &version, &spec); err != nil || spec != "1.2" {
		t.Errorf("GetServerInformation = %q %q %q %q, %v", name, vendor, version, spec, err)
	}

	// Signals: ActionInvoked from InvokeAction, NotificationClosed(3) from
	// CloseNotification.
	if err := client.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.Notifications")); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 8)
	client.Signal(sigs)
	defer client.RemoveSignal(sigs)
	if err := n.InvokeAction(1, "default"); err != nil {
		t.Fatal(err)
	}
	if err := obj.Call("org.freedesktop.Notifications.CloseNotification", 0, uint32(2)).Err; err != nil {
		t.Fatal(err)
	}
	want := []string{"ActionInvoked [1 default]", "NotificationClosed [2 3]"}
	for _, w := range want {
		select {
		case s := <-sigs:
			if got := strings.TrimPrefix(s.Name, "org.freedesktop.Notifications.") + " " + fmt.Sprint(s.Body); got != w {
				t.Errorf("signal %q, want %q", got, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no signal %q", w)
		}
	}
	if all := n.All(); len(all) != 2 || !all[1].Closed {
		t.Errorf("All() = %+v, want 2 with the second closed", all)
	}
}

func TestNotificationServerWaitFailsWithWhatArrived(t *testing.T) {
	bus := SessionBus(t)
	n := NotificationServer(t, bus.Conn(t))
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Wait(ft, func(Notification) bool { return true }, 100*time.Millisecond)
	}()
	<-done
	if !ft.failed || !strings.Contains(ft.msg, "received: none") {
		t.Errorf("Wait on nothing: failed=%v msg=%q", ft.failed, ft.msg)
	}
}

func TestWatcherRecordsRegistrationByName(t *testing.T) {
	bus := SessionBus(t)
	w := StatusNotifierWatcher(t, bus.Conn(t))
	item := bus.Conn(t)
	if _, err := item.RequestName("org.example.Item", dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
	obj := item.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher")
	if err := obj.Call("org.kde.StatusNotifierWatcher.RegisterStatusNotifierItem", 0, "org.example.Item").Err; err != nil {
		t.Fatal(err)
	}
	if got := w.WaitItem(t, 5*time.Second); got != "org.example.Item" {
		t.Errorf("WaitItem = %q", got)
	}
	v, err := obj.GetProperty("org.kde.StatusNotifierWatcher.RegisteredStatusNotifierItems")
	if err != nil || len(v.Value().([]string)) != 1 || v.Value().([]string)[0] != "org.example.Item/StatusNotifierItem" {
		t.Errorf("RegisteredStatusNotifierItems = %v, %v", v, err)
	}
	host, err := obj.GetProperty("org.kde.StatusNotifierWatcher.IsStatusNotifierHostRegistered")
	if err != nil || host.Value() != true {
		t.Errorf("IsStatusNotifierHostRegistered = %v, %v", host, err)
	}
	if _, err := item.ReleaseName("org.example.Item"); err != nil {
		t.Fatal(err)
	}
	w.WaitGone(t, "org.example.Item", 5*time.Second)
}
