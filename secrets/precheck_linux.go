package secrets

import (
	"fmt"
	"os"

	"github.com/ultravox-tray/ultravox-tray/internal/sessionbus"
)

// runtimeBusPath is where godbus looks for a session bus when
// DBUS_SESSION_BUS_ADDRESS is unset (a variable so tests can point it away
// from the machine's real one).
var runtimeBusPath = func() string { return fmt.Sprintf("/run/user/%d/bus", os.Getuid()) }

// sessionBusPrecheck fails when godbus would find no session bus and would
// autolaunch one with dbus-launch, which leaves a bus (and whatever keyring
// it activates) running after we are gone. go-keyring is not called then.
func sessionBusPrecheck() error {
	switch a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a {
	case sessionbus.Disabled: // sessionbus.Pin found none
		return &Error{Kind: KindNoSession}
	case "", "autolaunch:":
	default:
		return nil
	}
	if _, err := os.Stat(runtimeBusPath()); err == nil {
		return nil
	}
	return &Error{Kind: KindNoSession}
}
