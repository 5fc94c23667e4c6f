package main

import (
	"io"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/sessionbus"
	"github.com/ultravox-tray/ultravox-tray/ui/notify"
)

// newLogger is the app's log on stderr. It first pins the session bus:
// before anything touches D-Bus, no library may start one (dbus-launch)
// when there is none; openSender then says notifications are off.
func newLogger(stderr io.Writer) *slog.Logger {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := sessionbus.Pin(); err != nil {
		logger.Warn("no session bus: notifications are off", "err", err)
	}
	return logger
}

// openNotices is the OS's notification sender behind a coalescer that
// merges bursts; close releases both.
func openNotices(logger *slog.Logger) (*notify.Coalescer, func()) {
	sender, closeSender := openSender(logger)
	coal := notify.NewCoalescer(sender, 2*time.Second, 10*time.Minute, func(err error) { logger.Warn("notification", "err", err) })
	return coal, func() { coal.Close(); closeSender() }
}

// pumpEvents turns the manager's events into notifications. It must
// subscribe before the power guard, which would drain and drop the events of
// the manager's first check.
func pumpEvents(mgr *calls.Manager, coal *notify.Coalescer) (stop func()) {
	_, events, cancel := mgr.Subscribe()
	stopPump := notify.Pump(events, coal)
	return func() { stopPump(); cancel() }
}

// newFyneApp is the Fyne app without an app ID, so without a Fyne
// preferences file (settings live in app/settings): with an ID, Fyne 2.7.4
// rewrites preferences.json at quit (create, then write) while its own file
// watch may reload it in between ("Preferences load error: EOF").
func newFyneApp() fyne.App {
	fyneapp.SetMetadata(fyne.AppMetadata{Name: appName})
	a := fyneapp.NewWithID("")
	a.SetIcon(fyne.NewStaticResource("ultravox-tray.png", assets.AppIcon()))
	// Fyne 2.7.4 queues its stopped hook (a preferences save, which this app
	// without Fyne preferences does not need) to the main loop while that
	// loop shuts down; when the queue loses that race, app.Run never returns
	// and the quit hangs (seen on SIGQUIT in the e2e tests, 1 run in 7). With
	// no hook nothing is queued.
	if l, ok := a.Lifecycle().(interface{ SetOnStoppedHookExecuted(func()) }); ok {
		l.SetOnStoppedHookExecuted(nil)
	}
	return a
}
