package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/secrets"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// noKeychain points the keychain at a bus that does not exist, so that
// every read fails at once whatever the machine has.
func noKeychain(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	t.Setenv(secrets.EnvKey, "")
	t.Setenv("ULTRAVOX_API_URL", "")
}

func TestKeyAtStart(t *testing.T) {
	noKeychain(t)
	t.Setenv(secrets.EnvKey, "abc.DEF123")
	k, err := newKeySource(quietLog()).atStart(false)
	if err != nil || k.key != "abc.DEF123" || !k.fromEnv || k.demo || k.problem != nil {
		t.Errorf("env key: %+v %v", k, err)
	}
	// Once read, the key is out of the environment: no child inherits it.
	if v, ok := os.LookupEnv(secrets.EnvKey); ok {
		t.Errorf("%s still set after reading it: %d chars", secrets.EnvKey, len(v))
	}
	// --demo with the variable set still reads it (and says it is there).
	t.Setenv(secrets.EnvKey, "abc.DEF123")
	if k, err := newKeySource(quietLog()).atStart(true); err != nil || !k.demo || !k.fromEnv {
		t.Errorf("env key with --demo: %+v %v", k, err)
	}

	t.Setenv(secrets.EnvKey, "two words")
	_, err = newKeySource(quietLog()).atStart(false)
	if !errors.Is(err, secrets.ErrInvalidKey) || exitCode(err) != exitUsage {
		t.Errorf("malformed env key: %v (exit %d)", err, exitCode(err))
	}

	// No key anywhere: the keychain's failure is a problem to show, and the
	// app runs the demo unless ULTRAVOX_API_URL names a server.
	t.Setenv(secrets.EnvKey, "")
	k, err = newKeySource(quietLog()).atStart(false)
	if err != nil || k.key != "" || !k.demo || k.problem == nil || k.fromEnv {
		t.Errorf("no key: %+v %v", k, err)
	}
	t.Setenv("ULTRAVOX_API_URL", "http://127.0.0.1:1")
	if k, err = newKeySource(quietLog()).atStart(false); err != nil || k.demo {
		t.Errorf("no key with ULTRAVOX_API_URL: %+v %v", k, err)
	}
	// --demo leaves the keychain alone: nothing to report.
	if k, err = newKeySource(quietLog()).atStart(true); err != nil || !k.demo || k.problem != nil {
		t.Errorf("--demo: %+v %v", k, err)
	}
}

func TestOpenBackend(t *testing.T) {
	noKeychain(t)
	dir := t.TempDir()
	keys := newKeySource(quietLog())
	b, err := openBackend(startKey{demo: true}, keys, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if b.client == nil || b.sim == nil || b.stateDir != filepath.Join(dir, "demo") || b.demoAgent == "" {
		t.Errorf("demo backend %+v", b)
	}
	b.close()
	b.close() // twice is harmless (the restart closes it before the deferred close)

	// An account with no key yet: no client, the account's journal.
	if b, err := openBackend(startKey{}, keys, dir); err != nil || b.client != nil || b.stateDir != dir || b.sim != nil {
		t.Errorf("no key: %+v %v", b, err)
	}
	// A server URL the client refuses is a usage error, as before.
	keys.apiURL = "http://example.com"
	_, err = openBackend(startKey{key: "abc.DEF123"}, keys, dir)
	if err == nil || exitCode(err) != exitUsage {
		t.Errorf("plain http to a remote host: %v (exit %d)", err, exitCode(err))
	}
}

func TestDemoAgent(t *testing.T) {
	agents := simulator.New(simulator.DefaultOptions()).Agents()
	if len(agents) < 2 {
		t.Fatalf("the simulator seeds %d agents", len(agents))
	}
	var support string
	for _, a := range agents {
		if a.Name == "Support agent" {
			support = a.AgentID
		}
	}
	if got := demoAgent(agents); support == "" || got != support {
		t.Errorf("demo agent %q, want the support agent %q", got, support)
	}
	others := []simulator.Agent{{AgentID: "a1", Name: "Sales agent"}, {AgentID: "a2", Name: "Other"}}
	if got := demoAgent(others); got != "a1" {
		t.Errorf("without a support agent: %q, want the first", got)
	}
	if got := demoAgent(nil); got != "" {
		t.Errorf("no agents: %q", got)
	}
}

func TestRestart(t *testing.T) {
	quits := 0
	r := &restart{args: []string{"--no-audio"}, quit: func() { quits++ }}
	if r.pending() != nil {
		t.Fatal("a restart is pending before any request")
	}
	r.enterDemo()
	if got := strings.Join(r.pending(), " "); got != "--no-audio --demo" || quits != 1 {
		t.Errorf("enter demo: %q, %d quits", got, quits)
	}
	r.leaveDemo()
	if got := r.pending(); got == nil || strings.Join(got, " ") != "--no-audio" || quits != 2 {
		t.Errorf("leave demo: %q, %d quits", got, quits)
	}
	released := 0
	err := r.exec("", r.pending(), func() { released++ }, func() { released++ })
	if err == nil || !strings.Contains(err.Error(), "start it again by hand") || released != 2 || exitCode(err) != exitError {
		t.Errorf("exec without a path: %v, %d released", err, released)
	}
}

func TestPrefsSave(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("ULTRAVOX_AGENT_ID", "")
	be := &backend{demo: true, demoAgent: "sim-agent"}
	saved := settings.Defaults()
	saved.DefaultAgentID = "account-agent"
	cs := callSettings(saved, be.demo, be.demoAgent)
	mgr, err := calls.New(calls.Config{StateDir: t.TempDir(), Settings: cs, Demo: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	store := settings.NewStore(filepath.Join(cfg, "ultravox-tray", "settings.json"))
	p := &prefs{store: store, mgr: mgr, rates: cs, be: be, exe: "/usr/bin/ultravox-tray", cur: saved}

	// Refused settings are neither stored nor applied.
	bad := saved
	bad.MaxDurationSeconds = 1
	if err := p.save(bad); err == nil || p.current().MaxDurationSeconds != saved.MaxDurationSeconds {
		t.Fatalf("invalid settings: %v, now %+v", err, p.current())
	}
	// In the demo the account's agent is kept; the limits reach the manager.
	s := saved
	s.MaxDurationSeconds, s.DefaultAgentID = 120, "picked-in-demo"
	if err := p.save(s); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Load(); got.MaxDurationSeconds != 120 || got.DefaultAgentID != "account-agent" {
		t.Errorf("stored %+v", got)
	}
	if ms := mgr.Settings(); ms.MaxDuration.Seconds() != 120 || ms.DefaultAgentID != "sim-agent" {
		t.Errorf("manager %+v", ms)
	}
	// Start at login writes the autostart entry for the installed program,
	// and refuses a temporary `go run` build.
	s.StartAtLogin = true
	if err := p.save(s); err != nil || !settings.AutostartEnabled() {
		t.Fatalf("start at login: %v, entry %v", err, settings.AutostartEnabled())
	}
	p.exe = filepath.Join(t.TempDir(), "go-build123", "exe", "ultravox-tray")
	if err := p.save(s); err == nil || !strings.Contains(err.Error(), "saved, but start at login needs an installed program") {
		t.Errorf("go run build: %v", err)
	}
	s.StartAtLogin = false
	p.exe = "/usr/bin/ultravox-tray"
	if err := p.save(s); err != nil || settings.AutostartEnabled() {
		t.Errorf("start at login off: %v, entry %v", err, settings.AutostartEnabled())
	}
}
