package ui

import (
	"bytes"
	"io"
	"sync"

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

// ShowNoTray opens the window that says there is no system tray, with a
// Quit button. Safe to call from any goroutine.
func (t *Tray) ShowNoTray() {
	doUI(func() {
		win := t.cfg.App.NewWindow("Ultravox Tray: no system tray")
		lbl := widget.NewLabel(NoTrayText)
		lbl.Wrapping = fyne.TextWrapWord
		win.SetContent(container.NewBorder(nil,
			container.NewHBox(widget.NewButton("Settings…", t.windows.showSettings), widget.NewButton("Quit", t.Quit), widget.NewButton("Close", win.Close)),
			nil, nil, lbl))
		win.Resize(fyne.NewSize(520, 240))
		win.CenterOnScreen()
		win.Show()
	})
}
