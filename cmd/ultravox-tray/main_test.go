package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/app/voice"
)

func TestParseFlags(t *testing.T) {
	f, err := parseFlags([]string{"--demo", "--no-audio"}, io.Discard)
	if err != nil || !f.demo || !f.noAudio {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil || !strings.Contains(err.Error(), `unexpected arguments ["extra"]`) {
		t.Errorf("extra args: %v", err)
	}
	if _, err := parseFlags([]string{"--nope"}, io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if code := run([]string{"--bogus"}, io.Discard); code != exitUsage {
		t.Errorf("run with a bad flag exits %d", code)
	}
}

func TestStateDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x/state")
	if d, err := stateDir(); err != nil || d != "/x/state/ultravox-tray" {
		t.Errorf("%s %v", d, err)
	}
	t.Setenv("XDG_STATE_HOME", "relative")
	if _, err := stateDir(); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative XDG_STATE_HOME: %v", err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := stateDir(); d != "/home/u/.local/state/ultravox-tray" {
		t.Errorf("default %s", d)
	}
}

func TestCallSettings(t *testing.T) {
	s := settings.Defaults()
	s.MaxDurationSeconds, s.JoinTimeoutSeconds, s.DailyBudget, s.DefaultAgentID, s.DeleteAfterEnd = 300, 20, 1.5, "real-agent", true
	t.Setenv("ULTRAVOX_AGENT_ID", "")
	cs := callSettings(s, false, "sim-agent")
	if cs.MaxDuration != 300*time.Second || cs.JoinTimeout != 20*time.Second || cs.DailyBudget != 1.5 || cs.DefaultAgentID != "real-agent" || !cs.DeleteAfterEnd || cs.PricePerMinute != 0.05 {
		t.Errorf("%+v", cs)
	}
	if err := cs.Validate(); err != nil {
		t.Error(err)
	}
	if got := callSettings(s, true, "sim-agent").DefaultAgentID; got != "sim-agent" {
		t.Errorf("demo agent %q", got)
	}
	t.Setenv("ULTRAVOX_AGENT_ID", "env-agent")
	if got := callSettings(s, false, "").DefaultAgentID; got != "env-agent" {
		t.Errorf("ULTRAVOX_AGENT_ID ignored: %q", got)
	}
}

func TestSingleInstanceLock(t *testing.T) {
	dir := t.TempDir()
	l, err := acquireLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = acquireLock(dir)
	var running *errAlreadyRunning
	if !errors.As(err, &running) || running.pid <= 0 || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second lock: %v", err)
	}
	l.release()
	l2, err := acquireLock(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.release()
}

func TestWithDemoFlag(t *testing.T) {
	if got := strings.Join(withDemoFlag([]string{"--no-audio"}, true), " "); got != "--no-audio --demo" {
		t.Errorf("on: %q", got)
	}
	if got := strings.Join(withDemoFlag([]string{"-demo", "--no-audio", "--demo"}, false), " "); got != "--no-audio" {
		t.Errorf("off: %q", got)
	}
	if got := withDemoFlag(nil, false); got == nil || len(got) != 0 {
		t.Errorf("empty: %#v (nil would mean no restart)", got)
	}
}

func TestVoiceConfig(t *testing.T) {
	t.Setenv("ULTRAVOX_AGENT_ID", "")
	s := settings.Defaults()
	s.MicrophoneDevice, s.SpeakerDevice = "USB mic", "Speakers"
	cs := callSettings(s, false, "")
	c := voiceConfig(s, cs)
	if c.Echo != voice.EchoGate || c.Headset || c.CaptureDevice != "USB mic" || c.PlaybackDevice != "Speakers" || c.InputRate != cs.InputRate || c.OutputRate != cs.OutputRate {
		t.Errorf("default %+v", c)
	}
	s.EchoCancellation = true
	c = voiceConfig(s, cs)
	want := voice.EchoGate
	if voice.EchoCancellationBuiltIn {
		want = voice.EchoCancel
	}
	if c.Echo != want {
		t.Errorf("echo cancellation asked for (built in: %v): %v", voice.EchoCancellationBuiltIn, c.Echo)
	}
	// A changed choice is a changed engine configuration (Save rebuilds it).
	if voice.EchoCancellationBuiltIn && voiceConfig(s, cs) == voiceConfig(settings.Defaults(), cs) {
		t.Error("the echo setting does not change the engine's configuration")
	}
	// With a headset there is nothing to cancel.
	s.Headset = true
	if c = voiceConfig(s, cs); c.Echo != voice.EchoGate || !c.Headset {
		t.Errorf("headset %+v", c)
	}
}
