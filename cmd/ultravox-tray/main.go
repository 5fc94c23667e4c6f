// Command ultravox-tray is the Ultravox Tray desktop app: a system-tray icon
// that starts and ends Ultravox calls, shows at a glance whether anything is
// billing, and ends every live call on quit, sleep and shutdown.
//
// This file holds flags and wiring only; the behaviour lives in app/ and ui/.
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
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/paths"
	"github.com/ultravox-tray/ultravox-tray/app/power"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/app/voice"
	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/secrets"
	"github.com/ultravox-tray/ultravox-tray/ui"
	"github.com/ultravox-tray/ultravox-tray/ui/notify"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK             = 0
	exitError          = 1
	exitUsage          = 2
	exitAlreadyRunning = 3
)

// AppID is the Fyne application ID (preferences, desktop entry).
const AppID = "io.github.ultravox-tray"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
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
			"With no API key (keychain or ULTRAVOX_API_KEY) and no ULTRAVOX_API_URL it starts in demo mode.\n\n")
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

// callSettings turns the user's settings into the manager's. In demo mode
// the default agent is demoAgent (a simulator agent): a real account's agent
// does not exist in the simulator.
func callSettings(s settings.Settings, demo bool, demoAgent string) calls.Settings {
	cs := calls.DefaultSettings()
	cs.MaxDuration = s.MaxDuration()
	cs.JoinTimeout = s.JoinTimeout()
	cs.PricePerMinute = s.PricePerMinute
	cs.DailyBudget = s.DailyBudget
	cs.DeleteAfterEnd = s.DeleteAfterEnd
	if demo {
		cs.DefaultAgentID = demoAgent
	} else {
		cs.DefaultAgentID = s.DefaultAgentID
	}
	if id := strings.TrimSpace(os.Getenv("ULTRAVOX_AGENT_ID")); id != "" {
		cs.DefaultAgentID = id
	}
	return cs
}

// voiceConfig is the audio engine's configuration for the user's settings:
// devices, headset, and echo cancellation when asked for and built in
// (otherwise half-duplex gating). New calls use it; calls already open keep
// theirs.
func voiceConfig(s settings.Settings, cs calls.Settings) voice.Config {
	c := voice.Config{InputRate: cs.InputRate, OutputRate: cs.OutputRate,
		CaptureDevice: s.MicrophoneDevice, PlaybackDevice: s.SpeakerDevice, Headset: s.Headset}
	if s.EchoCancellation && !s.Headset && voice.EchoCancellationBuiltIn {
		c.Echo = voice.EchoCancel
	}
	return c
}

// withDemoFlag returns the command line args with --demo added (on) or
// removed, for the restart into or out of demo mode.
func withDemoFlag(args []string, on bool) []string {
	out := []string{}
	for _, a := range args {
		if a != "--demo" && a != "-demo" && a != "--demo=true" && a != "-demo=true" {
			out = append(out, a)
		}
	}
	if on {
		out = append(out, "--demo")
	}
	return out
}

func newClient(baseURL, key string) (*ultravox.Client, error) {
	return ultravox.NewClient(ultravox.Options{BaseURL: baseURL, APIKey: key, Version: version})
}

// keyStore adapts secrets.Store to the settings window: it reads only the
// keychain's key (the environment override is shown separately).
type keyStore struct{ s *secrets.Store }

func (k keyStore) Get(ctx context.Context) (string, error) {
	if k.s.EnvOverride() {
		return "", nil
	}
	key, _, err := k.s.Get(ctx)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	return key, err
}
func (k keyStore) Set(ctx context.Context, key string) error { return k.s.Set(ctx, key) }
func (k keyStore) Delete(ctx context.Context) error {
	if err := k.s.Delete(ctx); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	return nil
}

func run(args []string, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "ultravox-tray:", err)
		return exitUsage
	}
	if f.version {
		fmt.Fprintln(stderr, "ultravox-tray", version)
		return exitOK
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "ultravox-tray: "+format+"\n", a...)
		return code
	}

	dir, err := stateDir()
	if err != nil {
		return fail(exitError, "%v", err)
	}
	lock, err := acquireLock(dir)
	var running *errAlreadyRunning
	if errors.As(err, &running) {
		return fail(exitAlreadyRunning, "%v", err)
	}
	if err != nil {
		return fail(exitError, "%v", err)
	}
	defer lock.release()

	var notices []notify.Notification

	// Settings (not the key).
	settingsPath, err := settings.DefaultPath()
	if err != nil {
		return fail(exitError, "%v", err)
	}
	store := settings.NewStore(settingsPath)
	var setMu sync.Mutex
	cur, err := store.Load()
	if err != nil {
		logger.Warn("settings", "err", err)
		notices = append(notices, notify.Notification{Summary: "Settings problem", Body: err.Error(), Key: "settings"})
	}
	current := func() settings.Settings { setMu.Lock(); defer setMu.Unlock(); return cur }

	// The key: ULTRAVOX_API_KEY, else the keychain; demo mode without one.
	keys := secrets.New()
	apiURL := os.Getenv("ULTRAVOX_API_URL")
	var key string
	var src secrets.Source
	var keyErr error
	if !f.demo || keys.EnvOverride() { // --demo needs no key: leave the keychain alone
		kctx, kcancel := context.WithTimeout(context.Background(), 2*secrets.DefaultTimeout)
		key, src, keyErr = keys.Get(kctx)
		kcancel()
	}
	switch {
	case keyErr == nil, errors.Is(keyErr, secrets.ErrNotFound):
	case errors.Is(keyErr, secrets.ErrInvalidKey) && keys.EnvOverride():
		return fail(exitUsage, "%v", keyErr)
	default:
		logger.Warn("API key", "err", keyErr)
		notices = append(notices, notify.Notification{Summary: "Cannot read the API key", Body: keyErr.Error(), Key: "key"})
	}
	demo := f.demo
	if !demo && key == "" && apiURL == "" {
		demo = true
		logger.Info("no API key is set: starting in demo mode (set a key in Settings…)")
	}

	var sim *simulator.Server
	var client *ultravox.Client
	var demoAgent string
	stateFor := dir
	if demo {
		sim = simulator.New(simulator.DefaultOptions())
		if err := sim.Start(); err != nil {
			return fail(exitError, "cannot start the demo simulator: %v", err)
		}
		defer sim.Close()
		for _, ag := range sim.Agents() {
			if demoAgent == "" || ag.Name == "Support agent" {
				demoAgent = ag.AgentID
			}
		}
		client, err = newClient(sim.URL(), sim.APIKey())
		if err != nil {
			return fail(exitError, "demo client: %v", err)
		}
		// The demo's calls have their own journal: the real account's
		// journal must never hold simulator calls, nor the reverse.
		stateFor = filepath.Join(dir, "demo")
	} else if key != "" {
		client, err = newClient(apiURL, key)
		if err != nil {
			return fail(exitUsage, "%v", err)
		}
	}

	// Audio.
	var audio calls.Audio
	va := &voiceAudio{}
	cs := callSettings(current(), demo, demoAgent)
	voiceCfg := func(s settings.Settings) voice.Config { return voiceConfig(s, cs) }
	if !f.noAudio {
		eng, err := voice.NewEngine(voiceCfg(current()))
		if err != nil {
			logger.Warn("audio off", "err", err)
			notices = append(notices, notify.Notification{Summary: "Audio is off", Body: err.Error() + " Calls can still be joined; type to the agent in Show call…"})
		} else {
			va.set(eng)
			audio = va
		}
	}

	// Notifications.
	sender := notify.NewSystem(logger)
	defer sender.Close()
	coal := notify.NewCoalescer(sender, 2*time.Second, 10*time.Minute, func(err error) { logger.Warn("notification", "err", err) })
	defer coal.Close()

	host, _ := os.Hostname()
	mgr, err := calls.New(calls.Config{
		Client: client, StateDir: stateFor, Audio: audio, Settings: cs,
		DeviceName: host, Version: version, Demo: demo, Logger: logger,
	})
	if err != nil {
		return fail(exitError, "%v", err)
	}
	defer mgr.Close()

	// Events become notifications from the first moment, before anything
	// else subscribes: the manager hands the events of its first check (a
	// rejected key, calls of an earlier session that it ended) to its first
	// subscriber, and the power guard would drain and drop them.
	_, events, cancelEvents := mgr.Subscribe()
	stopEvents := make(chan struct{})
	eventsDone := make(chan struct{})
	go func() {
		defer close(eventsDone)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					return
				}
				coal.Event(ev)
			case <-stopEvents:
				return
			}
		}
	}()
	defer func() {
		close(stopEvents)
		<-eventsDone
		cancelEvents()
	}()

	// Power: end calls before sleep and shutdown (and on lock, if set).
	psrc, err := power.Open(power.Options{Logf: func(format string, a ...any) { logger.Info(fmt.Sprintf(format, a...)) }})
	if err != nil {
		logger.Warn("sleep and shutdown are not watched", "err", err)
	} else {
		psrc = watchSession(psrc, logger)
		guard := power.NewGuard(psrc, mgr, power.GuardOptions{
			EndOnLock: func() bool { return current().EndCallsOnLock },
			OnNotice: func(n power.Notice) {
				coal.Push(notify.Notification{Summary: "Ultravox Tray", Body: n.Message, Urgent: len(n.Unconfirmed) > 0}, "")
			},
			Logf: func(format string, a ...any) { logger.Info(fmt.Sprintf(format, a...)) },
		})
		defer guard.Close()
	}

	// The Fyne app and the tray.
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("ultravox-tray.png", assets.AppIcon()))
	var restart []string // set when the app must start again (demo <-> key)
	var restartMu sync.Mutex
	var tray *ui.Tray
	requestRestart := func(args []string) {
		restartMu.Lock()
		restart = args
		restartMu.Unlock()
		tray.Quit()
	}
	exe, _ := os.Executable()
	prefs := ui.Prefs{
		Load: current,
		Save: func(s settings.Settings) error {
			if demo { // the demo's agents are the simulator's, not the account's
				s.DefaultAgentID = current().DefaultAgentID
			}
			ncs := callSettings(s, demo, demoAgent)
			if err := ncs.Validate(); err != nil {
				return err
			}
			if err := store.Save(s); err != nil {
				return err
			}
			setMu.Lock()
			old := cur
			cur = s
			setMu.Unlock()
			if err := mgr.ApplySettings(ncs); err != nil {
				return err
			}
			if audio != nil && voiceCfg(old) != voiceCfg(s) {
				eng, err := voice.NewEngine(voiceCfg(s))
				if err != nil {
					return fmt.Errorf("saved, but the audio devices were not changed: %w", err)
				}
				va.set(eng)
			}
			if s.StartAtLogin && strings.Contains(exe, string(filepath.Separator)+"go-build") {
				return fmt.Errorf("saved, but start at login needs an installed program: this one runs from a temporary `go run` build (%s); build it with `go build ./cmd/ultravox-tray`, start that binary and tick Start at login again", exe)
			}
			if s.StartAtLogin != old.StartAtLogin || (s.StartAtLogin && !settings.AutostartEnabled()) {
				if err := settings.SetAutostart(s.StartAtLogin, exe); err != nil {
					return fmt.Errorf("saved, but start at login: %w", err)
				}
			}
			return nil
		},
		Keys: keyStore{keys},
		CheckKey: func(ctx context.Context, k string) (string, error) {
			c, err := newClient(apiURL, k)
			if err != nil {
				return "", err
			}
			acc, err := c.GetAccount(ctx)
			if err != nil {
				return "", err
			}
			if acc.Name == "" {
				return "(unnamed account)", nil
			}
			return acc.Name, nil
		},
		KeyChanged: func(k string) {
			if demo {
				if k != "" {
					requestRestart(withDemoFlag(args, false)) // leave demo mode with the new key
				}
				return
			}
			if k == "" {
				mgr.SetClient(nil)
				return
			}
			c, err := newClient(apiURL, k)
			if err != nil {
				logger.Warn("new key", "err", err)
				return
			}
			mgr.SetClient(c)
		},
		KeyFromEnv:       src == secrets.SourceEnv,
		EchoCancellation: voice.EchoCancellationBuiltIn,
		Devices: func() ([]string, []string, error) {
			c, p, err := voice.ListDevices()
			var mics, spks []string
			for _, d := range c {
				mics = append(mics, d.Name)
			}
			for _, d := range p {
				spks = append(spks, d.Name)
			}
			return mics, spks, err
		},
	}
	endEverything := func(ctx context.Context) {
		if left := mgr.EndEverything(ctx); len(left) > 0 {
			logger.Error("could not confirm the end of calls", "count", len(left))
		}
	}
	tray, err = ui.NewTray(ui.Config{
		App: a, Manager: mgr, Prefs: prefs, EndEverything: endEverything, // events: see above
		TryDemo: func() { requestRestart(withDemoFlag(args, true)) }, Logger: logger,
	})
	if err != nil {
		return fail(exitError, "%v", err)
	}
	// fyne.io/systray logs "failed to register" when no StatusNotifierWatcher
	// (tray host) exists: tell the user instead of showing nothing.
	// When a tray host appears later, systray registers by itself and the
	// window and the popup (same Key: it replaces the first) say so.
	log.SetOutput(ui.NewTrayLogWatcher(stderr, func() {
		tray.ShowNoTray(func() {
			coal.Push(notify.Notification{Summary: "System tray found", Body: ui.TrayFoundText, Key: "notray"}, "")
		})
		coal.Push(notify.Notification{Summary: "No system tray", Body: ui.NoTrayText, Key: "notray"}, "notray")
	}))
	tray.Start()
	for _, n := range notices {
		coal.Push(n, "")
	}
	logger.Info("ultravox-tray running", "version", version, "demo", demo, "pid", os.Getpid())

	a.Run() // returns after Quit, SIGINT/SIGTERM (Fyne catches both) or the WM's close

	// Whatever ended the loop: end our live calls, bounded, before exiting.
	tray.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), ui.QuitTimeout)
	endEverything(ctx)
	cancel()
	logger.Info("ultravox-tray stopped")

	restartMu.Lock()
	again := restart
	restartMu.Unlock()
	if again != nil {
		coal.Close()
		mgr.Close()
		if sim != nil {
			sim.Close()
		}
		lock.release()
		if exe == "" {
			return fail(exitError, "cannot restart: the program's path is unknown; start it again by hand")
		}
		if err := restartSelf(exe, again); err != nil {
			return fail(exitError, "cannot restart %s: %v", exe, err)
		}
	}
	return exitOK
}
