//go:build linux

package power

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ultravox-tray/ultravox-tray/app/power/powertest"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// logBuf collects Logf lines.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuf) logf(f string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, fmt.Sprintf(f, a...))
}

func (b *logBuf) count(sub string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range b.lines {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

func newLogind(t *testing.T, bus *desktoptest.Bus, logs *logBuf) *Logind {
	t.Helper()
	l, err := connectLogind(Options{SystemBusAddress: bus.Address, SessionID: "c1", Logf: logs.logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLogindSignalsBecomeEvents(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	fake := powertest.StartLogind(t, bus, powertest.LogindOptions{InhibitDelayMax: 1500 * time.Millisecond})
	l := newLogind(t, bus, &logBuf{})
	if got := l.InhibitDelayMax(); got != 1500*time.Millisecond {
		t.Fatalf("InhibitDelayMax = %s, want the property's 1.5s", got)
	}
	if l.Session() != fake.SessionPath() {
		t.Fatalf("session %q, want %q", l.Session(), fake.SessionPath())
	}
	ch := l.Events()

	sent := fake.PrepareForSleep(true)
	ev := nextEvent(t, ch)
	if ev.Kind != WillSleep {
		t.Fatalf("PrepareForSleep(true) gave %v", ev.Kind)
	}
	if ev.Deadline.Before(sent.Add(1500*time.Millisecond)) || ev.Deadline.After(time.Now().Add(1500*time.Millisecond)) {
		t.Fatalf("deadline %s is not signal time + InhibitDelayMax (sent %s)", ev.Deadline, sent)
	}
	ev.Ack()
	ev.Ack() // twice is fine

	fake.PrepareForSleep(false)
	if ev := nextEvent(t, ch); ev.Kind != DidWake || !ev.Deadline.IsZero() {
		t.Fatalf("PrepareForSleep(false) gave %v deadline %s", ev.Kind, ev.Deadline)
	}
	fake.PrepareForShutdown(true)
	if ev := nextEvent(t, ch); ev.Kind != WillShutdown || ev.Deadline.IsZero() {
		t.Fatalf("PrepareForShutdown(true) gave %v deadline %s", ev.Kind, ev.Deadline)
	}
	fake.PrepareForShutdown(false)
	if ev := nextEvent(t, ch); ev.Kind != DidWake || ev.Reason != "logind: shutdown cancelled" {
		t.Fatalf("PrepareForShutdown(false) gave %v %q", ev.Kind, ev.Reason)
	}

	// Lock via the signal, then LockedHint says the same: one Locked.
	fake.Lock()
	if ev := nextEvent(t, ch); ev.Kind != Locked {
		t.Fatalf("Lock gave %v", ev.Kind)
	}
	fake.SetLockedHint(true)
	fake.Unlock()
	if ev := nextEvent(t, ch); ev.Kind != Unlocked {
		t.Fatalf("after LockedHint=true (a repeat) and Unlock: got %v, want Unlocked", ev.Kind)
	}
	fake.SetLockedHint(false)
	fake.SetLockedHint(true)
	if ev := nextEvent(t, ch); ev.Kind != Locked || ev.Reason != "logind LockedHint" {
		t.Fatalf("LockedHint false (repeat) then true: got %v %q, want Locked from LockedHint", ev.Kind, ev.Reason)
	}

	// A PrepareForSleep from anyone but logind is not believed.
	other := bus.Conn(t)
	if err := other.Emit("/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", true); err != nil {
		t.Fatal(err)
	}
	fake.PrepareForShutdown(true)
	if ev := nextEvent(t, ch); ev.Kind != WillShutdown {
		t.Fatalf("a PrepareForSleep from a non-logind sender got through: %v (%s)", ev.Kind, ev.Reason)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for ev := range ch {
		t.Fatalf("event after Close: %v", ev.Kind)
	}
}

func TestLogindInhibitorIsReleasedByAck(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	fake := powertest.StartLogind(t, bus, powertest.LogindOptions{InhibitDelayMax: 2 * time.Second})
	l := newLogind(t, bus, &logBuf{})
	if l.Holding() {
		t.Fatal("holding a lock before Inhibit")
	}
	if err := l.Inhibit(); err != nil {
		t.Fatal(err)
	}
	if err := l.Inhibit(); err != nil { // idempotent: still one lock
		t.Fatal(err)
	}
	fake.WaitHeld(1, 5*time.Second)
	locks := fake.Inhibitors()
	if len(locks) != 1 {
		t.Fatalf("want exactly one lock, got %+v", locks)
	}
	got := locks[0]
	if got.What != "sleep:shutdown" || got.Who != "Ultravox Tray" || got.Why != "Ending the live call before sleep" || got.Mode != "delay" || got.PID != uint32(os.Getpid()) {
		t.Fatalf("lock %+v: want sleep:shutdown / Ultravox Tray / Ending the live call before sleep / delay from pid %d", got, os.Getpid())
	}
	if !l.Holding() {
		t.Fatal("Holding is false with a lock held")
	}

	sent := fake.PrepareForSleep(true)
	ev := nextEvent(t, l.Events())
	if fake.Held() != 1 {
		t.Fatal("the lock went away before Ack")
	}
	ev.Ack()
	released := fake.WaitReleased(5 * time.Second)
	if !released.Before(sent.Add(fake.InhibitDelayMax())) {
		t.Fatalf("released %s after the signal, past the %s delay", released.Sub(sent), fake.InhibitDelayMax())
	}
	if l.Holding() {
		t.Fatal("Holding after Ack")
	}

	// Take it again, and Close releases it.
	if err := l.Inhibit(); err != nil {
		t.Fatal(err)
	}
	fake.WaitHeld(1, 5*time.Second)
	l.Close()
	fake.WaitReleased(5 * time.Second)
	if err := l.Inhibit(); err == nil {
		t.Fatal("Inhibit after Close succeeded")
	}
}

func TestLogindRefusedInhibitStillDeliversSignals(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	fake := powertest.StartLogind(t, bus, powertest.LogindOptions{})
	fake.Refuse(true)
	l := newLogind(t, bus, &logBuf{})
	err := l.Inhibit()
	if err == nil || !strings.Contains(err.Error(), "logind refused the sleep delay lock") || !strings.Contains(err.Error(), "Permission denied") {
		t.Fatalf("Inhibit with logind refusing: got %v, want a clear refusal", err)
	}
	if l.Holding() || len(fake.Inhibitors()) != 0 {
		t.Fatal("a refused Inhibit left a lock")
	}
	fake.PrepareForSleep(true)
	ev := nextEvent(t, l.Events())
	if ev.Kind != WillSleep {
		t.Fatalf("got %v", ev.Kind)
	}
	ev.Ack() // nothing held: a no-op
}

func TestLogindDefaultDelayWhenPropertyMissing(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	powertest.StartLogind(t, bus, powertest.LogindOptions{NoInhibitDelayMax: true})
	logs := &logBuf{}
	l := newLogind(t, bus, logs)
	if l.InhibitDelayMax() != 5*time.Second {
		t.Fatalf("InhibitDelayMax = %s, want the 5s default", l.InhibitDelayMax())
	}
	if logs.count("cannot read logind's InhibitDelayMaxUSec") != 1 {
		t.Fatalf("want one log line about the unreadable property: %q", logs.lines)
	}
}

func TestLogindAbsentThenAppears(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	logs := &logBuf{}
	l := newLogind(t, bus, logs)
	if l.InhibitDelayMax() != DefaultDelay || l.Session() != "" {
		t.Fatalf("without logind: delay %s session %q", l.InhibitDelayMax(), l.Session())
	}
	if logs.count("no logind session") != 1 {
		t.Fatalf("want one log line about the missing session: %q", logs.lines)
	}
	if err := l.Inhibit(); err == nil || !strings.Contains(err.Error(), "org.freedesktop.login1") {
		t.Fatalf("Inhibit without logind: got %v, want an error naming org.freedesktop.login1", err)
	}
	// logind starts later: its signals still reach us.
	fake := powertest.StartLogind(t, bus, powertest.LogindOptions{})
	fake.PrepareForSleep(true)
	if ev := nextEvent(t, l.Events()); ev.Kind != WillSleep {
		t.Fatalf("got %v", ev.Kind)
	}
}

func TestLogindSessionByPID(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	fake := powertest.StartLogind(t, bus, powertest.LogindOptions{SessionID: "7"})
	t.Setenv("XDG_SESSION_ID", "")
	l, err := connectLogind(Options{SystemBusAddress: bus.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Session() != fake.SessionPath() {
		t.Fatalf("session %q, want %q (by PID)", l.Session(), fake.SessionPath())
	}
	t.Setenv("XDG_SESSION_ID", "7")
	l2, err := connectLogind(Options{SystemBusAddress: bus.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.Session() != fake.SessionPath() {
		t.Fatalf("session %q, want %q (from XDG_SESSION_ID)", l2.Session(), fake.SessionPath())
	}
}

func TestOpenWithUnreachableExplicitBusFails(t *testing.T) {
	_, err := Open(Options{SystemBusAddress: "unix:path=/nonexistent/uvt-test-bus", NoClockJump: true})
	if err == nil || !strings.Contains(err.Error(), "cannot connect to the D-Bus system bus at unix:path=/nonexistent/uvt-test-bus") {
		t.Fatalf("got %v", err)
	}
}

func TestOpenWatchesScreenSaverAndLogind(t *testing.T) {
	sys := desktoptest.SystemBus(t)
	sess := desktoptest.SessionBus(t)
	fake := powertest.StartLogind(t, sys, powertest.LogindOptions{})
	src, err := Open(Options{SystemBusAddress: sys.Address, SessionBusAddress: sess.Address, SessionID: "c1", NoClockJump: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	saver := sess.Conn(t)
	for _, sig := range []struct {
		path dbus.ObjectPath
		name string
		val  bool
		want Kind
	}{
		{"/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", true, Locked},
		{"/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", false, Unlocked},
		{"/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver.ActiveChanged", true, Locked},
	} {
		if err := saver.Emit(sig.path, sig.name, sig.val); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, src.Events()); ev.Kind != sig.want || ev.Reason != sig.name {
			t.Fatalf("%s(%v): got %v %q, want %v", sig.name, sig.val, ev.Kind, ev.Reason, sig.want)
		}
	}
	// The merged source carries logind's inhibitor.
	inh, ok := src.(Inhibitor)
	if !ok {
		t.Fatal("Open's source is not an Inhibitor on Linux")
	}
	if err := inh.Inhibit(); err != nil {
		t.Fatal(err)
	}
	fake.WaitHeld(1, 5*time.Second)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	fake.WaitReleased(5 * time.Second)
}
