package calls

// Audio is what the manager needs from the voice layer (app/voice). The
// manager owns the call socket; the voice layer owns the devices. Tests use an
// in-memory implementation; the binary wires app/voice.
type Audio interface {
	// Open starts capture and playback for one call. Captured audio is
	// delivered to uplink as 20 ms frames of signed 16-bit little-endian mono
	// PCM at cfg.InputRate, one second of audio per second, silence while
	// muted. uplink must not block for long; it is called from one goroutine.
	Open(cfg AudioConfig, uplink func(pcm []byte)) (AudioSession, error)
}

// AudioConfig are the rates the call was created with (Ultravox resamples
// nothing for us; the devices are opened at these rates).
type AudioConfig struct {
	InputRate  int // mic -> server, Hz
	OutputRate int // server -> speaker, Hz
}

// AudioSession is one open pair of devices for one call.
type AudioSession interface {
	// Play queues agent audio (s16le mono at OutputRate) for playback.
	Play(pcm []byte)
	// ClearPlayback drops all unplayed agent audio at once (barge-in).
	ClearPlayback()
	SetMicMuted(muted bool)
	SetSpeakerMuted(muted bool)
	// Close stops both devices; no uplink call happens after it returns.
	// The manager calls it on its own goroutine while it hangs up and closes
	// the call's socket, and never waits for it to end a call: uplink calls
	// made meanwhile are dropped (the socket refuses them once closed).
	Close() error
}

// audioHealth is optional for an AudioSession (app/voice's Session has it):
// the manager polls it about once a second while the call is live and, the
// first time it reports an error, shows it as CallView.AudioError and emits
// EventAudioLost. Err reports a device that stopped during the call
// (unplugged, the sound server gone), nil while both work.
type audioHealth interface {
	Err() error
}
