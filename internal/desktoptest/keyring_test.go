//go:build linux

package desktoptest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func secretTool(t *testing.T, bus *Bus, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("secret-tool", args...)
	cmd.Env = envWith(bus.Env())
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestKeyringStoresAndIsGoneAfterCleanup(t *testing.T) {
	Need(t, "secret-tool")
	var pid int
	var home string
	t.Run("keyring", func(t *testing.T) {
		bus := SessionBus(t)
		home = Keyring(t, bus)
		if out, err := secretTool(t, bus, "s3cret-value", "store", "--label=uvt test", "service", "uvt-test", "username", "u"); err != nil {
			t.Fatalf("secret-tool store: %v\n%s", err, out)
		}
		out, err := secretTool(t, bus, "", "lookup", "service", "uvt-test", "username", "u")
		if err != nil || out != "s3cret-value" {
			t.Fatalf("secret-tool lookup = %q, %v; want the stored value", out, err)
		}
		// The secret lives in the test's HOME, not the developer's.
		if _, err := os.Stat(home + "/.local/share/keyrings/login.keyring"); err != nil {
			t.Errorf("no login keyring in the private HOME: %v", err)
		}
		var upid uint32
		if err := bus.Conn(t).BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, "org.freedesktop.secrets").Store(&upid); err != nil {
			t.Fatalf("pid of the secrets owner: %v", err)
		}
		pid = int(upid)
	})
	if pid == 0 || !gone(pid) {
		t.Errorf("gnome-keyring-daemon %d still running after cleanup", pid)
	}
	if _, err := os.Stat(home); err == nil {
		t.Errorf("HOME %s left behind", home)
	}
}

func TestLockedKeyringRefusesToReveal(t *testing.T) {
	Need(t, "secret-tool")
	bus := SessionBus(t)
	LockedKeyring(t, bus)
	conn := bus.Conn(t)
	v, err := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets/collection/login").GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil {
		t.Fatalf("read Locked of the login collection: %v", err)
	}
	locked, _ := v.Value().(bool)
	if !locked {
		t.Fatal("the login collection is not locked")
	}
}
