package main

import (
	"errors"

	"github.com/ultravox-tray/ultravox-tray/ui/notify"
)

// tellStartError shows an error that stops the start as a desktop
// notification too: an app started from a menu or at login has no terminal,
// so stderr alone reaches nobody. Best effort: without a session bus (or a
// notification service) stderr is all there is.
func tellStartError(err error) {
	if err == nil {
		return
	}
	d, derr := notify.NewDBus()
	if derr != nil {
		return
	}
	defer d.Close()
	n := notify.Notification{Summary: "Ultravox Tray could not start", Body: err.Error(), Urgent: true, Key: "start"}
	var running *errAlreadyRunning
	if errors.As(err, &running) {
		n.Summary, n.Urgent = "Ultravox Tray is already running", false
	}
	_ = d.Send(n)
}
