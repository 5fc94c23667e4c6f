package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"

	"github.com/ultravox-tray/ultravox-tray/ui"
)

// errNoDisplay stops a start with no desktop to show the tray in.
var errNoDisplay = errors.New("no display: this is a tray app and needs an X11 or Wayland desktop session " +
	"(DISPLAY and WAYLAND_DISPLAY are both unset); calls left from an earlier run were ended, start it again from your desktop")

// displayProblem is errNoDisplay where Fyne needs X11 or Wayland and neither
// is set (Fyne would panic on its first window); nil where the desktop is
// always there (macOS, Windows) or one is set.
func displayProblem() error {
	switch runtime.GOOS {
	case "darwin", "windows", "android", "ios":
		return nil
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errNoDisplay
	}
	return nil
}

// endLeftoversBounded ends every call of ours (the journal's leftovers and
// any live one) within ui.QuitTimeout: at exit, and for a start that
// cannot go on.
func endLeftoversBounded(endAll func(context.Context)) {
	ctx, cancel := context.WithTimeout(context.Background(), ui.QuitTimeout)
	defer cancel()
	endAll(ctx)
}

// endOnPanic, deferred in run once the manager exists, ends our calls
// (bounded) when the UI panics (a driver that cannot start, a bug), then
// lets the panic go on: a crash must not leave a call billing.
func endOnPanic(endAll func(context.Context), logger *slog.Logger) {
	if r := recover(); r != nil {
		logger.Error("crash: ending our calls before exiting", "panic", r)
		endLeftoversBounded(endAll)
		panic(r)
	}
}
