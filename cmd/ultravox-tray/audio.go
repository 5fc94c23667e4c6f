package main

import (
	"sync"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/voice"
)

// voiceAudio gives the call manager the microphone and speaker through
// app/voice. The engine is replaced when the device settings change; calls
// already open keep theirs.
type voiceAudio struct {
	mu  sync.Mutex
	eng *voice.Engine // guarded by mu
}

// openAudio makes the audio engine for c; nil, nil with --no-audio. Without
// an engine calls still join, in text mode.
func openAudio(off bool, c voice.Config) (*voiceAudio, error) {
	if off {
		return nil, nil
	}
	eng, err := voice.NewEngine(c)
	if err != nil {
		return nil, err
	}
	return &voiceAudio{eng: eng}, nil
}

// forCalls is v as the manager's Audio: a nil interface when there is no
// engine (never a typed nil).
func (v *voiceAudio) forCalls() calls.Audio {
	if v == nil {
		return nil
	}
	return v
}

func (v *voiceAudio) set(e *voice.Engine) {
	v.mu.Lock()
	v.eng = e
	v.mu.Unlock()
}

func (v *voiceAudio) Open(c calls.AudioConfig, up func([]byte)) (calls.AudioSession, error) {
	v.mu.Lock()
	e := v.eng
	v.mu.Unlock()
	s, err := e.Open(voice.Rates(c), up)
	if err != nil {
		return nil, err // never a typed nil
	}
	return s, nil
}

// deviceNames lists the microphones and speakers by name, for Settings.
func deviceNames() (mics, speakers []string, err error) {
	c, p, err := voice.ListDevices()
	for _, d := range c {
		mics = append(mics, d.Name)
	}
	for _, d := range p {
		speakers = append(speakers, d.Name)
	}
	return mics, speakers, err
}
