package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// uiLoop stands in for Fyne's main goroutine: Fyne's test driver runs
// fyne.Do inline on the calling goroutine, so the tests serialise every UI
// change (the code's doUI and the test's own taps) on this one goroutine.
var uiLoop = make(chan func(), 256)

func TestMain(m *testing.M) {
	go func() {
		for f := range uiLoop {
			f()
		}
	}()
	doUI = func(f func()) { uiLoop <- f }
	os.Exit(m.Run())
}

// onUI runs f on the UI loop and waits for it.
func onUI(f func()) {
	done := make(chan struct{})
	uiLoop <- func() { defer close(done); f() }
	<-done
}

// trayApp is a Fyne test app that also records what the tray was given
// (the real desktop driver is exercised by the end-to-end test).
type trayApp struct {
	fyne.App
	mu     sync.Mutex
	menus  []*fyne.Menu
	shown  *fyne.Menu
	icons  []fyne.Resource
	quits  int
	quitCh chan struct{}
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.menus = append(a.menus, m)
	a.shown = m
}

// Driver reports the menu the tray shows, like Fyne's desktop driver.
func (a *trayApp) Driver() fyne.Driver { return trayDriver{a.App.Driver(), a} }

type trayDriver struct {
	fyne.Driver
	a *trayApp
}

func (d trayDriver) SystemTrayMenu() *fyne.Menu {
	d.a.mu.Lock()
	defer d.a.mu.Unlock()
	return d.a.shown
}
func (a *trayApp) SetSystemTrayIcon(r fyne.Resource) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.icons = append(a.icons, r)
}
func (a *trayApp) SetSystemTrayWindow(fyne.Window) {}
func (a *trayApp) Quit() {
	a.mu.Lock()
	a.quits++
	a.mu.Unlock()
	close(a.quitCh)
}
func (a *trayApp) counts() (menus, icons int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.menus), len(a.icons)
}
func (a *trayApp) lastMenu() *fyne.Menu {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.menus[len(a.menus)-1]
}

// fakeManager records what the UI asks of the manager.
type fakeManager struct {
	mu     sync.Mutex
	snap   calls.Snapshot
	snaps  chan calls.Snapshot
	events chan calls.Event
	log    []string
}

func newFakeManager(s calls.Snapshot) *fakeManager {
	return &fakeManager{snap: s, snaps: make(chan calls.Snapshot, 16), events: make(chan calls.Event, 16)}
}

func (m *fakeManager) record(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, s)
}
func (m *fakeManager) calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.log...)
}
func (m *fakeManager) Subscribe() (<-chan calls.Snapshot, <-chan calls.Event, func()) {
	return m.snaps, m.events, func() {}
}
func (m *fakeManager) Snapshot() calls.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap
}
func (m *fakeManager) publish(s calls.Snapshot) {
	m.mu.Lock()
	m.snap = s
	m.mu.Unlock()
	m.snaps <- s
}
func (m *fakeManager) Start(ctx context.Context, agentID string) (calls.CallView, error) {
	m.record("start " + agentID)
	return calls.CallView{}, nil
}
func (m *fakeManager) End(ctx context.Context, id string) error { m.record("end " + id); return nil }
func (m *fakeManager) EndAll(ctx context.Context) error         { m.record("endall"); return nil }
func (m *fakeManager) EndOurs(ctx context.Context) error {
	for _, c := range m.Snapshot().Ours {
		if c.State.Live() {
			m.record("end " + c.ID)
		}
	}
	return nil
}
func (m *fakeManager) SetMicMuted(id string, on bool) error {
	m.record(fmt.Sprintf("mic %s %v", id, on))
	return nil
}
func (m *fakeManager) SetSpeakerMuted(id string, on bool) error {
	m.record(fmt.Sprintf("spk %s %v", id, on))
	return nil
}
func (m *fakeManager) SendText(ctx context.Context, id, text string) error {
	m.record("text " + id + " " + text)
	return nil
}
func (m *fakeManager) Recheck() { m.record("recheck") }

func waitCalls(t *testing.T, m *fakeManager, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got := m.calls()
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("manager calls %q, want %q", m.calls(), want)
}

var now0 = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

func idle() calls.Snapshot {
	return calls.Snapshot{
		Taken: now0, Overall: calls.OverallIdle, Health: calls.HealthOK, LastCheck: time.Now(),
		Agents:         []calls.AgentView{{ID: "a1", Name: "Support agent"}, {ID: "a2", Name: "Sales"}},
		DefaultAgentID: "a1", PricePerMinute: 0.05,
	}
}

func billing() calls.Snapshot {
	s := idle()
	s.Overall = calls.OverallBilling
	s.Ours = []calls.CallView{{ID: "c1", Ours: true, AgentName: "Support agent", State: calls.CallBilling, Joined: time.Now().Add(-5 * time.Second)}}
	return s
}

type tips struct {
	mu   sync.Mutex
	tips []string
}

func (tp *tips) set(s string) { tp.mu.Lock(); tp.tips = append(tp.tips, s); tp.mu.Unlock() }
func (tp *tips) all() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]string(nil), tp.tips...)
}

func newTestTray(t *testing.T, m *fakeManager, endEverything func(context.Context)) (*Tray, *trayApp, *tips) {
	app := &trayApp{App: test.NewTempApp(t), quitCh: make(chan struct{})}
	if endEverything == nil {
		endEverything = func(context.Context) {}
	}
	tr, err := NewTray(Config{App: app, Manager: m, EndEverything: endEverything, Location: time.UTC, Prefs: testPrefs(&memPrefs{s: settings.Defaults()}, &memKeys{})})
	if err != nil {
		t.Fatal(err)
	}
	tp := &tips{}
	tr.setTooltip = tp.set
	tr.setTitle = func(string) {}
	t.Cleanup(tr.Stop)
	return tr, app, tp
}

func item(m *fyne.Menu, prefix string) *fyne.MenuItem {
	for _, it := range m.Items {
		if strings.HasPrefix(it.Label, prefix) {
			return it
		}
		if it.ChildMenu != nil {
			if c := item(it.ChildMenu, prefix); c != nil {
				return c
			}
		}
	}
	return nil
}

func TestTrayMenuRebuiltOnlyOnChange(t *testing.T) {
	m := newFakeManager(idle())
	tr, app, tp := newTestTray(t, m, nil)
	onUI(tr.Start)
	if n, i := app.counts(); n != 1 || i != 1 {
		t.Fatalf("after Start: %d menus, %d icons", n, i)
	}
	menu := app.lastMenu()
	last := menu.Items[len(menu.Items)-1]
	if last.Label != "Quit" || !last.IsQuit {
		t.Fatalf("last item %q IsQuit=%v", last.Label, last.IsQuit)
	}
	if s := item(menu, "Start call: Support agent"); s == nil || s.Disabled {
		t.Fatalf("start %+v", s)
	}
	if sub := item(menu, "Start call with"); sub == nil || sub.ChildMenu == nil || sub.ChildMenu.Items[0].Label != "Support agent (default)" {
		t.Fatalf("agents submenu %+v", sub)
	}
	if e := item(menu, "End call"); e == nil || !e.Disabled {
		t.Fatalf("end call while idle %+v", e)
	}

	// The same state again, and seconds passing, rebuild nothing.
	m.publish(idle())
	time.Sleep(2300 * time.Millisecond)
	if n, i := app.counts(); n != 1 || i != 1 {
		t.Fatalf("idle ticks rebuilt: %d menus, %d icons", n, i)
	}
	// Billing: one rebuild and one icon change; then the tooltip ticks alone.
	m.publish(billing())
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if n, _ := app.counts(); n == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Wait for three different billing tooltips: at least two ticks.
	var got []string
	deadline = time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) {
		got = tp.all()
		distinct := map[string]bool{}
		for _, g := range got {
			if strings.HasPrefix(g, "Billing") {
				distinct[g] = true
			}
		}
		if len(distinct) >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n, i := app.counts(); n != 2 || i != 2 {
		t.Fatalf("billing: %d menus, %d icons, want 2 and 2", n, i)
	}
	if !strings.HasPrefix(got[len(got)-1], "Billing: 0:0") || !strings.HasPrefix(got[len(got)-3], "Billing: 0:0") {
		t.Errorf("tooltip %q", got[len(got)-1])
	}
	if e := item(app.lastMenu(), "End call"); e.Disabled {
		t.Error("End call disabled while billing")
	}
	if _, err := png.Decode(bytes.NewReader(app.icons[1].Content())); err != nil {
		t.Errorf("tray icon is not a PNG: %v", err)
	}
	if !strings.HasPrefix(app.icons[1].Name(), "billing/") {
		t.Errorf("icon %s", app.icons[1].Name())
	}
}

// Fyne 2.7.4 re-applies the first menu when the tray item becomes ready;
// the tray notices within a tick and shows its latest menu again.
func TestTrayReassertsItsMenu(t *testing.T) {
	m := newFakeManager(idle())
	tr, app, _ := newTestTray(t, m, nil)
	onUI(tr.Start)
	latest := app.lastMenu()
	app.mu.Lock()
	app.shown = fyne.NewMenu("stale")
	app.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		app.mu.Lock()
		ok := app.shown == latest
		app.mu.Unlock()
		if ok {
			if n, _ := app.counts(); n != 2 {
				t.Fatalf("%d menus set, want 2 (the first and the reasserted one)", n)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the stale menu was not replaced")
}

func TestTrayActionsReachTheManager(t *testing.T) {
	m := newFakeManager(billing())
	tr, app, _ := newTestTray(t, m, nil)
	onUI(tr.Start)
	menu := app.lastMenu()
	onUI(item(menu, "Start call: Support agent").Action)
	waitCalls(t, m, "start a1")
	onUI(item(menu, "Sales").Action)
	waitCalls(t, m, "start a1", "start a2")
	onUI(item(menu, "End call").Action)
	waitCalls(t, m, "start a1", "start a2", "end c1")
	onUI(item(menu, "End all calls on account (1)").Action)
	waitCalls(t, m, "start a1", "start a2", "end c1", "endall")
	onUI(item(menu, "Mute microphone").Action)
	waitCalls(t, m, "start a1", "start a2", "end c1", "endall", "mic c1 true")
}

func TestQuitEndsCallsFirst(t *testing.T) {
	m := newFakeManager(billing())
	var mu sync.Mutex
	var order []string
	var deadline time.Time
	tr, app, _ := newTestTray(t, m, func(ctx context.Context) {
		deadline, _ = ctx.Deadline()
		mu.Lock()
		order = append(order, "end everything")
		mu.Unlock()
	})
	onUI(tr.Start)
	quit := app.lastMenu().Items[len(app.lastMenu().Items)-1]
	onUI(quit.Action)
	onUI(quit.Action) // a second click while quitting does nothing more
	select {
	case <-app.quitCh:
	case <-time.After(5 * time.Second):
		t.Fatal("app did not quit")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 1 {
		t.Fatalf("EndEverything ran %d times", len(order))
	}
	if d := time.Until(deadline); d > QuitTimeout || d < QuitTimeout-2*time.Second {
		t.Errorf("quit deadline %v away, want about %v", d, QuitTimeout)
	}
}

// ---- settings window ----

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

func TestCallWindow(t *testing.T) {
	m := newFakeManager(billing())
	tr, _, _ := newTestTray(t, m, nil)
	s := billing()
	s.Ours[0].Transcript = []calls.TranscriptLine{{Ordinal: 0, Role: "agent", Text: "Hello, how can I help?", Final: true}, {Ordinal: 1, Role: "user", Text: "I need", Final: false}}
	s.Ours[0].AgentState = "listening"
	m.mu.Lock()
	m.snap = s
	m.mu.Unlock()
	onUI(func() { tr.windows.showCall("c1") })
	cw, _, _ := tr.windows.call.get()
	if cw == nil {
		t.Fatal("no call window")
	}
	onUI(func() {
		if cw.transcript.Text != "Agent: Hello, how can I help?\nYou: I need …" {
			t.Errorf("transcript %q", cw.transcript.Text)
		}
		if !strings.HasPrefix(cw.header.Text, "Support agent: billing 0:0") || cw.agentState.Text != "Agent: listening" {
			t.Errorf("header %q / %q", cw.header.Text, cw.agentState.Text)
		}
		test.Tap(cw.micMute)
		cw.text.SetText("hello there")
		test.Tap(cw.send)
	})
	waitCalls(t, m, "mic c1 true", "text c1 hello there")
	onUI(func() { test.Tap(cw.end) })
	waitCalls(t, m, "mic c1 true", "text c1 hello there", "end c1")
	// The manager's words about the call show under the header.
	onUI(func() {
		if cw.note.Visible() || cw.audioErr.Visible() {
			t.Errorf("note %q / audio %q shown without a note", cw.note.Text, cw.audioErr.Text)
		}
		u := billing()
		u.Ours[0].State = calls.CallEndUnconfirmed
		u.Ours[0].Recovered = true
		u.Ours[0].Note = "the end is not confirmed yet: Ultravox answered 503"
		u.Ours[0].AudioError = "no microphone"
		cw.update(u, time.Now())
		if !cw.note.Visible() || cw.note.Text != "An earlier session of Ultravox Tray left this call live (it was in the call journal); it is being ended. The end is not confirmed yet: Ultravox answered 503." {
			t.Errorf("note %q", cw.note.Text)
		}
		if !cw.audioErr.Visible() || cw.audioErr.Text != "Audio: no microphone (you can still type)" {
			t.Errorf("audio %q", cw.audioErr.Text)
		}
		if cw.header.Text != "Support agent (earlier session): end not confirmed: may still be billing" || cw.end.Disabled() {
			t.Errorf("header %q, end disabled %v", cw.header.Text, cw.end.Disabled())
		}
	})
	// The call ends: the window says so and disables its controls.
	onUI(func() {
		cw.update(idle(), time.Now())
		if cw.header.Text != "This call has ended." || !cw.send.Disabled() || !cw.end.Disabled() || cw.note.Visible() {
			t.Errorf("after end: %q", cw.header.Text)
		}
		cw.win.Close()
	})
}

func TestTrayLogWatcher(t *testing.T) {
	var out bytes.Buffer
	hit := make(chan struct{}, 2)
	w := NewTrayLogWatcher(&out, func() { hit <- struct{}{} })
	fmt.Fprint(w, "2026/11/22 systray error: failed to ")
	fmt.Fprint(w, "register: org.freedesktop.DBus.Error.ServiceUnknown\nother line\n")
	fmt.Fprint(w, "systray error: failed to register: again\n")
	select {
	case <-hit:
	case <-time.After(2 * time.Second):
		t.Fatal("missing watcher not detected")
	}
	select {
	case <-hit:
		t.Fatal("reported twice")
	case <-time.After(100 * time.Millisecond):
	}
	if !strings.Contains(out.String(), "other line") {
		t.Error("log output not passed through")
	}
	w2 := NewTrayLogWatcher(&out, func() { hit <- struct{}{} })
	fmt.Fprint(w2, "systray error: failed to set ToolTip prop\n")
	select {
	case <-hit:
		t.Fatal("unrelated systray error reported as no tray")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRecentDetails(t *testing.T) {
	h := calls.HistoryEntry{CallID: "call-42", AgentName: "Support agent", Started: now0, BilledDuration: 151 * time.Second,
		Cost: 0.13, EndReason: "timeout", BillingStatus: "BILLING_STATUS_BILLED"}
	onUI(func() {
		d, ok := model.Recent(calls.Snapshot{History: []calls.HistoryEntry{h}}, "call-42", time.UTC)
		if !ok {
			t.Fatal("no details of a call in the history")
		}
		obj := recentDetails(d, func() {})
		var texts []string
		var walk func(o fyne.CanvasObject)
		walk = func(o fyne.CanvasObject) {
			switch x := o.(type) {
			case *widget.Label:
				texts = append(texts, x.Text)
			case *widget.Form:
				for _, it := range x.Items {
					texts = append(texts, it.Text)
					walk(it.Widget)
				}
			case *fyne.Container:
				for _, c := range x.Objects {
					walk(c)
				}
			}
		}
		walk(obj)
		all := strings.Join(texts, "|")
		for _, want := range []string{"Support agent", "call-42", "Sun Nov 22 2026 14:00:00 UTC", "2:31", "$0.13", "timed out", "BILLING_STATUS_BILLED"} {
			if !strings.Contains(all, want) {
				t.Errorf("details lack %q: %s", want, all)
			}
		}
	})
}

// The "no system tray" window turns into a confirmation when a tray host
// (a StatusNotifierWatcher) appears on the session bus later, and then
// closes itself.
func TestNoTrayWindowFollowsALateTrayHost(t *testing.T) {
	bus := desktoptest.SessionBus(t)
	bus.Setenv(t)
	old := trayFoundClose
	trayFoundClose = 300 * time.Millisecond
	defer func() { trayFoundClose = old }()

	m := newFakeManager(idle())
	tr, _, _ := newTestTray(t, m, nil)
	found := make(chan struct{}, 1)
	tr.ShowNoTray(func() { found <- struct{}{} })
	var win fyne.Window
	var lbl *widget.Label
	get := func() {
		lbl, win, _ = tr.windows.noTray.get()
	}
	var text, title string
	onUI(func() {
		get()
		if win != nil {
			text, title = lbl.Text, win.Title()
		}
	})
	if win == nil || text != NoTrayText || title != "Ultravox Tray: no system tray" {
		t.Fatalf("no-tray window %v %q %q", win, title, text)
	}
	select {
	case <-found:
		t.Fatal("a tray was found on a bus without one")
	case <-time.After(300 * time.Millisecond):
	}

	desktoptest.StatusNotifierWatcher(t, bus.Conn(t))
	select {
	case <-found:
	case <-time.After(10 * time.Second):
		t.Fatal("the tray host that appeared was not noticed")
	}
	onUI(func() { text, title = lbl.Text, win.Title() })
	if !strings.HasPrefix(text, TrayFoundText) || title != "Ultravox Tray: system tray found" {
		t.Errorf("after the tray appeared: %q / %q", title, text)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		onUI(get)
		if win == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the confirmation did not close itself")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A window the user closes stops watching and calls nothing.
	found2 := make(chan struct{}, 1)
	tr.waitTrayHost = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tr.ShowNoTray(func() { found2 <- struct{}{} })
	onUI(get)
	onUI(func() { win.Close() })
	onUI(get)
	if win != nil {
		t.Error("closed window still tracked")
	}
	select {
	case <-found2:
		t.Error("onFound after the user closed the window")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestWaitTrayHost(t *testing.T) {
	bus := desktoptest.SessionBus(t)
	bus.Setenv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := waitForTrayHost(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no tray host: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- waitForTrayHost(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	desktoptest.StatusNotifierWatcher(t, bus.Conn(t))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("late tray host not seen")
	}
	// Already there: at once.
	if err := waitForTrayHost(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Every kind of window is open at most once: asking again for the same one
// focuses it, asking for another call's replaces it.
func TestOneWindowOfAKind(t *testing.T) {
	s := billing()
	s.Ours = append(s.Ours, calls.CallView{ID: "c2", Ours: true, AgentName: "Sales", State: calls.CallJoining})
	s.History = []calls.HistoryEntry{{CallID: "h1", AgentName: "Support agent"}, {CallID: "h2", AgentName: "Sales"}}
	m := newFakeManager(s)
	tr, app, _ := newTestTray(t, m, nil)
	var before int
	onUI(func() { before = len(app.Driver().AllWindows()) })
	open := func() (n int) { onUI(func() { n = len(app.Driver().AllWindows()) - before }); return }
	w := tr.windows

	onUI(w.showSettings)
	sw, _, _ := w.settings.get()
	onUI(w.showSettings)
	if sw2, _, _ := w.settings.get(); sw2 != sw || open() != 1 {
		t.Fatalf("settings twice: same window %v, %d open", sw2 == sw, open())
	}
	onUI(func() { w.showCall("c1") })
	c1, _, _ := w.call.get()
	onUI(func() { w.showCall("c1") })
	if c, _, _ := w.call.get(); c != c1 || open() != 2 {
		t.Fatalf("call c1 twice: same window %v, %d open", c == c1, open())
	}
	onUI(func() { w.showCall("c2") })
	if c, _, _ := w.call.get(); c == c1 || c.callID != "c2" || open() != 2 {
		t.Fatalf("call c2 did not replace c1: %d open", open())
	}
	onUI(func() { w.showRecent("h1"); w.showRecent("h1") })
	_, r1, _ := w.recent.get()
	onUI(func() { w.showRecent("h2") })
	_, r2, _ := w.recent.get()
	if r1 == r2 || r2.Title() != "Call with Sales" || open() != 3 {
		t.Fatalf("recent: %q, %d open", r2.Title(), open())
	}
	onUI(func() { w.showNotice(model.Notice{Title: "one"}); w.showNotice(model.Notice{Title: "two"}) })
	if _, n, _ := w.notice.get(); n.Title() != "two" || open() != 4 {
		t.Fatalf("notices: %q, %d open", n.Title(), open())
	}
	// Closing a window frees its kind.
	onUI(func() { _, win, _ := w.call.get(); win.Close() })
	if _, _, ok := w.call.get(); ok || open() != 3 {
		t.Fatalf("closed call window still held (%v), %d open", ok, open())
	}
	onUI(func() {
		_, sw, _ := w.settings.get()
		_, rw, _ := w.recent.get()
		_, nw, _ := w.notice.get()
		sw.Close()
		rw.Close()
		nw.Close()
	})
	if open() != 0 {
		t.Errorf("%d windows left open", open())
	}
}
