package desktoptest

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Xvfb starts a private X server (1280x800x24, no TCP, first free display
// number chosen by the server itself via -displayfd) and returns its DISPLAY
// value, e.g. ":3". The server is ready when this returns. Stopped at
// t.Cleanup.
func Xvfb(t testing.TB) (display string) {
	t.Helper()
	Need(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	// fd 3 in the child is ExtraFiles[0].
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	p := startProc(t, "Xvfb", cmd)
	w.Close()
	line, err := readLine(r, 20*time.Second)
	if err != nil {
		p.stop()
		t.Fatalf("desktoptest: Xvfb reported no display number (%v): %s", err, p.describe())
	}
	n, err := strconv.Atoi(line)
	if err != nil || n < 0 {
		p.stop()
		t.Fatalf("desktoptest: Xvfb reported display %q: %s", line, p.describe())
	}
	display = ":" + line
	// -displayfd is written once the server accepts connections; make sure
	// its socket is there for clients that check the file first.
	sock := "/tmp/.X11-unix/X" + line
	if !waitUntil(5*time.Second, func() bool { _, err := os.Stat(sock); return err == nil }) {
		t.Fatalf("desktoptest: Xvfb %s has no socket %s: %s", display, sock, p.describe())
	}
	return display
}
