package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/ultravox-tray/ultravox-tray/app/paths"
)

// Exit codes.
const (
	exitOK             = 0
	exitError          = 1
	exitUsage          = 2
	exitAlreadyRunning = 3
	exitNoDisplay      = 4 // no X11 or Wayland display: leftover calls were ended, no tray shown
)

// exitCode is the exit code for an error that stops the start.
func exitCode(err error) int {
	var running *errAlreadyRunning
	var usage usageError
	switch {
	case errors.As(err, &running):
		return exitAlreadyRunning
	case errors.As(err, &usage):
		return exitUsage
	}
	return exitError
}

// flagsOnly ends a run that the command line alone decides: help, a usage
// error or --version.
func flagsOnly(f flags, err error, stderr io.Writer) int {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		fmt.Fprintln(stderr, "ultravox-tray:", err)
		return exitUsage
	}
	fmt.Fprintln(stderr, "ultravox-tray", version)
	return exitOK
}

type flags struct {
	demo, noAudio, version bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("ultravox-tray", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.demo, "demo", false, "run against the embedded Ultravox simulator with demo agents (no account, nothing billed)")
	fs.BoolVar(&f.noAudio, "no-audio", false, "join calls without microphone and speaker (type to the agent in Show call…)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ultravox-tray [--demo] [--no-audio]\n\n"+
			"Environment: ULTRAVOX_API_KEY, ULTRAVOX_API_URL, ULTRAVOX_AGENT_ID, XDG_CONFIG_HOME, XDG_STATE_HOME.\n"+
			"With no API key (keychain or ULTRAVOX_API_KEY) and no ULTRAVOX_API_URL it starts in demo mode.\n"+
			"SIGINT, SIGTERM, SIGHUP and SIGQUIT quit as the menu's Quit does: live calls are ended first.\n"+
			"Exit codes: 0 quit, 1 error, 2 usage error, 3 already running, 4 no display (DISPLAY and\n"+
			"WAYLAND_DISPLAY unset; calls left from an earlier run are ended before it exits).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	return f, nil
}

// stateDir is where the journal and the lock live (app/paths: XDG on
// Linux, %LOCALAPPDATA% on Windows, Application Support on macOS).
func stateDir() (string, error) { return paths.StateDir() }
