package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/app/voice"
	"github.com/ultravox-tray/ultravox-tray/ui"
	"github.com/ultravox-tray/ultravox-tray/ui/notify"
)

// prefs are the user's settings as the running app applies them: the call
// manager's limits, the audio devices and the autostart entry.
type prefs struct {
	store *settings.Store
	mgr   *calls.Manager
	audio *voiceAudio    // nil when calls have no audio: nothing to swap
	rates calls.Settings // the audio rates the engine was made with
	be    *backend       // demo mode and its agent
	exe   string         // this program, for the autostart entry

	mu  sync.Mutex
	cur settings.Settings // guarded by mu: the settings last saved
}

// loadSettings opens the settings file. A file it cannot use gives defaults
// for what was wrong and a notice; only a missing config directory is fatal.
func loadSettings(n *startNotices) (*settings.Store, settings.Settings, error) {
	path, err := settings.DefaultPath()
	if err != nil {
		return nil, settings.Settings{}, err
	}
	store := settings.NewStore(path)
	s, err := store.Load()
	n.add(err, "settings", notify.Notification{Summary: "Settings problem", Key: "settings"})
	return store, s, nil
}

// current returns the settings in use.
func (p *prefs) current() settings.Settings {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// save validates s, stores it and applies it. Once stored, a failure to
// apply a part says that the settings were saved all the same.
func (p *prefs) save(s settings.Settings) error {
	if p.be.demo { // the demo's agents are the simulator's, not the account's
		s.DefaultAgentID = p.current().DefaultAgentID
	}
	cs := callSettings(s, p.be.demo, p.be.demoAgent)
	if err := cs.Validate(); err != nil {
		return err
	}
	if err := p.store.Save(s); err != nil {
		return err
	}
	p.mu.Lock()
	old := p.cur
	p.cur = s
	p.mu.Unlock()
	if err := p.mgr.ApplySettings(cs); err != nil {
		return err
	}
	if p.audio != nil && voiceConfig(old, p.rates) != voiceConfig(s, p.rates) {
		eng, err := voice.NewEngine(voiceConfig(s, p.rates))
		if err != nil {
			return fmt.Errorf("saved, but the audio devices were not changed: %w", err)
		}
		p.audio.set(eng)
	}
	return p.applyAutostart(old, s)
}

// applyAutostart writes or removes the autostart entry when StartAtLogin
// changed, or rewrites it when it is on but the entry is gone.
func (p *prefs) applyAutostart(old, s settings.Settings) error {
	if s.StartAtLogin && strings.Contains(p.exe, string(filepath.Separator)+"go-build") {
		return fmt.Errorf("saved, but start at login needs an installed program: this one runs from a temporary `go run` build (%s); build it with `go build ./cmd/ultravox-tray`, start that binary and tick Start at login again", p.exe)
	}
	if s.StartAtLogin != old.StartAtLogin || (s.StartAtLogin && !settings.AutostartEnabled()) {
		if err := settings.SetAutostart(s.StartAtLogin, p.exe); err != nil {
			return fmt.Errorf("saved, but start at login: %w", err)
		}
	}
	return nil
}

// forUI is what the Settings window edits and how it applies it.
func (p *prefs) forUI(keys keySource, fromEnv bool, keyChanged func(string)) ui.Prefs {
	return ui.Prefs{
		Load:             p.current,
		Save:             p.save,
		Keys:             keyStore{keys.store},
		CheckKey:         keys.checkKey,
		KeyChanged:       keyChanged,
		KeyFromEnv:       fromEnv,
		EchoCancellation: voice.EchoCancellationBuiltIn,
		Devices:          deviceNames,
	}
}

// callSettings turns the user's settings into the manager's. In demo mode
// the default agent is demoAgent (a simulator agent): a real account's agent
// does not exist in the simulator. ULTRAVOX_AGENT_ID overrides both.
func callSettings(s settings.Settings, demo bool, demoAgent string) calls.Settings {
	cs := calls.DefaultSettings()
	cs.MaxDuration = s.MaxDuration()
	cs.JoinTimeout = s.JoinTimeout()
	cs.PricePerMinute = s.PricePerMinute
	cs.DailyBudget = s.DailyBudget
	cs.DeleteAfterEnd = s.DeleteAfterEnd
	cs.RecordCalls = s.RecordCalls.Map()
	cs.TemplateValues = s.TemplateValues
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
