package main

import (
	"fmt"
	"log/slog"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/power"
	"github.com/ultravox-tray/ultravox-tray/ui/notify"
)

// watchPower ends our calls before sleep and shutdown (and on screen lock
// while endOnLock says so); its notices go through c. Without a power
// service it logs that and watches nothing. stop ends the watch.
func watchPower(mgr *calls.Manager, endOnLock func() bool, c *notify.Coalescer, logger *slog.Logger) (stop func()) {
	logf := func(format string, a ...any) { logger.Info(fmt.Sprintf(format, a...)) }
	src, err := power.Open(power.Options{Logf: logf})
	if err != nil {
		logger.Warn("sleep and shutdown are not watched", "err", err)
		return func() {}
	}
	src = watchSession(src, logger) // Windows: end of session (endsession_windows.go)
	guard := power.NewGuard(src, mgr, power.GuardOptions{
		EndOnLock: endOnLock,
		OnNotice: func(n power.Notice) {
			c.Push(notify.Notification{Summary: "Ultravox Tray", Body: n.Message, Urgent: len(n.Unconfirmed) > 0}, "")
		},
		Logf: logf,
	})
	return func() { guard.Close() }
}
