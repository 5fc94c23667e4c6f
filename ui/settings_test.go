package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/ultravox-tray/ultravox-tray/app/settings"
)

type memPrefs struct {
	mu    sync.Mutex
	s     settings.Settings
	saved []settings.Settings
}

type memKeys struct {
	mu     sync.Mutex
	key    string
	setErr error
}

func (k *memKeys) Get(context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key, nil
}

func (k *memKeys) Set(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.setErr != nil {
		return k.setErr
	}
	k.key = key
	return nil
}

func (k *memKeys) Delete(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.key = ""
	return nil
}

func (k *memKeys) get() string { k.mu.Lock(); defer k.mu.Unlock(); return k.key }

// goodKey is shaped like a real key, built at run time so none is committed.
var goodKey = "Zk9Ab3Cd." + strings.Repeat("abcdefgh", 4)

func testPrefs(p *memPrefs, k *memKeys) Prefs {
	return Prefs{
		Load: func() settings.Settings { p.mu.Lock(); defer p.mu.Unlock(); return p.s },
		Save: func(s settings.Settings) error {
			if err := s.Validate(); err != nil {
				return err
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			p.s = s
			p.saved = append(p.saved, s)
			return nil
		},
		Keys: k,
		CheckKey: func(ctx context.Context, key string) (string, error) {
			if key != goodKey {
				return "", errors.New("Ultravox rejected the API key (401)")
			}
			return "Acme Voice", nil
		},
	}
}

func waitText(t *testing.T, get func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(get(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("text %q does not contain %q", get(), want)
}

func TestSettingsWindowValidatesAndSaves(t *testing.T) {
	app := test.NewTempApp(t)
	p := &memPrefs{s: settings.Defaults()}
	var sw *settingsWindow
	onUI(func() { sw = newSettingsWindow(app, testPrefs(p, &memKeys{}), idle()) })
	defer onUI(func() { sw.win.Close() })
	status := func() (s string) { onUI(func() { s = sw.status.Text }); return }

	onUI(func() {
		sw.maxDur.SetText("four minutes")
		sw.price.SetText("0.05")
		test.Tap(sw.save)
	})
	if !strings.Contains(status(), `Max call duration must be a whole number of seconds, not "four minutes"`) {
		t.Fatalf("status %q", status())
	}
	onUI(func() {
		sw.maxDur.SetText("5")
		test.Tap(sw.save)
	})
	if !strings.Contains(status(), "between 10 and 3600 seconds, got 5") {
		t.Fatalf("status %q", status())
	}
	if len(p.saved) != 0 {
		t.Fatal("invalid settings were saved")
	}
	onUI(func() {
		sw.maxDur.SetText("300")
		sw.budget.SetText("$2.50")
		sw.agent.SetText("Sales")
		sw.headset.SetChecked(true)
		test.Tap(sw.save)
	})
	if status() != "Saved." || len(p.saved) != 1 {
		t.Fatalf("status %q, saved %d", status(), len(p.saved))
	}
	got := p.saved[0]
	if got.MaxDurationSeconds != 300 || got.DailyBudget != 2.5 || got.DefaultAgentID != "a2" || !got.Headset {
		t.Errorf("saved %+v", got)
	}
}

func TestSettingsWindowEchoCancellation(t *testing.T) {
	app := test.NewTempApp(t)
	// A build without the canceller: no option, and a saved choice is kept.
	p := &memPrefs{s: settings.Defaults()}
	p.s.EchoCancellation = true
	var sw *settingsWindow
	onUI(func() { sw = newSettingsWindow(app, testPrefs(p, &memKeys{}), idle()) })
	onUI(func() {
		if sw.echo != nil {
			t.Error("echo cancellation offered by a build without it")
		}
		test.Tap(sw.save)
		sw.win.Close()
	})
	if len(p.saved) != 1 || !p.saved[0].EchoCancellation {
		t.Fatalf("saved %+v", p.saved)
	}

	// With the canceller: the option shows the saved choice, round-trips,
	// and is off while Headset is ticked.
	p = &memPrefs{s: settings.Defaults()}
	prefs := testPrefs(p, &memKeys{})
	prefs.EchoCancellation = true
	onUI(func() { sw = newSettingsWindow(app, prefs, idle()) })
	defer onUI(func() { sw.win.Close() })
	onUI(func() {
		if sw.echo == nil || sw.echo.Checked || sw.echo.Disabled() || !strings.HasPrefix(sw.echo.Text, "Echo cancellation (experimental)") {
			t.Fatalf("echo option %+v", sw.echo)
		}
		test.Tap(sw.echo)
		test.Tap(sw.save)
	})
	if len(p.saved) != 1 || !p.saved[0].EchoCancellation {
		t.Fatalf("saved %+v", p.saved)
	}
	onUI(func() {
		test.Tap(sw.headset)
		if !sw.echo.Disabled() {
			t.Error("echo cancellation enabled with a headset")
		}
		test.Tap(sw.headset)
		if sw.echo.Disabled() {
			t.Error("echo cancellation still disabled without a headset")
		}
		test.Tap(sw.echo)
		test.Tap(sw.save)
	})
	if len(p.saved) != 2 || p.saved[1].EchoCancellation {
		t.Fatalf("saved %+v", p.saved)
	}
	// A new window shows what was saved; with a saved headset it starts
	// disabled.
	p.s.EchoCancellation, p.s.Headset = true, true
	var sw2 *settingsWindow
	onUI(func() { sw2 = newSettingsWindow(app, prefs, idle()) })
	onUI(func() {
		if !sw2.echo.Checked || !sw2.echo.Disabled() {
			t.Errorf("reopened: checked %v disabled %v", sw2.echo.Checked, sw2.echo.Disabled())
		}
		sw2.win.Close()
	})
}

func TestSettingsWindowKey(t *testing.T) {
	app := test.NewTempApp(t)
	keys := &memKeys{}
	prefs := testPrefs(&memPrefs{s: settings.Defaults()}, keys)
	var changed []string
	var mu sync.Mutex
	prefs.KeyChanged = func(k string) { mu.Lock(); changed = append(changed, k); mu.Unlock() }
	var sw *settingsWindow
	onUI(func() { sw = newSettingsWindow(app, prefs, idle()) })
	defer onUI(func() { sw.win.Close() })
	status := func() (s string) { onUI(func() { s = sw.keyStatus.Text }); return }
	entry := func() (s string) { onUI(func() { s = sw.keyEntry.Text }); return }
	waitText(t, status, "No key stored")

	bad := "Zk9Ab3Cd." + strings.Repeat("wrong", 6) + "00"
	onUI(func() { sw.keyEntry.SetText(bad); test.Tap(sw.saveKey) })
	waitText(t, status, "Not saved: Ultravox rejected the API key (401)")
	if keys.get() != "" {
		t.Fatal("a rejected key was stored")
	}
	if entry() != bad {
		t.Error("the typed key was lost after a failed check")
	}
	onUI(func() { sw.keyEntry.SetText("two words"); test.Tap(sw.saveKey) })
	waitText(t, status, "contains spaces")

	onUI(func() { sw.keyEntry.SetText(" " + goodKey + "\n"); test.Tap(sw.saveKey) })
	waitText(t, status, "Saved in the keychain. Account: Acme Voice (Zk9Ab3Cd.…)")
	if keys.get() != goodKey {
		t.Fatal("key not stored")
	}
	if strings.Contains(status(), goodKey[9:]) || entry() != "" {
		t.Fatal("the key is still shown after saving")
	}
	onUI(func() { test.Tap(sw.removeKey) })
	waitText(t, status, "removed")
	if keys.get() != "" {
		t.Fatal("key not removed")
	}
	mu.Lock()
	if len(changed) != 2 || changed[0] != goodKey || changed[1] != "" {
		t.Errorf("KeyChanged calls %d", len(changed))
	}
	mu.Unlock()

	// A keychain that refuses keeps the user's key in the entry.
	keys.mu.Lock()
	keys.setErr = errors.New("the keychain is locked")
	keys.mu.Unlock()
	onUI(func() { sw.keyEntry.SetText(goodKey); test.Tap(sw.saveKey) })
	waitText(t, status, "could not be stored: the keychain is locked")
	if entry() != goodKey {
		t.Error("the key was cleared although it was not stored")
	}
}

func TestSettingsFromEnvKey(t *testing.T) {
	app := test.NewTempApp(t)
	prefs := testPrefs(&memPrefs{s: settings.Defaults()}, &memKeys{})
	prefs.KeyFromEnv = true
	onUI(func() {
		sw := newSettingsWindow(app, prefs, idle())
		defer sw.win.Close()
		if !sw.keyEntry.Disabled() || !strings.Contains(sw.keyStatus.Text, "ULTRAVOX_API_KEY") {
			t.Errorf("env key: disabled=%v status %q", sw.keyEntry.Disabled(), sw.keyStatus.Text)
		}
	})
}
