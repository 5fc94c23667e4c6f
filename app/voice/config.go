// Package voice is the call's microphone and speaker: capture and playback
// through miniaudio (github.com/gen2brain/malgo), 20 ms framing paced at one
// second of audio per second, a playback FIFO with prebuffering and instant
// clearing (barge-in), and echo control (half-duplex gating, or acoustic echo
// cancellation with libspeexdsp, opt-in).
//
// The package implements the call manager's calls.Audio / calls.AudioSession
// contract structurally without importing app/calls; cmd wires it:
//
//	type voiceAudio struct{ e *voice.Engine }
//
//	func (v voiceAudio) Open(c calls.AudioConfig, up func([]byte)) (calls.AudioSession, error) {
//		s, err := v.e.Open(voice.Rates(c), up)
//		if err != nil {
//			return nil, err // never a typed nil
//		}
//		return s, nil
//	}
package voice

import (
	"errors"
	"fmt"
	"time"
)

// Rate limits accepted for either direction (the settings allow the same).
const (
	MinRate = 8000
	MaxRate = 48000
)

// Defaults for a zero Config field.
const (
	DefaultRate          = 16000
	DefaultFrameDuration = 20 * time.Millisecond
	DefaultPrebufferMs   = 60
	DefaultGateHangover  = 300 * time.Millisecond
	DefaultQueueFrames   = 10
	// DefaultSpeakerBufferMs is the speaker device's period. Audio handed
	// to the device cannot be recalled by ClearPlayback, so it bounds
	// barge-in latency (measured through PulseAudio: 13 ms at 10, 23 ms at
	// 20, 30-67 ms at 40). 20 ms is one frame period; 10 ms underran on a
	// loaded 2-core machine.
	DefaultSpeakerBufferMs = 20
	// DefaultCancelSpeakerBufferMs is the default with EchoCancel: every
	// underrun moves the echo path under the canceller, and at 10-20 ms it
	// moved every few seconds on a loaded machine; at 40 ms it held.
	DefaultCancelSpeakerBufferMs = 40
	// DefaultGateAttenuation is the gain applied to the microphone while the
	// agent is audible (-40 dB): far below any voice-activity threshold, but
	// not a hard mute.
	DefaultGateAttenuation = 0.01
)

// EchoCancellationBuiltIn reports whether this build has libspeexdsp's echo
// canceller (it does unless built with -tags nospeex); without it EchoCancel
// gates.
const EchoCancellationBuiltIn = speexAvailable

// Rates are the sample rates a call was created with. Its fields match
// calls.AudioConfig, so cmd converts with voice.Rates(cfg).
type Rates struct {
	InputRate  int // mic -> server, Hz
	OutputRate int // server -> speaker, Hz
}

// EchoMode says how the session keeps the agent from hearing itself.
type EchoMode int

const (
	// EchoGate (the default) is half-duplex gating: while the agent is
	// audible, plus GateHangover, the microphone is attenuated by
	// GateAttenuation. The user cannot interrupt by voice.
	EchoGate EchoMode = iota
	// EchoCancel runs libspeexdsp's echo canceller (when both rates are
	// equal; otherwise it gates) so the user can talk over the agent. The
	// microphone stays gated until the canceller has found the echo delay
	// and removes at least 18 dB, and again whenever that stops holding.
	// Opt-in: it needs an echo path that holds still, and on a loaded
	// machine a sound server that underruns moves it every few seconds.
	EchoCancel
)

func (m EchoMode) String() string {
	switch m {
	case EchoGate:
		return "gate"
	case EchoCancel:
		return "cancel"
	default:
		return fmt.Sprintf("EchoMode(%d)", int(m))
	}
}

// Config is the voice settings. The zero value means all defaults.
type Config struct {
	// InputRate and OutputRate are the rates to ask Ultravox for when a call
	// is created (default 16000). Open uses the call's own rates.
	InputRate, OutputRate int

	// CaptureDevice and PlaybackDevice are device names as ListDevices
	// reports them; "" is the system default.
	CaptureDevice, PlaybackDevice string

	// Headset turns echo control off: the microphone cannot hear the
	// speaker, so the user can interrupt the agent at any time.
	Headset bool
	// Echo chooses the echo control when Headset is false.
	Echo EchoMode

	// FrameDuration is the uplink frame length (default 20 ms).
	FrameDuration time.Duration
	// PrebufferMs is the most agent audio queued before playback starts,
	// and again after an underrun (default 60, 10..500): the prebuffer
	// starts at 20 ms (or this, when smaller) and doubles up to it after
	// each underrun mid-speech.
	PrebufferMs int
	// GateHangover is how long the microphone stays gated after the last
	// audible agent sample (default 300 ms).
	GateHangover time.Duration
	// GateAttenuation is the microphone gain while gated, 0 (silence) to
	// below 1 (default 0.01, -40 dB).
	GateAttenuation float64
	// SpeakerBufferMs is the speaker device's buffer period (default 20,
	// or 40 with EchoCancel; 10..200): smaller cuts barge-in latency,
	// larger resists underruns.
	SpeakerBufferMs int
	// QueueFrames bounds the capture queue (default 10 frames, 200 ms at
	// 20 ms). When it is full the oldest audio is dropped and counted.
	QueueFrames int
}

// withDefaults fills zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.InputRate == 0 {
		c.InputRate = DefaultRate
	}
	if c.OutputRate == 0 {
		c.OutputRate = DefaultRate
	}
	if c.FrameDuration == 0 {
		c.FrameDuration = DefaultFrameDuration
	}
	if c.PrebufferMs == 0 {
		c.PrebufferMs = DefaultPrebufferMs
	}
	if c.GateHangover == 0 {
		c.GateHangover = DefaultGateHangover
	}
	if c.GateAttenuation == 0 {
		c.GateAttenuation = DefaultGateAttenuation
	}
	if c.QueueFrames == 0 {
		c.QueueFrames = DefaultQueueFrames
	}
	if c.SpeakerBufferMs == 0 {
		c.SpeakerBufferMs = DefaultSpeakerBufferMs
		if c.Echo == EchoCancel && !c.Headset {
			c.SpeakerBufferMs = DefaultCancelSpeakerBufferMs
		}
	}
	var errs []error
	if err := checkRates(Rates{c.InputRate, c.OutputRate}); err != nil {
		errs = append(errs, err)
	}
	if c.FrameDuration < 10*time.Millisecond || c.FrameDuration > 100*time.Millisecond ||
		c.FrameDuration%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("voice: frame duration must be whole milliseconds from 10 ms to 100 ms, got %v", c.FrameDuration))
	}
	if c.PrebufferMs < 10 || c.PrebufferMs > 500 {
		errs = append(errs, fmt.Errorf("voice: playback prebuffer must be 10..500 ms, got %d ms", c.PrebufferMs))
	}
	if c.GateHangover < 0 || c.GateHangover > 5*time.Second {
		errs = append(errs, fmt.Errorf("voice: gate hangover must be 0..5s, got %v", c.GateHangover))
	}
	if c.GateAttenuation < 0 || c.GateAttenuation >= 1 {
		errs = append(errs, fmt.Errorf("voice: gate attenuation must be a gain from 0 to below 1, got %g", c.GateAttenuation))
	}
	if c.QueueFrames < 3 || c.QueueFrames > 500 {
		errs = append(errs, fmt.Errorf("voice: capture queue must hold 3..500 frames, got %d", c.QueueFrames))
	}
	if c.SpeakerBufferMs < 10 || c.SpeakerBufferMs > 200 {
		errs = append(errs, fmt.Errorf("voice: speaker buffer must be 10..200 ms, got %d ms", c.SpeakerBufferMs))
	}
	if c.Echo < EchoGate || c.Echo > EchoCancel {
		errs = append(errs, fmt.Errorf("voice: unknown echo mode %d", int(c.Echo)))
	}
	return c, errors.Join(errs...)
}

func checkRates(r Rates) error {
	var errs []error
	if r.InputRate < MinRate || r.InputRate > MaxRate {
		errs = append(errs, fmt.Errorf("voice: input sample rate must be %d..%d Hz, got %d", MinRate, MaxRate, r.InputRate))
	}
	if r.OutputRate < MinRate || r.OutputRate > MaxRate {
		errs = append(errs, fmt.Errorf("voice: output sample rate must be %d..%d Hz, got %d", MinRate, MaxRate, r.OutputRate))
	}
	return errors.Join(errs...)
}

// samplesPer returns how many samples at rate fill d, or an error when d is
// not a whole number of samples (a 20 ms frame at 44100 Hz is 882 samples;
// at 22050 Hz, 441).
func samplesPer(rate int, d time.Duration) (int, error) {
	num := int64(rate) * int64(d)
	if num%int64(time.Second) != 0 {
		return 0, fmt.Errorf("voice: %v at %d Hz is not a whole number of samples", d, rate)
	}
	return int(num / int64(time.Second)), nil
}
