package paths

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestStateDirOverride(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "state")
	t.Setenv("XDG_STATE_HOME", abs)
	if d, err := StateDir(); err != nil || d != filepath.Join(abs, App) {
		t.Fatalf("%s %v", d, err)
	}
	t.Setenv("XDG_STATE_HOME", "rel/state")
	if _, err := StateDir(); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Fatalf("relative XDG_STATE_HOME: %v", err)
	}
}

func TestStateDirDefault(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("LOCALAPPDATA", filepath.Join(home, "AppData", "Local"))
	want := map[string]string{
		"windows": filepath.Join(home, "AppData", "Local", App),
		"darwin":  filepath.Join(home, "Library", "Application Support", App),
	}[runtime.GOOS]
	if want == "" {
		want = filepath.Join(home, ".local", "state", App)
	}
	if d, err := StateDir(); err != nil || d != want {
		t.Fatalf("got %s %v, want %s", d, err, want)
	}
}
