//go:build linux

package desktoptest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestXvfbServesADisplayAndIsGoneAfterCleanup(t *testing.T) {
	Need(t, "xdpyinfo")
	var display string
	t.Run("x", func(t *testing.T) {
		display = Xvfb(t)
		cmd := exec.Command("xdpyinfo")
		cmd.Env = envWith("DISPLAY=" + display)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("xdpyinfo on %s: %v\n%s", display, err, out)
		}
		if !strings.Contains(string(out), "1280x800 pixels") {
			t.Errorf("xdpyinfo does not show a 1280x800 screen:\n%s", out)
		}
		// Two servers in one test get two displays.
		if d2 := Xvfb(t); d2 == display {
			t.Errorf("second Xvfb got the same display %s", d2)
		}
	})
	if _, err := os.Stat("/tmp/.X11-unix/X" + display[1:]); err == nil {
		t.Errorf("X socket for %s left behind", display)
	}
	if _, err := os.Stat("/tmp/.X" + display[1:] + "-lock"); err == nil {
		t.Errorf("X lock file for %s left behind", display)
	}
}
