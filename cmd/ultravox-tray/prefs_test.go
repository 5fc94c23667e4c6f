package main

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/app/voice"
)

// The Settings window's Save (prefs.save, what ui.Prefs.Save is wired to):
// every field reaches the file as saved, the limits reach the manager, and
// new devices replace the audio engine that new calls use, while an
// unchanged device setting keeps it.
func TestPrefsSaveReachesFileManagerAndAudio(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("ULTRAVOX_AGENT_ID", "")
	be := &backend{}
	saved := settings.Defaults()
	cs := callSettings(saved, false, "")
	mgr, err := calls.New(calls.Config{StateDir: t.TempDir(), Settings: cs, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	eng, err := voice.NewEngine(voiceConfig(saved, cs))
	if err != nil {
		t.Fatal(err)
	}
	audio := &voiceAudio{eng: eng}
	store := settings.NewStore(filepath.Join(cfg, "ultravox-tray", "settings.json"))
	p := &prefs{store: store, mgr: mgr, audio: audio, rates: cs, be: be, exe: "/usr/bin/ultravox-tray", cur: saved}

	s := saved
	s.DefaultAgentID, s.MaxDurationSeconds, s.JoinTimeoutSeconds = "agent-7", 600, 30
	s.PricePerMinute, s.DailyBudget, s.EndCallsOnLock, s.DeleteAfterEnd = 0.07, 2.5, false, true
	s.MicrophoneDevice, s.SpeakerDevice, s.Headset = "USB mic", "USB speaker", true
	if err := p.save(s); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Load(); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("file holds %+v (%v)\nwant %+v", got, err, s)
	}
	ms := mgr.Settings()
	if ms.DefaultAgentID != "agent-7" || ms.MaxDuration.Seconds() != 600 || ms.JoinTimeout.Seconds() != 30 ||
		ms.PricePerMinute != 0.07 || ms.DailyBudget != 2.5 || !ms.DeleteAfterEnd {
		t.Errorf("manager has %+v", ms)
	}
	if !reflect.DeepEqual(p.current(), s) {
		t.Errorf("current %+v", p.current())
	}
	audio.mu.Lock()
	got := audio.eng
	audio.mu.Unlock()
	if got == eng || got.Config().CaptureDevice != "USB mic" || got.Config().PlaybackDevice != "USB speaker" || !got.Config().Headset {
		t.Errorf("audio engine not replaced with the new devices: %+v", got.Config())
	}
	// Only the budget changes: the engine (and open calls' audio) stays.
	s.DailyBudget = 3
	if err := p.save(s); err != nil {
		t.Fatal(err)
	}
	audio.mu.Lock()
	same := audio.eng == got
	audio.mu.Unlock()
	if !same {
		t.Error("the audio engine was replaced though no device setting changed")
	}
}
