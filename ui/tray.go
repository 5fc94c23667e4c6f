package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

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
	// EndEverything ends every live call of ours, local teardown first,
	// bounded by ctx. Quit calls it before quitting.
	EndEverything func(ctx context.Context)
	// TryDemo restarts the app in demo mode (menu "Try demo mode"); may be nil.
	TryDemo func()
	// Review fetches finished calls, continues them, starts text calls and
	// reads the usage (review_window.go); may be nil.
	Review Reviewer
	// Logger; nil = slog.Default().
	Logger *slog.Logger
	// Location for the times shown; nil = Local.
	Location *time.Location
}

// Tray renders the manager's state into the system tray.
type Tray struct {
	cfg  Config
	desk desktop.App
	log  *slog.Logger

	mu       sync.Mutex // guards snap through quitting
	snap     calls.Snapshot
	haveSnap bool
	sig      string // menu signature last applied
	icon     string // icon key last applied
	tooltip  string
	title    string
	quitting bool

	// lastMenu is the menu we last gave Fyne (with the native menu, the
	// first one only); main goroutine only.
	lastMenu *fyne.Menu
	// native keeps the systray items once the tray runs (traymenu.go);
	// nil under the package's tests. Main goroutine only.
	native *nativeMenu

	// down is set once the tray is being taken down (Quit hands it to
	// Fyne, or Stop): from then on nothing touches the systray, whose D-Bus
	// connection Fyne's quit closes (a call on it panics).
	down atomic.Bool

	windows *windows

	// setTooltip and setTitle default to fyne.io/systray's (the same tray
	// Fyne drives); tests replace them to read what was set.
	setTooltip, setTitle func(string)
	// waitTrayHost is waitForTrayHost; tests may replace it.
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
		setTooltip: systray.SetTooltip, setTitle: systray.SetTitle, waitTrayHost: waitForTrayHost}
	t.windows = newWindows(t)
	return t, nil
}

// Start shows the tray with the manager's current state and follows it: the
// menu is updated when its content changes (in place, keeping the items'
// ids, when only labels, enabled or checked change), the tooltip and title
// tick once a second. It must be called on the main goroutine before app.Run (or inside
// fyne.Do).
func (t *Tray) Start() {
	// No Lifecycle().SetOnStopped hook to set down: Fyne 2.7.4 queues that
	// hook to the main loop while the loop is shutting down, and when it
	// loses that race app.Run never returns (the quit hangs). Quit and Stop
	// set down; survivePanicOfClosedTray covers quits Fyne starts itself.
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
			case _, ok := <-events:
				// Notifications hear events on their own subscription; the
				// tray reads its share only so that the queue does not fill.
				if !ok {
					events = nil
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

// Stop ends the goroutine that follows the manager and leaves the system
// tray alone from then on. Idempotent.
func (t *Tray) Stop() {
	t.down.Store(true)
	t.stopFollowing()
}

// apply renders snap at now and updates only what changed. The icon and
// menu go through fyne.Do unless onMain; the tooltip and title go to
// systray directly (it locks its own state) every second.
func (t *Tray) apply(snap calls.Snapshot, now time.Time, onMain bool) {
	if trayFrozen.Load() {
		return
	}
	v := model.Render(snap, now, model.Options{Location: t.cfg.Location, Review: t.cfg.Review != nil})
	sig := model.Signature(v.Menu)
	iconKey := fmt.Sprintf("%s/%v", v.Icon, v.Demo)

	t.mu.Lock()
	t.snap, t.haveSnap = snap, true
	menuChanged := sig != t.sig
	iconChanged := iconKey != t.icon
	tipChanged := v.Tooltip != t.tooltip || v.Title != t.title
	t.sig, t.icon, t.tooltip, t.title = sig, iconKey, v.Tooltip, v.Title
	t.mu.Unlock()

	if menuChanged || iconChanged {
		update := func() {
			if t.down.Load() {
				return
			}
			defer t.survivePanicOfClosedTray()
			if iconChanged {
				t.desk.SetSystemTrayIcon(fyne.NewStaticResource(iconKey+".png", assets.MustIcon(v.Icon, assets.TraySize, v.Demo)))
			}
			if menuChanged {
				t.showMenu(v.Menu)
			}
		}
		if onMain {
			update()
		} else {
			doUI(update)
		}
	}
	if tipChanged && !t.down.Load() {
		t.setTooltip(v.Tooltip)
		t.setTitle(model.TrayTitle(v.Title))
	}
	t.windows.refresh(snap, now)
}

// showMenu gives the tray the menu items. The first menu goes to Fyne, which
// starts the tray with it; after that, unless the package's tests turned it
// off, the tray keeps its own systray items and updates them in place, so
// that their ids stay valid for a host that read the menu before the change.
// Main goroutine only.
func (t *Tray) showMenu(items []model.Item) {
	if t.native != nil {
		t.native.show(items)
		return
	}
	t.lastMenu = t.fyneMenu(items)
	t.desk.SetSystemTrayMenu(t.lastMenu)
	if useNativeMenu {
		t.native = &nativeMenu{t: t}
		t.native.show(items)
	}
}

// trayMenuDriver is the desktop driver's view of the menu it shows.
type trayMenuDriver interface{ SystemTrayMenu() *fyne.Menu }

// reassertMenu gives the tray our latest menu again if the driver shows
// another one. Fyne 2.7.4 re-applies the very first menu when the
// StatusNotifierItem becomes ready, so a menu set before that moment would
// otherwise be replaced by a stale one until the next state change. With
// the tray's own systray items (traymenu.go) there is nothing to poll: the
// items notice their removal. Main goroutine only.
func (t *Tray) reassertMenu() {
	if t.down.Load() {
		return
	}
	defer t.survivePanicOfClosedTray()
	if t.native != nil {
		return // nativeMenu notices its items removed and builds them again
	}
	d, ok := t.cfg.App.Driver().(trayMenuDriver)
	if !ok || t.lastMenu == nil || d.SystemTrayMenu() == t.lastMenu {
		return
	}
	t.log.Debug("tray menu was replaced by the driver; setting ours again")
	t.desk.SetSystemTrayMenu(t.lastMenu)
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
	t.setTooltip(model.QuittingTooltip)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), QuitTimeout)
		t.cfg.EndEverything(ctx)
		cancel()
		// Fyne's quit closes the systray's D-Bus connection, and an icon or
		// menu update still queued behind it would panic on it: stop
		// following the manager first, and let updates already queued see
		// down (they run on the same goroutine, before or after this).
		t.stopFollowing()
		doUI(func() {
			t.down.Store(true)
			t.cfg.App.Quit()
		})
	}()
}

// stopFollowing ends the goroutine that follows the manager. Idempotent.
func (t *Tray) stopFollowing() {
	t.mu.Lock()
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// survivePanicOfClosedTray keeps a quit that Fyne began itself (SIGINT,
// SIGTERM, the window manager) from crashing the app: Fyne closes the
// systray's D-Bus connection in its Quit, with no hook before it, and an
// update queued just before runs after it. Such a panic only means the tray
// is gone; any other panic goes on.
func (t *Tray) survivePanicOfClosedTray() {
	r := recover()
	if r == nil {
		return
	}
	if err, ok := r.(error); ok && errors.Is(err, dbus.ErrClosed) {
		t.down.Store(true)
		t.log.Debug("tray update after the tray closed; skipped", "err", err)
		return
	}
	panic(r)
}
