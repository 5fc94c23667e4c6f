package desktoptest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// KeyringPassword is the login keyring password Keyring and LockedKeyring use.
const KeyringPassword = "uvt-test-password"

// Keyring starts a real gnome-keyring-daemon (secrets component only) on bus
// with a fresh temporary HOME (with .local/share/keyrings and .cache), and
// unlocks its login keyring with KeyringPassword fed on stdin. It returns
// when org.freedesktop.secrets is owned on bus. The daemon is stopped and
// HOME removed at t.Cleanup.
//
// To use it, a client needs DBUS_SESSION_BUS_ADDRESS=bus.Address: a child
// process via Bus.Env; in-process go-keyring via t.Setenv before the
// process's first dbus.SessionBus() (see the package doc). secret-tool works
// with the same variable. HOME need not be set for clients: the daemon holds
// the keyring files.
func Keyring(t testing.TB, bus *Bus) (home string) {
	t.Helper()
	home = keyringHome(t)
	startKeyring(t, bus, home, true)
	return home
}

// LockedKeyring is Keyring whose login keyring exists but is locked, and
// nothing can prompt for its password (the private bus activates no
// prompter): unlocking fails or waits forever, as on a desktop whose keyring
// was never unlocked. It creates the keyring with a first daemon, stops it,
// and starts a second one without --unlock.
func LockedKeyring(t testing.TB, bus *Bus) (home string) {
	t.Helper()
	home = keyringHome(t)
	first := startKeyring(t, bus, home, true)
	first.stop()
	conn := bus.Conn(t)
	if !waitUntil(5*time.Second, func() bool {
		return waitName(conn, "org.freedesktop.secrets", 0) != nil
	}) {
		t.Fatalf("desktoptest: org.freedesktop.secrets still owned after stopping the first keyring daemon")
	}
	if _, err := os.Stat(filepath.Join(home, ".local/share/keyrings/login.keyring")); err != nil {
		t.Fatalf("desktoptest: the first keyring daemon created no login keyring: %v", err)
	}
	startKeyring(t, bus, home, false)
	return home
}

func keyringHome(t testing.TB) string {
	t.Helper()
	Need(t, "gnome-keyring-daemon")
	home := shortTempDir(t, "home")
	for _, d := range []string{".local/share/keyrings", ".cache", ".config", "run"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatalf("desktoptest: %v", err)
		}
	}
	return home
}

func startKeyring(t testing.TB, bus *Bus, home string, unlock bool) *proc {
	t.Helper()
	args := []string{"--foreground", "--components=secrets"}
	if unlock {
		args = append(args, "--unlock")
	}
	cmd := exec.Command("gnome-keyring-daemon", args...)
	cmd.Env = envWith(
		"HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"DBUS_SESSION_BUS_ADDRESS="+bus.Address,
		"DISPLAY=",
		"WAYLAND_DISPLAY=",
		"GNOME_KEYRING_CONTROL=",
		"SSH_AUTH_SOCK=",
	)
	if unlock {
		cmd.Stdin = strings.NewReader(KeyringPassword)
	}
	p := startProc(t, "gnome-keyring-daemon", cmd)
	conn := bus.Conn(t)
	var err error
	if !waitUntil(15*time.Second, func() bool {
		if p.exited() {
			return true
		}
		err = waitName(conn, "org.freedesktop.secrets", 0)
		return err == nil
	}) || p.exited() {
		t.Fatalf("desktoptest: gnome-keyring-daemon did not own org.freedesktop.secrets (%v): %s", err, p.describe())
	}
	return p
}
