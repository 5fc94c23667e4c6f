//go:build linux

package desktoptest

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// The test binary doubles as a small real tray app (fyne.io/systray, the
// library Fyne uses on Linux) for the Tray helper tests: see trayChild.
func TestMain(m *testing.M) {
	if os.Getenv("UVT_DESKTOPTEST_TRAY_CHILD") == "1" {
		trayChild()
		return
	}
	goleak.VerifyTestMain(m)
}
