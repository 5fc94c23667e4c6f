package sessionbus

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestAddressNeverInventsABus(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	for _, v := range []string{"", "autolaunch:", Disabled} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", v)
		if a, err := Address(); !errors.Is(err, ErrNone) {
			t.Errorf("%q with no runtime bus: %q, %v; want ErrNone", v, a, err)
		}
	}
	// A plain file named bus is not a bus.
	os.WriteFile(filepath.Join(dir, "bus"), nil, 0o600)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if _, err := Address(); !errors.Is(err, ErrNone) {
		t.Errorf("a regular file taken for a bus: %v", err)
	}
	if err := Pin(); !errors.Is(err, ErrNone) || os.Getenv("DBUS_SESSION_BUS_ADDRESS") != Disabled {
		t.Errorf("Pin with no bus: %v, address %q", err, os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	}
}

func TestAddressFindsTheRuntimeBus(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if err := Pin(); err != nil {
		t.Fatal(err)
	}
	if got, want := os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "unix:path="+filepath.Join(dir, "bus"); got != want {
		t.Errorf("pinned %q, want %q", got, want)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/somewhere")
	if a, err := Address(); err != nil || a != "unix:path=/somewhere" {
		t.Errorf("set address not used: %q %v", a, err)
	}
}
