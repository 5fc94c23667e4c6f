// Command ultravox-tray is the Ultravox Tray desktop app: a system-tray icon
// that starts and ends Ultravox calls, shows at a glance whether anything is
// billing, and ends every live call on quit, sleep and shutdown.
//
// This file holds the wiring only: run makes each part and hands it to the
// next. The policies it wires live beside it (key.go, backend.go, prefs.go,
// restart.go) and in app/ and ui/.
//
//	ultravox-tray            # the key from the keychain; demo mode when none is set
//	ultravox-tray --demo     # the embedded simulator with demo agents, no account
//
// Environment: ULTRAVOX_API_KEY (overrides the keychain, never stored),
// ULTRAVOX_API_URL (base URL; plain http only for loopback), ULTRAVOX_AGENT_ID
// (the default agent), and the XDG directories (XDG_CONFIG_HOME for
// settings.json, XDG_STATE_HOME for the call journal and the instance lock).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	_ "github.com/ultravox-tray/ultravox-tray/internal/localeenv" // before Fyne's locale lookup
	"github.com/ultravox-tray/ultravox-tray/ui"
	"github.com/ultravox-tray/ultravox-tray/ui/notify"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// appName is the name the tray host shows for the icon.
const appName = "Ultravox Tray"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run starts the app and returns its exit code once it has quit.
func run(args []string, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if err != nil || f.version {
		return flagsOnly(f, err, stderr)
	}
	logger := newLogger(stderr)
	fail := func(err error) int {
		fmt.Fprintln(stderr, "ultravox-tray:", err)
		tellStartError(err) // not only stderr, which nobody reads from a menu start
		return exitCode(err)
	}

	dir, err := stateDir()
	if err != nil {
		return fail(err)
	}
	lock, err := acquireLock(dir)
	if err != nil {
		return fail(err)
	}
	defer lock.release()

	notices := &startNotices{log: logger}
	store, saved, err := loadSettings(notices)
	if err != nil {
		return fail(err)
	}

	keys := newKeySource(logger)
	key, err := keys.atStart(f.demo)
	if err != nil {
		return fail(err)
	}
	notices.add(key.problem, "API key", notify.Notification{Summary: "Cannot read the API key", Key: "key"})
	be, err := openBackend(key, keys, dir)
	if err != nil {
		return fail(err)
	}
	defer be.close()

	cs := callSettings(saved, be.demo, be.demoAgent)
	audio, err := openAudio(f.noAudio, voiceConfig(saved, cs))
	notices.add(err, "audio off", notify.Notification{Summary: "Audio is off", Body: " Calls can still be joined; type to the agent in Show call…"})

	coal, closeNotices := openNotices(logger)
	defer closeNotices()

	host, _ := os.Hostname()
	mgr, err := calls.New(calls.Config{
		Client: be.client, StateDir: be.stateDir, Audio: audio.forCalls(), Settings: cs,
		DeviceName: host, Version: version, Demo: be.demo, Logger: logger,
	})
	if err != nil {
		return fail(err)
	}
	defer mgr.Close()
	stopPump := pumpEvents(mgr, coal) // before the power guard subscribes
	defer stopPump()

	exe, _ := os.Executable()
	p := &prefs{store: store, mgr: mgr, audio: audio, rates: cs, be: be, exe: exe, cur: saved}
	stopPower := watchPower(mgr, func() bool { return p.current().EndCallsOnLock }, coal, logger)
	defer stopPower()

	endAll := endEverything(mgr, logger)
	defer endOnPanic(endAll, logger)
	if err := displayProblem(); err != nil {
		endLeftoversBounded(endAll) // the journal's leftovers must not keep billing
		fmt.Fprintln(stderr, "ultravox-tray:", err)
		return exitNoDisplay
	}

	a := newFyneApp()
	var tray *ui.Tray
	rs := &restart{args: args, quit: func() { tray.Quit() }}
	tray, err = ui.NewTray(ui.Config{
		App: a, Manager: mgr, Prefs: p.forUI(keys, key.fromEnv, keys.onChange(be.demo, mgr, rs.leaveDemo)),
		EndEverything: endAll, TryDemo: rs.enterDemo, Logger: logger, Review: mgr,
	})
	if err != nil {
		return fail(err)
	}
	watchTrayHost(stderr, tray, coal)
	stopSignals := quitOnSignals(tray.Quit)
	defer stopSignals()
	tray.Start()
	notices.show(coal)
	logger.Info("ultravox-tray running", "version", version, "demo", be.demo, "pid", os.Getpid())

	a.Run() // returns after Quit, SIGINT/SIGTERM (Fyne catches both), SIGHUP/SIGQUIT (quitOnSignals) or the WM's close

	// Whatever ended the loop: end our live calls, bounded, before exiting.
	tray.Stop()
	endLeftoversBounded(endAll)
	logger.Info("ultravox-tray stopped")
	if next := rs.pending(); next != nil {
		return fail(rs.exec(exe, next, coal.Close, func() { mgr.Close() }, be.close, lock.release))
	}
	return exitOK
}

// endEverything ends every live call of ours, local teardown first, bounded
// by ctx; calls whose end could not be confirmed are logged.
func endEverything(mgr *calls.Manager, logger *slog.Logger) func(ctx context.Context) {
	return func(ctx context.Context) {
		if left := mgr.EndEverything(ctx); len(left) > 0 {
			logger.Error("could not confirm the end of calls", "count", len(left))
		}
	}
}
