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
)

// NoTrayText tells the user why no icon appears.
const NoTrayText = "Ultravox Tray is running, but your desktop has no system tray " +
	"(no StatusNotifierWatcher on the session bus), so its icon cannot be shown.\n\n" +
	"On GNOME, install and enable the \"AppIndicator and KStatusNotifierItem Support\" extension; " +
	"other desktops need a status tray/notifier area in the panel. The app keeps running and " +
	"shows its icon as soon as a tray appears. Quit ends any live call first."

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

// TrayFoundText replaces NoTrayText once a tray host appears.
const TrayFoundText = "A system tray is available now: the Ultravox Tray icon is in your panel."

// trayFoundClose is how long the confirmation stays before the window
// closes itself.
var trayFoundClose = 10 * time.Second

// watcherName is the bus name of the StatusNotifierWatcher (the tray host's
// registry that fyne.io/systray registers with; it registers again by itself
// when the name gets an owner).
const watcherName = "org.kde.StatusNotifierWatcher"

// WaitTrayHost returns nil as soon as a StatusNotifierWatcher owns its name
// on the session bus (at once if one does already), or ctx's error when ctx
// ends first. It uses a private bus connection of its own.
func WaitTrayHost(ctx context.Context) error {
	conn, err := dbus.ConnectSessionBus()
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
		win := t.cfg.App.NewWindow("Ultravox Tray: no system tray")
		lbl := widget.NewLabel(NoTrayText)
		lbl.Wrapping = fyne.TextWrapWord
		buttons := container.NewHBox(widget.NewButton("Settings…", t.windows.showSettings), widget.NewButton("Quit", t.Quit), widget.NewButton("Close", win.Close))
		// In a scroll container the wrapped text takes the window's width
		// (alone, its first layout asks for a far taller window).
		win.SetContent(container.NewBorder(nil, buttons, nil, nil, container.NewVScroll(lbl)))
		win.Resize(fyne.NewSize(520, 250))
		win.CenterOnScreen()

		ctx, cancel := context.WithCancel(context.Background())
		closed := false
		win.SetOnClosed(func() {
			closed = true
			cancel()
			t.windows.mu.Lock()
			if t.windows.noTray == win {
				t.windows.noTray, t.windows.noTrayLabel = nil, nil
			}
			t.windows.mu.Unlock()
		})
		t.windows.mu.Lock()
		t.windows.noTray, t.windows.noTrayLabel = win, lbl
		t.windows.mu.Unlock()
		win.Show()

		stop := t.stop
		go func() {
			defer cancel()
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
			doUI(func() {
				if closed {
					return
				}
				win.SetTitle("Ultravox Tray: system tray found")
				lbl.SetText(TrayFoundText + " This window closes by itself.")
				buttons.Objects = []fyne.CanvasObject{widget.NewButton("Close", win.Close)}
				buttons.Refresh()
				win.Resize(fyne.NewSize(520, 120)) // no room for the long text that is gone
			})
			if onFound != nil {
				onFound()
			}
			select {
			case <-time.After(trayFoundClose):
				doUI(func() {
					if !closed {
						win.Close()
					}
				})
			case <-stop:
			}
		}()
	})
}
