//go:build windows || darwin

package notify

import (
	"github.com/gen2brain/beeep"

	"github.com/ultravox-tray/ultravox-tray/assets"
)

// beeepSender shows notices with beeep: a toast on Windows 10/11 (balloon
// before), Notification Center on macOS (terminal-notifier or osascript).
// Neither replaces an earlier notice, so Key is unused; urgent ones use
// Alert (a sound on macOS, a toast that stays on Windows). The app icon goes
// with each (Windows before 10 cannot show a balloon without one).
type beeepSender struct{}

func newBackend() (Sender, func() error, error) {
	beeep.AppName = appName
	return beeepSender{}, func() error { return nil }, nil
}

func (beeepSender) Send(n Notification) error {
	if n.Urgent {
		return beeep.Alert(n.Summary, n.Body, assets.AppIcon())
	}
	return beeep.Notify(n.Summary, n.Body, assets.AppIcon())
}
