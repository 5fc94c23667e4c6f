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
	eng *voice.Engine
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
