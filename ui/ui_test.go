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
	"github.com/godbus/dbus/v5"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
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
	useNativeMenu = false // no system tray under Fyne's test driver
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
	// iconPanic, when set, is what SetSystemTrayIcon panics with (as
	// fyne.io/systray does once Fyne's quit closed its D-Bus connection).
	iconPanic any
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
	if a.iconPanic != nil {
		panic(a.iconPanic)
	}
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

func (m *fakeManager) EndAll(ctx context.Context) error { m.record("endall"); return nil }

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
	idleM := newFakeManager(idle())
	tr0, app0, _ := newTestTray(t, idleM, nil)
	onUI(tr0.Start)
	menu0 := app0.lastMenu()
	onUI(item(menu0, "Start call: Support agent").Action)
	waitCalls(t, idleM, "start a1")
	onUI(item(menu0, "Sales").Action)
	waitCalls(t, idleM, "start a1", "start a2")

	// While our call bills, Start call is disabled (issue 12, defect 6).
	m := newFakeManager(billing())
	tr, app, _ := newTestTray(t, m, nil)
	onUI(tr.Start)
	menu := app.lastMenu()
	if s := item(menu, "Start call (a call is live"); s == nil || !s.Disabled {
		t.Errorf("Start call while billing: %+v", s)
	}
	onUI(item(menu, "End call").Action)
	waitCalls(t, m, "end c1")
	onUI(item(menu, "End all calls on account (1)").Action)
	waitCalls(t, m, "end c1", "endall")
	onUI(item(menu, "Mute microphone").Action)
	waitCalls(t, m, "end c1", "endall", "mic c1 true")
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

// Once Quit hands the app to Fyne's quit (which closes the systray's D-Bus
// connection; a systray call after it panics, and a panic at quit is a
// crash), the tray sets no icon, menu or tooltip again, whatever the
// manager publishes. (It kept following the manager until main's Stop after
// app.Run returned, and an icon update queued behind the quit panicked with
// "dbus: connection closed by user".)
func TestQuitLeavesTheTrayAlone(t *testing.T) {
	m := newFakeManager(billing())
	tr, app, tp := newTestTray(t, m, func(context.Context) { m.publish(idle()) })
	onUI(tr.Start)
	quit := app.lastMenu().Items[len(app.lastMenu().Items)-1]
	onUI(quit.Action)
	select {
	case <-app.quitCh:
	case <-time.After(5 * time.Second):
		t.Fatal("app did not quit")
	}
	onUI(func() {})
	menus, icons := app.counts()
	tp.mu.Lock()
	tips := len(tp.tips)
	tp.mu.Unlock()
	m.publish(billing())
	m.publish(idle())
	time.Sleep(1500 * time.Millisecond) // the per-second tick too
	onUI(func() {})
	if m2, i2 := app.counts(); m2 != menus || i2 != icons {
		t.Errorf("after quit: menus %d -> %d, icons %d -> %d", menus, m2, icons, i2)
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if len(tp.tips) != tips {
		t.Errorf("after quit the tooltip was set again: %q", tp.tips[tips:])
	}
}

// A quit Fyne began itself (SIGTERM, the window manager) closes the
// systray's connection with no hook before it; an update already queued
// then panics with dbus.ErrClosed. The tray survives it and leaves the tray
// alone from then on.
func TestTrayUpdateAfterFynesQuitDoesNotCrash(t *testing.T) {
	m := newFakeManager(idle())
	tr, app, tp := newTestTray(t, m, nil)
	onUI(tr.Start)
	app.mu.Lock()
	app.iconPanic = dbus.ErrClosed
	app.mu.Unlock()
	m.publish(billing()) // a new icon: the update panics and is survived
	deadline := time.Now().Add(5 * time.Second)
	for !tr.down.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the tray did not notice it was closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tp.mu.Lock()
	tips := len(tp.tips)
	tp.mu.Unlock()
	m.publish(idle())
	time.Sleep(300 * time.Millisecond)
	onUI(func() {})
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if len(tp.tips) != tips {
		t.Errorf("the tooltip was set after the tray closed: %q", tp.tips[tips:])
	}
}

// A failure that arrives once quitting began (a start or end that fails
// while the calls are being ended) is logged, not shown: a window opened
// after Fyne's loop ended panics ("GLFW library is not initialized").
func TestNoErrorWindowOnceQuitting(t *testing.T) {
	m := newFakeManager(idle())
	tr, app, _ := newTestTray(t, m, nil)
	onUI(tr.Start)
	quit := app.lastMenu().Items[len(app.lastMenu().Items)-1]
	onUI(quit.Action)
	select {
	case <-app.quitCh:
	case <-time.After(5 * time.Second):
		t.Fatal("app did not quit")
	}
	before := len(app.Driver().AllWindows())
	tr.windows.errorNotice("Start call", errors.New("the server went away"))
	onUI(func() {})
	if n := len(app.Driver().AllWindows()); n != before {
		t.Fatalf("%d window(s) opened after quit", n-before)
	}
}
