package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/internal/sessionbus"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// NoTrayText and TrayFoundText are the no-tray window's words, which the
// binary also sends as notifications.
const (
	NoTrayText    = model.NoTrayText
	TrayFoundText = model.TrayFoundText
)

// TrayLogWatcher passes log output through to w and calls onMissing once
// when fyne.io/systray logs that it could not register with a
// StatusNotifierWatcher ("systray error: failed to register: ...").
type TrayLogWatcher struct {
	w         io.Writer
	onMissing func()

	mu   sync.Mutex
	line []byte
	once sync.Once
}

// NewTrayLogWatcher wraps w; install it with log.SetOutput.
func NewTrayLogWatcher(w io.Writer, onMissing func()) *TrayLogWatcher {
	return &TrayLogWatcher{w: w, onMissing: onMissing}
}

func (l *TrayLogWatcher) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.line = append(l.line, p...)
	for {
		i := bytes.IndexByte(l.line, '\n')
		if i < 0 {
			break
		}
		if bytes.Contains(l.line[:i], []byte("systray error: failed to register:")) {
			l.once.Do(func() { go l.onMissing() })
		}
		l.line = l.line[i+1:]
	}
	if len(l.line) > 4096 {
		l.line = nil
	}
	l.mu.Unlock()
	return l.w.Write(p)
}

// trayFoundClose is how long the confirmation stays before the window
// closes itself.
var trayFoundClose = 10 * time.Second

// watcherName is the bus name of the StatusNotifierWatcher (the tray host's
// registry that fyne.io/systray registers with; it registers again by itself
// when the name gets an owner).
const watcherName = "org.kde.StatusNotifierWatcher"

// waitForTrayHost returns nil as soon as a StatusNotifierWatcher owns its name
// on the session bus (at once if one does already), or ctx's error when ctx
// ends first. It uses a private bus connection of its own.
func waitForTrayHost(ctx context.Context) error {
	addr, err := sessionbus.Address()
	if err != nil {
		return fmt.Errorf("cannot watch for a system tray: %w", err)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		return fmt.Errorf("cannot watch for a system tray: %w", err)
	}
	defer conn.Close()
	if err := conn.AddMatchSignal(
		dbus.WithMatchObjectPath("/org/freedesktop/DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, watcherName),
	); err != nil {
		return fmt.Errorf("cannot watch for a system tray: %w", err)
	}
	sigs := make(chan *dbus.Signal, 8)
	conn.Signal(sigs)
	// Subscribed first, asked second: a watcher that appears in between is
	// not missed.
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has); err != nil {
		return fmt.Errorf("cannot watch for a system tray: %w", err)
	}
	if has {
		return nil
	}
	for {
		select {
		case sig, ok := <-sigs:
			if !ok || sig == nil {
				return errors.New("cannot watch for a system tray: the session bus connection closed")
			}
			if sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) < 3 {
				continue
			}
			name, _ := sig.Body[0].(string)
			owner, _ := sig.Body[2].(string)
			if name == watcherName && owner != "" {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ShowNoTray opens the window that says there is no system tray, with a
// Quit button, and watches for a tray host: when one appears the window says
// so, calls onFound (may be nil; from another goroutine) and closes itself
// shortly after. Safe to call from any goroutine.
func (t *Tray) ShowNoTray(onFound func()) {
	doUI(func() {
		t.windows.noTray.show("", false, func() (fyne.Window, *widget.Label, func()) {
			win := t.cfg.App.NewWindow(model.NoTray.Title)
			lbl := widget.NewLabel(model.NoTray.Text)
			lbl.Wrapping = fyne.TextWrapWord
			buttons := container.NewHBox(widget.NewButton(model.LabelSettings, t.windows.showSettings), widget.NewButton(model.LabelQuit, t.Quit), widget.NewButton(model.LabelClose, win.Close))
			// In a scroll container the wrapped text takes the window's width
			// (alone, its first layout asks for a far taller window).
			win.SetContent(container.NewBorder(nil, buttons, nil, nil, container.NewVScroll(lbl)))
			win.Resize(fyne.NewSize(520, 250))
			win.CenterOnScreen()

			ctx, cancel := context.WithCancel(context.Background())
			closed := false
			go t.watchForTray(ctx, cancel, onFound, func() {
				if closed {
					return
				}
				win.SetTitle(model.TrayFound.Title)
				lbl.SetText(model.TrayFound.Text)
				buttons.Objects = []fyne.CanvasObject{widget.NewButton(model.LabelClose, win.Close)}
				buttons.Refresh()
				win.Resize(fyne.NewSize(520, 120)) // no room for the long text that is gone
			}, func() {
				if !closed {
					win.Close()
				}
			})
			return win, lbl, func() { closed = true; cancel() }
		})
	})
}

// watchForTray waits for a tray host until ctx ends or the app quits. When
// one appears it runs found on the main goroutine, calls onFound (may be
// nil), and after trayFoundClose runs done on the main goroutine.
func (t *Tray) watchForTray(ctx context.Context, cancel func(), onFound func(), found, done func()) {
	defer cancel()
	stop := t.stop
	go func() {
		select {
		case <-stop: // the app is quitting
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := t.waitTrayHost(ctx); err != nil {
		if ctx.Err() == nil {
			t.log.Warn("no-tray window stays open", "err", err)
		}
		return
	}
	t.log.Info("a system tray appeared")
	doUI(found)
	if onFound != nil {
		onFound()
	}
	select {
	case <-time.After(trayFoundClose):
		doUI(done)
	case <-stop:
	}
}
