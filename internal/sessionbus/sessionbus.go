// Package sessionbus finds the D-Bus session bus without ever starting one.
//
// godbus, when DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus
// does not exist, "autolaunches" a bus with dbus-launch: that leaves a
// dbus-daemon (and whatever it activates, such as a notification daemon)
// running after the app exits, with the app's environment. Every connect
// site of this app asks Address first, and Pin makes the libraries that
// connect by themselves (fyne.io/systray, go-keyring) fail instead of
// autolaunching.
package sessionbus

import (
	"errors"
	"os"
	"path/filepath"
)

// Disabled is the DBUS_SESSION_BUS_ADDRESS Pin sets when there is no bus:
// godbus refuses it (no such transport) instead of running dbus-launch.
const Disabled = "disabled:"

// ErrNone says there is no session bus to connect to.
var ErrNone = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist); none is started")

// Address is the session bus's address: DBUS_SESSION_BUS_ADDRESS, else
// $XDG_RUNTIME_DIR/bus when that socket exists (where godbus would look),
// else ErrNone.
func Address() (string, error) {
	switch a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a {
	case "", "autolaunch:":
	case Disabled:
		return "", ErrNone
	default:
		return a, nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		p := filepath.Join(dir, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + p, nil
		}
	}
	return "", ErrNone
}

// Pin sets DBUS_SESSION_BUS_ADDRESS to Address's answer, or to Disabled when
// there is none, so that no library autolaunches a bus later. It returns
// Address's error.
func Pin() error {
	a, err := Address()
	if err != nil {
		a = Disabled
	}
	os.Setenv("DBUS_SESSION_BUS_ADDRESS", a)
	return err
}
