package main

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// Issue 12, defect 7: a start and a quit under LANG=C.UTF-8 (the suite's
// locale) log no Fyne errors: not "Error parsing user locale C" at start,
// not "Preferences load error: EOF" at quit (a race, so the test checks
// its cause: no Fyne preferences file at all).
func TestE2EStartAndQuitLogNoFyneErrors(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	for i := range 2 {
		d := newDesk(t, "", true)
		a := d.start(t, bin)
		waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")
		click(t, d.tr, "Quit")
		a.waitExit(t, 15*time.Second)
		out := a.out.String()
		// The EOF came from Fyne's own preferences.json: rewritten at quit
		// (truncate, then write) while Fyne's watch of the file reloads it.
		// The app keeps no Fyne preferences, so no such file may be written.
		filepath.WalkDir(d.home, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Name() == "preferences.json" {
				t.Errorf("run %d: Fyne wrote %s", i, p)
			}
			return nil
		})
		for _, bad := range []string{"Error parsing user locale", "Preferences load error", "Fyne error"} {
			if strings.Contains(out, bad) {
				t.Errorf("run %d logged %q:\n%s", i, bad, out)
			}
		}
	}
}
