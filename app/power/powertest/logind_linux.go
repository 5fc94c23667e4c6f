//go:build linux

package powertest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

const (
	logindName    = "org.freedesktop.login1"
	logindPath    = dbus.ObjectPath("/org/freedesktop/login1")
	managerIface  = "org.freedesktop.login1.Manager"
	sessionIface  = "org.freedesktop.login1.Session"
	accessDenied  = "org.freedesktop.DBus.Error.AccessDenied"
	noSuchSession = "org.freedesktop.login1.NoSuchSession"
)

// LogindOptions configure StartLogind.
type LogindOptions struct {
	// InhibitDelayMax is the InhibitDelayMaxUSec property; default 5 s.
	InhibitDelayMax time.Duration
	// SessionID is the one session the fake knows (GetSession answers it,
	// GetSessionByPID answers it for any PID); default "c1".
	SessionID string
	// NoInhibitDelayMax leaves the property out (the client must fall back
	// to its default).
	NoInhibitDelayMax bool
}

// Inhibitor is one lock handed out by the fake.
type Inhibitor struct {
	What, Who, Why, Mode string
	PID                  uint32    // the caller's process
	Taken                time.Time // when Inhibit answered
	Released             time.Time // when the caller's fd reached EOF; zero while held
}

// Logind is a logind-shaped service owned by the test on a private system
// bus: org.freedesktop.login1 with the Manager (Inhibit, GetSession,
// GetSessionByPID, InhibitDelayMaxUSec) and one session (LockedHint, Lock and
// Unlock signals).
type Logind struct {
	t       testing.TB
	conn    *dbus.Conn
	delay   time.Duration
	session dbus.ObjectPath
	props   *prop.Properties

	mu       sync.Mutex
	refuse   *dbus.Error
	attempts int // Inhibit calls, refused ones included
	locks    []*Inhibitor
	changed  chan struct{} // closed and replaced on every lock change
	wg       sync.WaitGroup
	closing  chan struct{}
	readers  []*os.File
	// wantsReply: serials of Inhibit calls whose reply the fake sends itself.
	wantsReply map[uint32]bool
}

// StartLogind owns org.freedesktop.login1 on bus (a desktoptest.SystemBus)
// until the test ends. Point the code under test at bus.Address (Options or
// DBUS_SYSTEM_BUS_ADDRESS).
func StartLogind(t testing.TB, bus *desktoptest.Bus, opts LogindOptions) *Logind {
	t.Helper()
	if opts.InhibitDelayMax <= 0 {
		opts.InhibitDelayMax = 5 * time.Second
	}
	if opts.SessionID == "" {
		opts.SessionID = "c1"
	}
	l := &Logind{
		t:          t,
		delay:      opts.InhibitDelayMax,
		session:    dbus.ObjectPath("/org/freedesktop/login1/session/" + opts.SessionID),
		changed:    make(chan struct{}),
		closing:    make(chan struct{}),
		wantsReply: map[uint32]bool{},
	}
	conn, err := dbus.Connect(bus.Address, dbus.WithIncomingInterceptor(l.intercept))
	if err != nil {
		t.Fatalf("powertest: connect the fake logind to %s: %v", bus.Address, err)
	}
	l.conn = conn
	t.Cleanup(l.close)

	m := &manager{l: l, id: opts.SessionID}
	if err := conn.Export(m, logindPath, managerIface); err != nil {
		t.Fatalf("powertest: export the logind manager: %v", err)
	}
	mprops := prop.Map{managerIface: {}}
	if !opts.NoInhibitDelayMax {
		mprops[managerIface]["InhibitDelayMaxUSec"] = &prop.Prop{Value: uint64(opts.InhibitDelayMax / time.Microsecond), Emit: prop.EmitConst}
	}
	if _, err := prop.Export(conn, logindPath, mprops); err != nil {
		t.Fatalf("powertest: export the logind manager's properties: %v", err)
	}
	l.props, err = prop.Export(conn, l.session, prop.Map{sessionIface: {
		"Id":         {Value: opts.SessionID, Emit: prop.EmitConst},
		"LockedHint": {Value: false, Emit: prop.EmitTrue},
	}})
	if err != nil {
		t.Fatalf("powertest: export the logind session: %v", err)
	}
	reply, err := conn.RequestName(logindName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("powertest: own %s: reply %v, %v", logindName, reply, err)
	}
	return l
}

// manager is the exported org.freedesktop.login1.Manager.
type manager struct {
	l  *Logind
	id string
}

func (m *manager) GetSession(id string) (dbus.ObjectPath, *dbus.Error) {
	if id != m.id {
		return "", dbus.NewError(noSuchSession, []any{fmt.Sprintf("No session '%s' known", id)})
	}
	return m.l.session, nil
}

func (m *manager) GetSessionByPID(pid uint32) (dbus.ObjectPath, *dbus.Error) {
	return m.l.session, nil
}

// Inhibit hands out the write end of a pipe; the lock is released when every
// copy of it is closed, which the fake sees as EOF on the read end.
//
// The fake must close its own copy of the write end, but only after the
// reply carrying it was written to the bus (closing it earlier would send a
// dead fd; never closing it would hide the caller's release). godbus sends
// an exported method's reply after the method returns, with no hook after
// the write, so the fake replies itself: the incoming interceptor (see
// StartLogind) marks Inhibit calls "no reply expected" for godbus and
// records that the caller does expect one; Inhibit then writes the reply
// with conn.Send, which returns after the write, and closes its copy.
func (m *manager) Inhibit(msg dbus.Message, what, who, why, mode string) *dbus.Error {
	l := m.l
	sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
	wantsReply := l.takeWantsReply(msg.Serial())
	reply := func(body ...any) {
		if !wantsReply {
			return
		}
		r := &dbus.Message{Type: dbus.TypeMethodReply, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldDestination: dbus.MakeVariant(sender),
			dbus.FieldReplySerial: dbus.MakeVariant(msg.Serial()),
		}, Body: body}
		if len(body) > 0 {
			r.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
		}
		l.conn.Send(r, nil)
	}
	fail := func(e *dbus.Error) *dbus.Error {
		if wantsReply {
			r := &dbus.Message{Type: dbus.TypeError, Headers: map[dbus.HeaderField]dbus.Variant{
				dbus.FieldDestination: dbus.MakeVariant(sender),
				dbus.FieldReplySerial: dbus.MakeVariant(msg.Serial()),
				dbus.FieldErrorName:   dbus.MakeVariant(e.Name),
			}, Body: e.Body}
			if len(e.Body) > 0 {
				r.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(e.Body...))
			}
			l.conn.Send(r, nil)
		}
		return nil
	}

	l.mu.Lock()
	refuse := l.refuse
	l.attempts++
	l.notifyLocked()
	l.mu.Unlock()
	if refuse != nil {
		return fail(refuse)
	}
	if mode != "delay" && mode != "block" {
		return fail(dbus.NewError("org.freedesktop.DBus.Error.InvalidArgs", []any{"Invalid mode specification " + mode}))
	}
	var pid uint32
	if err := l.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, sender).Store(&pid); err != nil {
		return fail(dbus.MakeFailedError(fmt.Errorf("cannot find the caller's PID: %w", err)))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(dbus.MakeFailedError(err))
	}
	lock := &Inhibitor{What: what, Who: who, Why: why, Mode: mode, PID: pid, Taken: time.Now()}
	l.mu.Lock()
	select {
	case <-l.closing:
		l.mu.Unlock()
		r.Close()
		w.Close()
		return fail(dbus.MakeFailedError(errors.New("the test logind is shutting down")))
	default:
	}
	l.locks = append(l.locks, lock)
	l.readers = append(l.readers, r)
	l.notifyLocked()
	l.mu.Unlock()

	reply(dbus.UnixFD(w.Fd()))
	w.Close()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		_, _ = io.Copy(io.Discard, r)
		l.mu.Lock()
		lock.Released = time.Now()
		l.notifyLocked()
		l.mu.Unlock()
	}()
	return nil
}

// intercept runs on godbus's reader goroutine for every incoming message:
// see Inhibit.
func (l *Logind) intercept(msg *dbus.Message) {
	if msg.Type != dbus.TypeMethodCall || msg.Flags&dbus.FlagNoReplyExpected != 0 {
		return
	}
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	iface, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	if member != "Inhibit" || (iface != managerIface && iface != "") {
		return
	}
	l.mu.Lock()
	l.wantsReply[msg.Serial()] = true
	l.mu.Unlock()
	msg.Flags |= dbus.FlagNoReplyExpected
}

func (l *Logind) takeWantsReply(serial uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ok := l.wantsReply[serial]
	delete(l.wantsReply, serial)
	return ok
}

func (l *Logind) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Refuse makes Inhibit answer with a D-Bus error (AccessDenied, as logind
// does when polkit says no); Refuse(false) accepts again.
func (l *Logind) Refuse(refuse bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refuse = nil
	if refuse {
		l.refuse = dbus.NewError(accessDenied, []any{"Permission denied (test logind refuses inhibitors)"})
	}
}

// InhibitDelayMax is the grace period the fake announces.
func (l *Logind) InhibitDelayMax() time.Duration { return l.delay }

// SessionPath is the fake session's object path.
func (l *Logind) SessionPath() dbus.ObjectPath { return l.session }

// PrepareForSleep emits the signal and returns when it was sent.
func (l *Logind) PrepareForSleep(start bool) time.Time {
	return l.emit(logindPath, managerIface+".PrepareForSleep", start)
}

// PrepareForShutdown emits the signal and returns when it was sent.
func (l *Logind) PrepareForShutdown(start bool) time.Time {
	return l.emit(logindPath, managerIface+".PrepareForShutdown", start)
}

// Lock emits the session's Lock signal (logind asks the session to lock).
func (l *Logind) Lock() time.Time { return l.emit(l.session, sessionIface+".Lock") }

// Unlock emits the session's Unlock signal.
func (l *Logind) Unlock() time.Time { return l.emit(l.session, sessionIface+".Unlock") }

// SetLockedHint sets the session's LockedHint and emits PropertiesChanged.
func (l *Logind) SetLockedHint(locked bool) {
	l.props.SetMust(sessionIface, "LockedHint", locked)
}

func (l *Logind) emit(path dbus.ObjectPath, name string, args ...any) time.Time {
	now := time.Now()
	if err := l.conn.Emit(path, name, args...); err != nil {
		l.t.Errorf("powertest: emit %s: %v", name, err)
	}
	return now
}

// Inhibitors returns every lock handed out so far, in order.
func (l *Logind) Inhibitors() []Inhibitor {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Inhibitor, len(l.locks))
	for i, x := range l.locks {
		out[i] = *x
	}
	return out
}

// Attempts is the number of Inhibit calls so far, refused ones included.
func (l *Logind) Attempts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts
}

// WaitAttempts waits until at least n Inhibit calls were made, failing the
// test after timeout.
func (l *Logind) WaitAttempts(n int, timeout time.Duration) {
	l.t.Helper()
	if !l.wait(timeout, func() bool { return l.attempts >= n }) {
		l.t.Fatalf("powertest: %d Inhibit call(s) after %s, want %d", l.Attempts(), timeout, n)
	}
}

// Held is the number of locks handed out and not released.
func (l *Logind) Held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.locks {
		if x.Released.IsZero() {
			n++
		}
	}
	return n
}

// WaitHeld waits until n locks are held, failing the test after timeout.
func (l *Logind) WaitHeld(n int, timeout time.Duration) {
	l.t.Helper()
	if !l.wait(timeout, func() bool { return l.heldLocked() == n }) {
		l.t.Fatalf("powertest: %d inhibitor(s) held after %s, want %d: %+v", l.Held(), timeout, n, l.Inhibitors())
	}
}

// WaitReleased waits until no lock is held and returns when the last one was
// released, failing the test after timeout.
func (l *Logind) WaitReleased(timeout time.Duration) time.Time {
	l.t.Helper()
	if !l.wait(timeout, func() bool { return l.heldLocked() == 0 }) {
		l.t.Fatalf("powertest: inhibitor still held %s after the wait began: %+v", timeout, l.Inhibitors())
	}
	var last time.Time
	for _, x := range l.Inhibitors() {
		if x.Released.After(last) {
			last = x.Released
		}
	}
	return last
}

func (l *Logind) heldLocked() int {
	n := 0
	for _, x := range l.locks {
		if x.Released.IsZero() {
			n++
		}
	}
	return n
}

// wait runs cond under l.mu each time the locks change, until it holds or
// timeout passes.
func (l *Logind) wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ok := cond()
		ch := l.changed
		l.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

func (l *Logind) close() {
	l.mu.Lock()
	close(l.closing)
	l.mu.Unlock()
	l.conn.Close()
	l.mu.Lock()
	for _, r := range l.readers {
		r.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}
