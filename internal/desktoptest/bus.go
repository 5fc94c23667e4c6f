package desktoptest

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Bus is a private dbus-daemon started for one test.
type Bus struct {
	// Address is the bus address (unix:path=...), for DBUS_SESSION_BUS_ADDRESS
	// or DBUS_SYSTEM_BUS_ADDRESS.
	Address string
	// System is true for a bus started by SystemBus.
	System bool

	proc *proc
}

// SessionBus starts a private session bus that activates nothing (no
// standard service directories): a name is owned only if a test or the code
// under test owns it. Stopped at t.Cleanup.
func SessionBus(t testing.TB) *Bus {
	t.Helper()
	return startBus(t, false, "")
}

// SessionBusWithServices is SessionBus whose only service directory is dir:
// D-Bus activation starts the .service files found there (for example one
// that runs gnome-keyring-daemon). Activated daemons are children of the
// bus and are stopped with it.
func SessionBusWithServices(t testing.TB, dir string) *Bus {
	t.Helper()
	return startBus(t, false, dir)
}

// SystemBus starts a private bus configured like a system bus (type system,
// EXTERNAL auth, allow-all policy), for services such as a test-owned logind.
// Code under test reaches it through DBUS_SYSTEM_BUS_ADDRESS. Stopped at
// t.Cleanup.
func SystemBus(t testing.TB) *Bus {
	t.Helper()
	return startBus(t, true, "")
}

func startBus(t testing.TB, system bool, serviceDir string) *Bus {
	t.Helper()
	Need(t, "dbus-daemon")
	kind := "session"
	if system {
		kind = "system"
	}
	dir := shortTempDir(t, "bus")
	sock := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, kind+".conf")
	if err := os.WriteFile(conf, busConfig(kind, sock, serviceDir), 0o600); err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	cmd := exec.Command("dbus-daemon", "--nofork", "--print-address=1", "--nopidfile", "--config-file="+conf)
	cmd.Stdout = w
	cmd.Env = envWith("DBUS_SESSION_BUS_ADDRESS=", "DBUS_SYSTEM_BUS_ADDRESS=")
	p := startProc(t, "dbus-daemon ("+kind+")", cmd)
	w.Close()
	addr, err := readLine(r, 10*time.Second)
	if err != nil || addr == "" {
		p.stop()
		t.Fatalf("desktoptest: dbus-daemon (%s) printed no address (%v): %s", kind, err, p.describe())
	}
	b := &Bus{Address: addr, System: system, proc: p}
	// The address is printed once the socket listens; prove it answers.
	c, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("desktoptest: dbus-daemon (%s) at %s does not answer: %v; %s", kind, addr, err, p.describe())
	}
	c.Close()
	return b
}

// busConfig renders a minimal dbus-daemon configuration: one unix socket,
// EXTERNAL auth, everything allowed, and no service directories unless
// serviceDir is given.
func busConfig(kind, sock, serviceDir string) []byte {
	esc := func(s string) string {
		var b []byte
		w := xmlEscaper{&b}
		_ = xml.EscapeText(w, []byte(s))
		return string(b)
	}
	s := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>` + kind + `</type>
  <listen>unix:path=` + esc(sock) + `</listen>
  <auth>EXTERNAL</auth>
`
	if serviceDir != "" {
		s += "  <servicedir>" + esc(serviceDir) + "</servicedir>\n"
	}
	s += `  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
  <limit name="reply_timeout">60000</limit>
</busconfig>
`
	return []byte(s)
}

type xmlEscaper struct{ b *[]byte }

func (w xmlEscaper) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// Conn opens a new connection to the bus (dbus.Connect), closed at t.Cleanup.
func (b *Bus) Conn(t testing.TB) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(b.Address)
	if err != nil {
		t.Fatalf("desktoptest: connect to %s: %v", b.Address, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Env returns the environment variable that points a child process at this
// bus: DBUS_SESSION_BUS_ADDRESS=... or DBUS_SYSTEM_BUS_ADDRESS=....
func (b *Bus) Env() string {
	if b.System {
		return "DBUS_SYSTEM_BUS_ADDRESS=" + b.Address
	}
	return "DBUS_SESSION_BUS_ADDRESS=" + b.Address
}

// Setenv points this process at the bus with t.Setenv (see the package doc on
// godbus caching its shared connections).
func (b *Bus) Setenv(t testing.TB) {
	t.Helper()
	k, v, _ := cutEnv(b.Env())
	t.Setenv(k, v)
}

// Stop stops the bus now (for tests of a bus that goes away). Connections to
// it see their socket close.
func (b *Bus) Stop() { b.proc.stop() }

// Running reports whether the daemon is still running.
func (b *Bus) Running() bool { return !b.proc.exited() }

// Pid is the dbus-daemon's process id.
func (b *Bus) Pid() int { return b.proc.cmd.Process.Pid }

// WaitName waits until name has an owner on conn's bus, failing the test
// after timeout.
func WaitName(t testing.TB, conn *dbus.Conn, name string, timeout time.Duration) {
	t.Helper()
	if err := waitName(conn, name, timeout); err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
}

func waitName(conn *dbus.Conn, name string, timeout time.Duration) error {
	var lastErr error
	ok := waitUntil(timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var has bool
		lastErr = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has)
		return lastErr == nil && has
	})
	if !ok {
		if lastErr != nil {
			return fmt.Errorf("%s has no owner after %s: %v", name, timeout, lastErr)
		}
		return fmt.Errorf("%s has no owner after %s", name, timeout)
	}
	return nil
}

func cutEnv(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}
