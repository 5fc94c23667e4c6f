package main

import (
	"io"
	"log"
	"log/slog"

	"github.com/ultravox-tray/ultravox-tray/ui"
	"github.com/ultravox-tray/ultravox-tray/ui/notify"
)

// startNotices are the problems found while starting that the app survives
// (settings, keychain, audio): logged at once, shown once the tray is up.
type startNotices struct {
	log  *slog.Logger
	list []notify.Notification
}

// add records err, if any, as n; n's Body, if set, follows the error's words.
func (s *startNotices) add(err error, what string, n notify.Notification) {
	if err == nil {
		return
	}
	s.log.Warn(what, "err", err)
	n.Body = err.Error() + n.Body
	s.list = append(s.list, n)
}

// show pushes the notices to c.
func (s *startNotices) show(c *notify.Coalescer) {
	for _, n := range s.list {
		c.Push(n, "")
	}
}

// openSender is the OS's notification service (D-Bus on Linux, beeep on
// Windows and macOS), or the log when there is none; close releases it.
func openSender(logger *slog.Logger) (s notify.Sender, close func()) {
	sys := notify.NewSystem(logger)
	return sys, func() { sys.Close() }
}

// watchTrayHost tells the user when there is no tray to show the icon in.
// fyne.io/systray logs "failed to register" when no StatusNotifierWatcher
// (tray host) exists; when one appears later, systray registers by itself
// and the window and the popup (same Key: it replaces the first) say so.
func watchTrayHost(stderr io.Writer, tray *ui.Tray, c *notify.Coalescer) {
	log.SetOutput(ui.NewTrayLogWatcher(stderr, func() {
		tray.ShowNoTray(func() {
			c.Push(notify.Notification{Summary: "System tray found", Body: ui.TrayFoundText, Key: "notray"}, "")
		})
		c.Push(notify.Notification{Summary: "No system tray", Body: ui.NoTrayText, Key: "notray"}, "notray")
	}))
}
