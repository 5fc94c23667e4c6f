package settings

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func store(t *testing.T) *Store {
	st := NewStore(filepath.Join(t.TempDir(), appDir, fileName))
	st.now = func() time.Time { return time.Date(2026, 11, 22, 3, 4, 5, 0, time.UTC) }
	return st
}

func TestMissingFileGivesDefaults(t *testing.T) {
	st := store(t)
	s, err := st.Load()
	if err != nil || !reflect.DeepEqual(s, Defaults()) {
		t.Fatalf("Load = %+v, %v", s, err)
	}
	if s.MaxDuration() != 240*time.Second || s.JoinTimeout() != 15*time.Second || s.PricePerMinute != 0.05 {
		t.Errorf("defaults %+v", s)
	}
	if _, err := os.Stat(st.Path); !errors.Is(err, os.ErrNotExist) {
		t.Error("Load created the file")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	st := store(t)
	s := Defaults()
	s.DefaultAgentID, s.MaxDurationSeconds, s.DailyBudget, s.Headset, s.StartAtLogin = "ag", 600, 1.5, true, true
	s.MicrophoneDevice = "USB mic"
	s.EchoCancellation = true
	if err := st.Save(s); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load()
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("got %+v, %v", got, err)
	}
	fi, err := os.Stat(st.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v", fi.Mode(), err)
	}
	// No temporary files remain.
	ents, _ := os.ReadDir(filepath.Dir(st.Path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries", len(ents))
	}
	raw, _ := os.ReadFile(st.Path)
	if !strings.Contains(string(raw), `"maxDurationSeconds": 600`) || !strings.Contains(string(raw), `"echoCancellation": true`) {
		t.Errorf("file %s", raw)
	}
}

func TestSaveRejectsInvalidAndKeepsOldFile(t *testing.T) {
	st := store(t)
	if err := st.Save(Defaults()); err != nil {
		t.Fatal(err)
	}
	bad := Defaults()
	bad.MaxDurationSeconds, bad.PricePerMinute = 5, -1
	err := st.Save(bad)
	if err == nil || !strings.Contains(err.Error(), "maximum call duration must be between 10 and 3600 seconds, got 5") ||
		!strings.Contains(err.Error(), "price per minute") {
		t.Fatalf("Save(bad) = %v", err)
	}
	got, err := st.Load()
	if err != nil || !reflect.DeepEqual(got, Defaults()) {
		t.Fatalf("old file changed: %+v %v", got, err)
	}
}

func TestBrokenJSONIsKeptAside(t *testing.T) {
	st := store(t)
	os.MkdirAll(filepath.Dir(st.Path), 0o700)
	content := "{\n  \"maxDurationSeconds\": 300,\n  oops\n}"
	os.WriteFile(st.Path, []byte(content), 0o600)
	s, err := st.Load()
	var be *BrokenFileError
	if !errors.As(err, &be) {
		t.Fatalf("err %v", err)
	}
	if !reflect.DeepEqual(s, Defaults()) {
		t.Errorf("settings %+v, want defaults", s)
	}
	if !strings.Contains(err.Error(), "is not valid JSON (line 3") || !strings.Contains(err.Error(), be.KeptAt) {
		t.Errorf("message %q", err)
	}
	if be.KeptAt != st.Path+".broken-20261122T030405Z" {
		t.Errorf("kept at %s", be.KeptAt)
	}
	kept, rerr := os.ReadFile(be.KeptAt)
	if rerr != nil || string(kept) != content {
		t.Fatalf("original not kept: %q %v", kept, rerr)
	}
	// The defaults were written back in its place: the next start is quiet.
	if s, err := st.Load(); err != nil || !reflect.DeepEqual(s, Defaults()) {
		t.Errorf("after the repair: %+v, %v", s, err)
	}
	// A second broken file at the same second gets its own name.
	os.WriteFile(st.Path, []byte("[]"), 0o600)
	_, err = st.Load()
	if !errors.As(err, &be) || be.KeptAt != st.Path+".broken-20261122T030405Z-1" || !strings.Contains(err.Error(), "not a settings object") {
		t.Fatalf("second: %v", err)
	}
	os.WriteFile(st.Path, nil, 0o600)
	if _, err = st.Load(); !strings.Contains(err.Error(), "empty or cut short") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestInvalidValuesKeepTheGoodOnes(t *testing.T) {
	st := store(t)
	os.MkdirAll(filepath.Dir(st.Path), 0o700)
	os.WriteFile(st.Path, []byte(`{"defaultAgentId":"ag","maxDurationSeconds":99999,"dailyBudget":3,"joinTimeoutSeconds":1}`), 0o600)
	s, err := st.Load()
	var be *BrokenFileError
	if !errors.As(err, &be) {
		t.Fatalf("err %v", err)
	}
	if s.DefaultAgentID != "ag" || s.DailyBudget != 3 || s.MaxDurationSeconds != 240 || s.JoinTimeoutSeconds != 15 {
		t.Errorf("settings %+v", s)
	}
	if !strings.Contains(err.Error(), "got 99999") || !strings.Contains(err.Error(), "join timeout") {
		t.Errorf("message %q", err)
	}
	if _, err := os.Stat(be.KeptAt); err != nil {
		t.Error(err)
	}
}

// A settings path that cannot be read (here a directory in its place,
// which fails for root too) gives defaults and a message, and is left
// alone: neither moved nor overwritten.
func TestUnreadableFileIsLeftAlone(t *testing.T) {
	st := store(t)
	os.MkdirAll(st.Path, 0o700)
	os.WriteFile(filepath.Join(st.Path, "keep"), []byte("x"), 0o600)
	s, err := st.Load()
	if err == nil || !strings.Contains(err.Error(), "cannot read the settings file") || !reflect.DeepEqual(s, Defaults()) {
		t.Fatalf("settings %+v, err %v", s, err)
	}
	if fi, err := os.Stat(st.Path); err != nil || !fi.IsDir() {
		t.Errorf("the directory was moved or replaced: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(st.Path, "keep")); err != nil || string(b) != "x" {
		t.Errorf("its content changed: %q %v", b, err)
	}
}

// Issue 12, defect 2: one value of the wrong type and one out of range reset
// only those two settings, each named; the daily budget and "end calls when
// the screen locks" off survive; the repaired file is written back and the
// original kept beside it.
func TestBadValuesResetOnlyThemselvesAndTheFileIsRepaired(t *testing.T) {
	st := store(t)
	os.MkdirAll(filepath.Dir(st.Path), 0o700)
	orig := `{"defaultAgentId":"ag","dailyBudget":3,"endCallsOnLock":false,"headset":true,` +
		`"maxDurationSeconds":5,"joinTimeoutSeconds":"twenty","pricePerMinute":0.07}`
	os.WriteFile(st.Path, []byte(orig), 0o600)
	s, err := st.Load()
	var be *BrokenFileError
	if !errors.As(err, &be) {
		t.Fatalf("err %v", err)
	}
	want := Defaults()
	want.DefaultAgentID, want.DailyBudget, want.EndCallsOnLock, want.Headset, want.PricePerMinute = "ag", 3, false, true, 0.07
	if !reflect.DeepEqual(s, want) {
		t.Errorf("settings %+v\nwant     %+v", s, want)
	}
	var names []string
	for _, f := range be.Fields {
		names = append(names, f.Field)
	}
	if strings.Join(names, ",") != "joinTimeoutSeconds,maxDurationSeconds" {
		t.Errorf("bad fields named %v", names)
	}
	for _, w := range []string{"joinTimeoutSeconds", "\"twenty\" is not a whole number", "maxDurationSeconds", "got 5", be.KeptAt, "every other setting was kept"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message lacks %q: %s", w, err)
		}
	}
	if kept, _ := os.ReadFile(be.KeptAt); string(kept) != orig {
		t.Errorf("original not kept beside: %q", kept)
	}
	again, err := st.Load()
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("the repaired file was not written back: %+v, %v", again, err)
	}
}

func TestAutostart(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	if AutostartEnabled() {
		t.Fatal("enabled before writing")
	}
	if err := SetAutostart(true, "relative/bin"); err == nil {
		t.Error("relative path accepted")
	}
	exe := "/opt/My Apps/ultravox-tray"
	if err := SetAutostart(true, exe); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(cfg, "autostart", "ultravox-tray.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[Desktop Entry]\n", "Type=Application\n", "Exec=\"/opt/My Apps/ultravox-tray\"\n", "Name=Ultravox Tray\n"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("entry lacks %q:\n%s", want, raw)
		}
	}
	if !AutostartEnabled() {
		t.Error("not enabled after writing")
	}
	if err := SetAutostart(false, ""); err != nil || AutostartEnabled() {
		t.Errorf("disable: %v", err)
	}
	if err := SetAutostart(false, ""); err != nil {
		t.Errorf("disabling twice: %v", err)
	}
	if got := quoteExec(`/a/b$c%d`); got != `"/a/b\\$c%%d"` {
		t.Errorf("quoteExec %s", got)
	}
	if got := quoteExec("/usr/bin/ultravox-tray"); got != "/usr/bin/ultravox-tray" {
		t.Errorf("plain path quoted: %s", got)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/x/cfg")
	p, err := DefaultPath()
	if err != nil || p != "/x/cfg/ultravox-tray/settings.json" {
		t.Fatalf("%s %v", p, err)
	}
}

func TestEchoCancellationRoundTrip(t *testing.T) {
	st := store(t)
	// A file from before the option: gating, as before.
	if err := os.MkdirAll(filepath.Dir(st.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Path, []byte(`{"maxDurationSeconds": 300, "headset": false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := st.Load()
	if err != nil || s.EchoCancellation || s.MaxDurationSeconds != 300 {
		t.Fatalf("old file: %+v %v", s, err)
	}
	if Defaults().EchoCancellation {
		t.Error("echo cancellation is on by default; it is experimental")
	}
	for _, on := range []bool{true, false} {
		s.EchoCancellation = on
		if err := st.Save(s); err != nil {
			t.Fatal(err)
		}
		got, err := st.Load()
		if err != nil || got.EchoCancellation != on || !reflect.DeepEqual(got, s) {
			t.Errorf("saved %v, loaded %+v %v", on, got, err)
		}
	}
	// A wrong type is reported with the field's name and kept aside.
	if err := os.WriteFile(st.Path, []byte(`{"echoCancellation": "yes"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = st.Load()
	var be *BrokenFileError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "echoCancellation") {
		t.Errorf("wrong type: %v", err)
	}
}
