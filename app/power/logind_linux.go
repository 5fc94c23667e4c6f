//go:build linux

package power

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ultravox-tray/ultravox-tray/internal/sessionbus"
)

const (
	logindName      = "org.freedesktop.login1"
	logindPath      = dbus.ObjectPath("/org/freedesktop/login1")
	logindManager   = "org.freedesktop.login1.Manager"
	logindSession   = "org.freedesktop.login1.Session"
	propsIface      = "org.freedesktop.DBus.Properties"
	fdoScreenSaver  = "org.freedesktop.ScreenSaver"
	gnomeScreenSave = "org.gnome.ScreenSaver"

	callTimeout = 3 * time.Second
)

// Open starts the Linux sources: logind on the system bus, the screen saver
// on the session bus, and the clock-jump detector. A missing logind or bus
// is logged once and the rest keeps working; only an explicitly given bus
// address that cannot be reached is an error.
func Open(opts Options) (Source, error) {
	opts.defaults()
	var srcs []Source
	l, err := connectLogind(opts)
	switch {
	case err == nil:
		srcs = append(srcs, l)
	case opts.SystemBusAddress != "":
		return nil, err
	default:
		opts.Logf.printf("power: %v; sleep and shutdown are noticed only by the clock-jump check", err)
	}
	if s, err := newScreenSaver(opts); err != nil {
		if opts.SessionBusAddress != "" {
			for _, src := range srcs {
				_ = src.Close()
			}
			return nil, err
		}
		opts.Logf.printf("power: %v; screen saver lock not watched", err)
	} else if s != nil {
		srcs = append(srcs, s)
	}
	return withClockJump(opts, srcs...), nil
}

// Logind is the logind source: PrepareForSleep, PrepareForShutdown, the
// session's Lock/Unlock and LockedHint, and the delay inhibitor (it
// implements Inhibitor). WillSleep and WillShutdown events carry the deadline
// InhibitDelayMaxUSec after the signal, and their Ack releases the lock.
type Logind struct {
	conn     *dbus.Conn
	mgr      dbus.BusObject
	session  dbus.ObjectPath // empty when we have no session
	delayMax time.Duration
	who, why string
	logf     Logf

	mu sync.Mutex // guards fd
	fd int        // the inhibitor; -1 when none is held

	locked bool // last lock state seen; owned by run after start

	sig  chan *dbus.Signal
	ch   chan Event
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// connectLogind connects to the system bus (Options.SystemBusAddress, else
// DBUS_SYSTEM_BUS_ADDRESS, else the standard socket) and subscribes to
// logind's signals. logind itself need not be running: its signals are
// received whenever it appears; its properties then take their defaults.
func connectLogind(opts Options) (*Logind, error) {
	opts.defaults()
	addr := opts.SystemBusAddress
	if addr == "" {
		addr = os.Getenv("DBUS_SYSTEM_BUS_ADDRESS")
	}
	if addr == "" {
		for _, p := range []string{"/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket"} {
			if _, err := os.Stat(p); err == nil {
				addr = "unix:path=" + p
				break
			}
		}
	}
	if addr == "" {
		return nil, errors.New("no D-Bus system bus (DBUS_SYSTEM_BUS_ADDRESS unset and no /run/dbus/system_bus_socket)")
	}
	conn, err := dbus.Connect(addr, dbus.WithSignalHandler(dbus.NewSequentialSignalHandler()))
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the D-Bus system bus at %s: %w", addr, err)
	}
	l := &Logind{
		conn:     conn,
		mgr:      conn.Object(logindName, logindPath),
		delayMax: DefaultDelay,
		who:      opts.Who,
		why:      opts.Why,
		logf:     opts.Logf,
		fd:       -1,
		sig:      make(chan *dbus.Signal, 16),
		ch:       make(chan Event, 8),
		done:     make(chan struct{}),
	}
	conn.Signal(l.sig)
	if err := l.subscribe(opts.SessionID); err != nil {
		_ = conn.Close()
		return nil, err
	}
	l.wg.Add(1)
	go l.run()
	return l, nil
}

func (l *Logind) subscribe(sessionID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	for _, member := range []string{"PrepareForSleep", "PrepareForShutdown"} {
		if err := l.conn.AddMatchSignalContext(ctx,
			dbus.WithMatchSender(logindName),
			dbus.WithMatchObjectPath(logindPath),
			dbus.WithMatchInterface(logindManager),
			dbus.WithMatchMember(member)); err != nil {
			return fmt.Errorf("cannot subscribe to logind's %s on the system bus: %w", member, err)
		}
	}

	var v dbus.Variant
	if err := l.mgr.CallWithContext(ctx, propsIface+".Get", 0, logindManager, "InhibitDelayMaxUSec").Store(&v); err != nil {
		l.logf.printf("power: cannot read logind's InhibitDelayMaxUSec (%v); assuming %s", err, DefaultDelay)
	} else if us, ok := v.Value().(uint64); !ok || us == 0 {
		l.logf.printf("power: logind's InhibitDelayMaxUSec is %v, not a positive uint64; assuming %s", v, DefaultDelay)
	} else {
		l.delayMax = time.Duration(us) * time.Microsecond
	}

	if sessionID == "" {
		sessionID = os.Getenv("XDG_SESSION_ID")
	}
	var session dbus.ObjectPath
	var err error
	if sessionID != "" {
		err = l.mgr.CallWithContext(ctx, logindManager+".GetSession", 0, sessionID).Store(&session)
	} else {
		err = l.mgr.CallWithContext(ctx, logindManager+".GetSessionByPID", 0, uint32(os.Getpid())).Store(&session)
	}
	if err != nil {
		which := "of this process"
		if sessionID != "" {
			which = fmt.Sprintf("%q", sessionID)
		}
		l.logf.printf("power: no logind session %s (%v); session lock is not watched through logind", which, err)
		return nil
	}
	for _, member := range []string{"Lock", "Unlock"} {
		if err := l.conn.AddMatchSignalContext(ctx,
			dbus.WithMatchSender(logindName),
			dbus.WithMatchObjectPath(session),
			dbus.WithMatchInterface(logindSession),
			dbus.WithMatchMember(member)); err != nil {
			return fmt.Errorf("cannot subscribe to the logind session's %s: %w", member, err)
		}
	}
	if err := l.conn.AddMatchSignalContext(ctx,
		dbus.WithMatchSender(logindName),
		dbus.WithMatchObjectPath(session),
		dbus.WithMatchInterface(propsIface),
		dbus.WithMatchMember("PropertiesChanged"),
		dbus.WithMatchArg(0, logindSession)); err != nil {
		return fmt.Errorf("cannot subscribe to the logind session's property changes: %w", err)
	}
	l.session = session
	var hint dbus.Variant
	if err := l.conn.Object(logindName, session).CallWithContext(ctx, propsIface+".Get", 0, logindSession, "LockedHint").Store(&hint); err == nil {
		if b, ok := hint.Value().(bool); ok {
			l.locked = b
		}
	}
	return nil
}

// InhibitDelayMax is logind's grace period as read at start (or the default).
func (l *Logind) InhibitDelayMax() time.Duration { return l.delayMax }

// Session is our logind session's object path; empty when there is none.
func (l *Logind) Session() dbus.ObjectPath { return l.session }

func (l *Logind) run() {
	defer l.wg.Done()
	defer close(l.ch)
	for {
		select {
		case <-l.done:
			return
		case s, ok := <-l.sig:
			if !ok {
				return
			}
			if ev, ok := l.translate(s); ok && !l.send(ev) {
				return
			}
		}
	}
}

func (l *Logind) send(ev Event) bool {
	select {
	case l.ch <- ev:
		return true
	case <-l.done:
		ev.Ack()
		return false
	}
}

// translate turns one D-Bus signal into an event; false when it means nothing
// to us (a repeated lock state, a property we do not watch, a bad body).
func (l *Logind) translate(s *dbus.Signal) (Event, bool) {
	switch {
	case s.Path == logindPath && (s.Name == logindManager+".PrepareForSleep" || s.Name == logindManager+".PrepareForShutdown"):
		start, ok := boolArg(s)
		if !ok {
			l.logf.printf("power: ignoring %s with body %v (want one boolean)", s.Name, s.Body)
			return Event{}, false
		}
		sleep := s.Name == logindManager+".PrepareForSleep"
		switch {
		case start && sleep:
			return Event{Kind: WillSleep, Deadline: time.Now().Add(l.delayMax), Ack: onceAck(l.Release), Reason: "logind PrepareForSleep"}, true
		case start:
			return Event{Kind: WillShutdown, Deadline: time.Now().Add(l.delayMax), Ack: onceAck(l.Release), Reason: "logind PrepareForShutdown"}, true
		case sleep:
			return Event{Kind: DidWake, Ack: noAck, Reason: "logind: resumed from sleep"}, true
		default:
			return Event{Kind: DidWake, Ack: noAck, Reason: "logind: shutdown cancelled"}, true
		}
	case l.session != "" && s.Path == l.session && s.Name == logindSession+".Lock":
		return l.lockEvent(true, "logind session Lock")
	case l.session != "" && s.Path == l.session && s.Name == logindSession+".Unlock":
		return l.lockEvent(false, "logind session Unlock")
	case l.session != "" && s.Path == l.session && s.Name == propsIface+".PropertiesChanged":
		if len(s.Body) < 2 {
			return Event{}, false
		}
		if iface, _ := s.Body[0].(string); iface != logindSession {
			return Event{}, false
		}
		changed, _ := s.Body[1].(map[string]dbus.Variant)
		v, ok := changed["LockedHint"]
		if !ok {
			return Event{}, false
		}
		b, ok := v.Value().(bool)
		if !ok {
			return Event{}, false
		}
		return l.lockEvent(b, "logind LockedHint")
	}
	return Event{}, false
}

// lockEvent runs on the run goroutine only (l.locked is its own).
func (l *Logind) lockEvent(locked bool, reason string) (Event, bool) {
	if l.locked == locked {
		return Event{}, false
	}
	l.locked = locked
	k := Unlocked
	if locked {
		k = Locked
	}
	return Event{Kind: k, Ack: noAck, Reason: reason}, true
}

func boolArg(s *dbus.Signal) (bool, bool) {
	if len(s.Body) != 1 {
		return false, false
	}
	b, ok := s.Body[0].(bool)
	return b, ok
}

// Events delivers logind's events.
func (l *Logind) Events() <-chan Event { return l.ch }

// Inhibit takes a "delay" lock for "sleep:shutdown" unless one is held.
func (l *Logind) Inhibit() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd >= 0 {
		return nil
	}
	select {
	case <-l.done:
		return errors.New("power: logind source is closed")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var fd dbus.UnixFD
	if err := l.mgr.CallWithContext(ctx, logindManager+".Inhibit", 0, "sleep:shutdown", l.who, l.why, "delay").Store(&fd); err != nil {
		return fmt.Errorf("logind refused the sleep delay lock: %w", err)
	}
	if fd < 0 {
		return fmt.Errorf("logind returned an invalid file descriptor %d for the sleep delay lock", fd)
	}
	l.fd = int(fd)
	return nil
}

// Release closes the inhibitor fd if one is held, which lets logind go on.
func (l *Logind) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd >= 0 {
		if err := syscall.Close(l.fd); err != nil {
			l.logf.printf("power: closing the sleep delay lock: %v", err)
		}
		l.fd = -1
	}
}

// Holding reports whether the delay lock is held.
func (l *Logind) Holding() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fd >= 0
}

// Close stops the source, releases the lock and closes the bus connection.
func (l *Logind) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		l.Release()
		err = l.conn.Close()
		l.wg.Wait()
	})
	return err
}

// screenSaver watches ActiveChanged of org.freedesktop.ScreenSaver and
// org.gnome.ScreenSaver on the session bus.
type screenSaver struct {
	conn   *dbus.Conn
	sig    chan *dbus.Signal
	ch     chan Event
	done   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	active bool
}

// newScreenSaver returns nil, nil when no session bus address is known.
func newScreenSaver(opts Options) (*screenSaver, error) {
	addr := opts.SessionBusAddress
	if addr == "" {
		addr, _ = sessionbus.Address() // never one dbus-launch would start
	}
	if addr == "" {
		return nil, nil
	}
	conn, err := dbus.Connect(addr, dbus.WithSignalHandler(dbus.NewSequentialSignalHandler()))
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the D-Bus session bus: %w", err)
	}
	s := &screenSaver{conn: conn, sig: make(chan *dbus.Signal, 8), ch: make(chan Event, 4), done: make(chan struct{})}
	conn.Signal(s.sig)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	for _, iface := range []string{fdoScreenSaver, gnomeScreenSave} {
		if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchInterface(iface), dbus.WithMatchMember("ActiveChanged")); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("cannot subscribe to %s.ActiveChanged: %w", iface, err)
		}
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

func (s *screenSaver) run() {
	defer s.wg.Done()
	defer close(s.ch)
	for {
		select {
		case <-s.done:
			return
		case sig, ok := <-s.sig:
			if !ok {
				return
			}
			if sig.Name != fdoScreenSaver+".ActiveChanged" && sig.Name != gnomeScreenSave+".ActiveChanged" {
				continue
			}
			active, ok := boolArg(sig)
			if !ok || active == s.active {
				continue
			}
			s.active = active
			ev := Event{Kind: Unlocked, Ack: noAck, Reason: sig.Name}
			if active {
				ev.Kind = Locked
			}
			select {
			case s.ch <- ev:
			case <-s.done:
				return
			}
		}
	}
}

func (s *screenSaver) Events() <-chan Event { return s.ch }

func (s *screenSaver) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.conn.Close()
		s.wg.Wait()
	})
	return err
}
