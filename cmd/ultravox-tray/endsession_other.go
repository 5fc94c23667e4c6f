//go:build !windows

package main

import (
	"log/slog"

	"github.com/ultravox-tray/ultravox-tray/app/power"
)

// watchSession is the identity off Windows: logind and macOS end the
// session by signals the app already quits on (SIGTERM).
func watchSession(src power.Source, _ *slog.Logger) power.Source { return src }
