package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// Issue 12, defect 6: an error that stops the start (here an unwritable
// state directory: a file where a directory must be, which fails for root
// too) reaches the user as a desktop notification, not only stderr, which
// nobody reads for an app started from a menu or at login.
func TestE2EStartErrorReachesTheUser(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", false)
	blocker := filepath.Join(d.home, "not-a-dir")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.env = append(withoutEnv(d.env, "XDG_STATE_HOME"), "XDG_STATE_HOME="+blocker)
	a := d.start(t, bin)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the app did not exit:\n%s", a.out.String())
	}
	if code := a.cmd.ProcessState.ExitCode(); code != exitError {
		t.Errorf("exit code %d, want %d:\n%s", code, exitError, a.out.String())
	}
	n := d.notes.Wait(t, func(n desktoptest.Notification) bool {
		return strings.Contains(n.Summary, "could not start")
	}, 10*time.Second)
	if !strings.Contains(n.Body, "state directory") || !strings.Contains(n.Body, blocker) {
		t.Errorf("notification does not say what failed: %+v", n)
	}
}
