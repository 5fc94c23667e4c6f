package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// QuitTimeout bounds how long Quit waits for calls to end before it exits.
const QuitTimeout = 3 * time.Second

// Config wires the tray.
type Config struct {
	App     fyne.App
	Manager Manager
	Prefs   Prefs
	// Notify hears every manager event (a notify.Coalescer); may be nil.
	Notify func(calls.Event)
	// EndEverything ends every live call of ours, local teardown first,
	// bounded by ctx. Quit calls it before quitting.
	EndEverything func(ctx context.Context)
	// TryDemo restarts the app in demo mode (menu "Try demo mode"); may be nil.
	TryDemo func()
	Logger  *slog.Logger
	// Location for the times shown; nil = Local.
	Location *time.Location
}

// Tray renders the manager's state into the system tray.
type Tray struct {
	cfg  Config
	desk desktop.App
	log  *slog.Logger

	mu       sync.Mutex
	snap     calls.Snapshot
	haveSnap bool
	sig      string // menu signature last applied
	icon     string // icon key last applied
	tooltip  string
	title    string
	quitting bool
	items    map[string]model.Item // by label, for tests and lookups

	// lastMenu is the menu we last gave the tray; main goroutine only.
	lastMenu *fyne.Menu

	windows *windows

	// setTooltip and setTitle default to fyne.io/systray's (the same tray
	// Fyne drives); tests replace them to read what was set.
	setTooltip, setTitle func(string)
	// waitTrayHost is WaitTrayHost; tests may replace it.
	waitTrayHost func(ctx context.Context) error

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewTray checks the app can show a system tray. Call Start before app.Run.
func NewTray(cfg Config) (*Tray, error) {
	desk, ok := cfg.App.(desktop.App)
	if !ok {
		return nil, errors.New("this platform's Fyne driver has no system tray")
	}
	if cfg.Manager == nil || cfg.EndEverything == nil {
		return nil, errors.New("ui: Config needs Manager and EndEverything")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	t := &Tray{cfg: cfg, desk: desk, log: cfg.Logger, stop: make(chan struct{}),
		setTooltip: systray.SetTooltip, setTitle: systray.SetTitle, waitTrayHost: WaitTrayHost}
	t.windows = newWindows(t)
	return t, nil
}

// Start shows the tray with the manager's current state and follows it: the
// menu is rebuilt when its content changes, the tooltip and title tick once a
// second. It must be called on the main goroutine before app.Run (or inside
// fyne.Do).
func (t *Tray) Start() {
	snap := t.cfg.Manager.Snapshot()
	t.apply(snap, time.Now(), true)
	snaps, events, cancel := t.cfg.Manager.Subscribe()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer cancel()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case s, ok := <-snaps:
				if !ok {
					return
				}
				t.apply(s, time.Now(), false)
			case ev, ok := <-events:
				if !ok {
					events = nil
					continue
				}
				if t.cfg.Notify != nil {
					t.cfg.Notify(ev)
				}
			case now := <-tick.C:
				t.mu.Lock()
				s, have := t.snap, t.haveSnap
				t.mu.Unlock()
				if have {
					t.apply(s, now, false)
				}
				doUI(t.reassertMenu)
			}
		}
	}()
}

// Stop ends the goroutine that follows the manager. Idempotent.
func (t *Tray) Stop() {
	t.mu.Lock()
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// apply renders snap at now and updates only what changed. The icon and
// menu go through fyne.Do unless onMain; the tooltip and title go to
// systray directly (it locks its own state) every second.
func (t *Tray) apply(snap calls.Snapshot, now time.Time, onMain bool) {
	if trayFrozen.Load() {
		return
	}
	v := model.Render(snap, now, model.Options{Location: t.cfg.Location})
	sig := model.Signature(v.Menu)
	iconKey := fmt.Sprintf("%s/%v", v.Icon, v.Demo)

	t.mu.Lock()
	t.snap, t.haveSnap = snap, true
	menuChanged := sig != t.sig
	iconChanged := iconKey != t.icon
	tipChanged := v.Tooltip != t.tooltip || v.Title != t.title
	t.sig, t.icon, t.tooltip, t.title = sig, iconKey, v.Tooltip, v.Title
	if menuChanged {
		t.items = map[string]model.Item{}
		indexItems(t.items, v.Menu)
	}
	t.mu.Unlock()

	if menuChanged || iconChanged {
		update := func() {
			if iconChanged {
				t.desk.SetSystemTrayIcon(fyne.NewStaticResource(iconKey+".png", assets.MustIcon(v.Icon, assets.TraySize, v.Demo)))
			}
			if menuChanged {
				t.lastMenu = t.fyneMenu(v.Menu)
				t.desk.SetSystemTrayMenu(t.lastMenu)
			}
		}
		if onMain {
			update()
		} else {
			doUI(update)
		}
	}
	if tipChanged {
		t.setTooltip(v.Tooltip)
		t.setTitle("Ultravox: " + v.Title)
	}
	t.windows.refresh(snap, now)
}

// trayMenuDriver is the desktop driver's view of the menu it shows.
type trayMenuDriver interface{ SystemTrayMenu() *fyne.Menu }

// reassertMenu gives the tray our latest menu again if the driver shows
// another one. Fyne 2.7.4 re-applies the very first menu when the
// StatusNotifierItem becomes ready, so a menu set before that moment would
// otherwise be replaced by a stale one until the next state change. Main
// goroutine only.
func (t *Tray) reassertMenu() {
	d, ok := t.cfg.App.Driver().(trayMenuDriver)
	if !ok || t.lastMenu == nil || d.SystemTrayMenu() == t.lastMenu {
		return
	}
	t.log.Debug("tray menu was replaced by the driver; setting ours again")
	t.desk.SetSystemTrayMenu(t.lastMenu)
}

func indexItems(m map[string]model.Item, items []model.Item) {
	for _, it := range items {
		if !it.Separator {
			m[it.Label] = it
		}
		indexItems(m, it.Children)
	}
}

// fyneMenu converts the model's items into a Fyne menu.
func (t *Tray) fyneMenu(items []model.Item) *fyne.Menu {
	return fyne.NewMenu("Ultravox Tray", t.fyneItems(items)...)
}

func (t *Tray) fyneItems(items []model.Item) []*fyne.MenuItem {
	var out []*fyne.MenuItem
	for _, it := range items {
		if it.Separator {
			out = append(out, fyne.NewMenuItemSeparator())
			continue
		}
		act := it.Action
		mi := fyne.NewMenuItem(it.Label, func() { t.do(act) })
		mi.Disabled = !it.Enabled
		mi.Checked = it.Checkable && it.Checked
		mi.IsQuit = it.IsQuit
		if len(it.Children) > 0 {
			mi.ChildMenu = fyne.NewMenu(it.Label, t.fyneItems(it.Children)...)
			mi.Action = nil
		}
		if act.Kind == model.ActNone {
			mi.Action = nil
		}
		out = append(out, mi)
	}
	return out
}

// actionTimeout bounds a manager call started from the menu.
const actionTimeout = 30 * time.Second

// do runs a menu action. It is called on the main goroutine; anything that
// talks to the network runs in a goroutine.
func (t *Tray) do(a model.Action) {
	m := t.cfg.Manager
	background := func(what string, f func(ctx context.Context) error) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
			defer cancel()
			if err := f(ctx); err != nil {
				t.log.Warn(what+" failed", "err", err)
				t.windows.errorNotice(what, err)
			}
		}()
	}
	switch a.Kind {
	case model.ActStartCall:
		background("Start call", func(ctx context.Context) error {
			_, err := m.Start(ctx, a.Arg)
			return err
		})
	case model.ActEndOurs:
		background("End call", m.EndOurs)
	case model.ActEndAll:
		background("End all calls", m.EndAll)
	case model.ActToggleMic:
		muted := false
		for _, c := range m.Snapshot().Ours {
			if c.ID == a.Arg {
				muted = c.MicMuted
			}
		}
		if err := m.SetMicMuted(a.Arg, !muted); err != nil {
			t.windows.errorNotice("Mute microphone", err)
		}
	case model.ActShowCall:
		t.windows.showCall(a.Arg)
	case model.ActShowRecent:
		t.windows.showRecent(a.Arg)
	case model.ActSettings, model.ActSetKey:
		t.windows.showSettings()
	case model.ActTryDemo:
		if t.cfg.TryDemo != nil {
			t.cfg.TryDemo()
		}
	case model.ActRecheck:
		m.Recheck()
	case model.ActQuit:
		t.Quit()
	}
}

// Quit ends our live calls (bounded by QuitTimeout) and then quits the app.
// It returns at once; a second Quit while the first runs does nothing.
func (t *Tray) Quit() {
	t.mu.Lock()
	if t.quitting {
		t.mu.Unlock()
		return
	}
	t.quitting = true
	t.mu.Unlock()
	t.setTooltip("Quitting: ending calls…")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), QuitTimeout)
		t.cfg.EndEverything(ctx)
		cancel()
		doUI(t.cfg.App.Quit)
	}()
}
