package voice

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// Errors Open and ListDevices wrap, so callers can tell the user which part
// is missing (errors.Is).
var (
	// ErrNoAudioSystem: no audio backend could be started (no PulseAudio,
	// no ALSA, ...).
	ErrNoAudioSystem = errors.New("no audio system")
	// ErrNoMicrophone: the capture device could not be opened.
	ErrNoMicrophone = errors.New("no microphone")
	// ErrNoSpeaker: the playback device could not be opened.
	ErrNoSpeaker = errors.New("no speaker")
)

// backends is the explicit list handed to miniaudio. Without a list it
// silently falls back to its null backend, which "works" with no device at
// all; with it, a machine with no audio reports so. Backends a platform does
// not have are skipped.
var backends = []malgo.Backend{
	malgo.BackendWasapi,
	malgo.BackendCoreaudio,
	malgo.BackendPulseaudio,
	malgo.BackendAlsa,
}

// The microphone's device period (miniaudio asks PulseAudio for one period
// of buffering). The speaker's is Config.SpeakerBufferMs.
const (
	devicePeriodMs = 10
	devicePeriods  = 3
)

// maxPlaybackSeconds bounds the playback FIFO. Ultravox sends agent audio
// ahead of real time up to the call's clientBufferSizeMs (30 s recommended).
const maxPlaybackSeconds = 60

// Engine opens audio sessions for calls. It is safe for concurrent use.
type Engine struct {
	cfg Config
}

// NewEngine validates cfg (zero fields take defaults).
func NewEngine(cfg Config) (*Engine, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: c}, nil
}

// Config returns the engine's settings with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Rates returns the rates to create calls with (the Config's).
func (e *Engine) Rates() Rates { return Rates{e.cfg.InputRate, e.cfg.OutputRate} }

// Stats are a session's counters.
type Stats struct {
	Echo    string // "gate", "cancel" or "off" (headset)
	EchoWhy string // why EchoCancel was asked for but gating is used

	FramesSent     int64 // frames handed to uplink
	SilenceFrames  int64 // sent as silence because no captured frame was ready
	MutedFrames    int64 // sent as silence because the mic was muted
	GatedFrames    int64 // attenuated because the agent was audible
	CapturedFrames int64 // whole frames the capture callback queued
	DroppedFrames  int64 // oldest frames dropped because the queue was full
	TrimmedFrames  int64 // oldest frames dropped to keep capture latency short
	LostSamples    int64 // captured samples with nowhere to go (should stay 0)
	SkippedFrames  int64 // frames never sent because the sender was stalled > 1 s

	MicSamples     int64 // samples the microphone delivered
	SpeakerSamples int64 // samples the speaker consumed (agent audio or silence)
	PlayedSamples  int64 // agent samples played
	PlaybackDrops  int64 // agent samples dropped because the FIFO was full
	Starved        int64 // times playback ran dry and went back to prebuffering
	Underruns      int64 // of those, times it ran dry mid-speech (audio came back soon)
	PrebufferMs    int   // the prebuffer now (it grows after underruns)
	Clears         int64 // ClearPlayback calls that dropped audio

	// EchoRemovedDB is, with echo cancellation, how much quieter the
	// microphone got through the canceller while the agent was audible
	// (includes the user's own speech when both talked); 0 otherwise.
	EchoRemovedDB float64
	// EchoConverged: the canceller currently removes enough echo that the
	// microphone is not gated. EchoRepairs: times the echo delay was
	// (re)measured and the filter restarted.
	EchoConverged  bool
	EchoRepairs    int64
	QueuedPlayback int // agent samples waiting now
}

// Session is one call's open microphone and speaker. It satisfies
// calls.AudioSession.
type Session struct {
	cfg      Config
	rates    Rates
	frameLen int // samples per uplink frame
	uplink   func([]byte)
	epoch    time.Time

	ctx       *malgo.AllocatedContext
	capture   *malgo.Device
	playback  *malgo.Device
	aec       *aecPath
	deviceIDs []unsafe.Pointer // C memory for named devices, freed on Close

	q    *frameQueue
	fifo *playFIFO

	micMuted    atomic.Bool
	spkMuted    atomic.Bool
	lastAudible atomic.Int64 // ns since epoch of the last audible agent sample; 0 never
	echoMode    string
	echoWhy     string // why cancellation was asked for but not used

	sent, silence, muted, gated, trimmed, skipped atomic.Int64
	micSamples, spkSamples                        atomic.Int64

	closing  atomic.Bool
	stop     chan struct{}
	done     chan struct{}
	estDone  chan struct{} // the echo delay estimator, when cancelling
	closeMu  sync.Mutex
	closed   bool
	deviceMu sync.Mutex
	devErr   error
}

// Open starts capture and playback at the call's rates (miniaudio resamples
// to and from the devices). Captured audio goes to uplink as FrameDuration
// frames of s16le mono PCM, one second of audio per second, from one
// goroutine; uplink may keep the slice. Zero rates take the Config's.
func (e *Engine) Open(r Rates, uplink func(pcm []byte)) (*Session, error) {
	if uplink == nil {
		return nil, errors.New("voice: Open needs an uplink function")
	}
	if r.InputRate == 0 {
		r.InputRate = e.cfg.InputRate
	}
	if r.OutputRate == 0 {
		r.OutputRate = e.cfg.OutputRate
	}
	if err := checkRates(r); err != nil {
		return nil, err
	}
	frameLen, err := samplesPer(r.InputRate, e.cfg.FrameDuration)
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg:      e.cfg,
		rates:    r,
		frameLen: frameLen,
		uplink:   uplink,
		epoch:    time.Now(),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		echoMode: "gate",
	}
	s.chooseEcho()
	ceiling := r.OutputRate * e.cfg.PrebufferMs / 1000
	s.q = newFrameQueue(e.cfg.QueueFrames, frameLen, s.now)
	s.fifo = newPlayFIFO(r.OutputRate*startPrebufferMs/1000, ceiling, r.OutputRate*maxPlaybackSeconds, r.OutputRate)

	if s.ctx, err = initContext(); err != nil {
		s.release() // the canceller, if any
		return nil, err
	}
	if err := s.openDevices(); err != nil {
		s.release()
		return nil, err
	}
	go s.send()
	if s.aec != nil {
		s.estDone = make(chan struct{})
		go s.aec.estimate(s.stop, s.estDone)
	}
	return s, nil
}

func (s *Session) now() int64 { return int64(time.Since(s.epoch)) }

// onStop runs when miniaudio stops a device: on Close, or because the device
// went away (unplugged, sound server gone).
func (s *Session) onStop() {
	if s.closing.Load() {
		return
	}
	s.deviceMu.Lock()
	if s.devErr == nil {
		s.devErr = errors.New("voice: an audio device stopped during the call (unplugged, or the sound server went away)")
	}
	s.deviceMu.Unlock()
}

// Err reports a device that stopped during the call, or nil.
func (s *Session) Err() error {
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	return s.devErr
}

// play is the playback device callback.
func (s *Session) play(out []byte) {
	peak := s.fifo.read(out, s.spkMuted.Load())
	if s.aec != nil {
		s.aec.playedOut(out)
	}
	if peak >= audibleThreshold {
		s.lastAudible.Store(s.now())
	}
	s.spkSamples.Add(int64(len(out) / 2)) // last: see the capture callback
}

// Play queues agent audio (s16le mono at the output rate).
func (s *Session) Play(pcm []byte) { s.fifo.write(pcm) }

// ClearPlayback drops all unplayed agent audio at once (barge-in).
func (s *Session) ClearPlayback() { s.fifo.clear() }

// SetMicMuted sends silence instead of the microphone (the stream goes on).
func (s *Session) SetMicMuted(muted bool) { s.micMuted.Store(muted) }

// SetSpeakerMuted plays silence instead of the agent (its audio is still
// consumed, so unmuting does not replay the past).
func (s *Session) SetSpeakerMuted(muted bool) { s.spkMuted.Store(muted) }

// Rates returns the rates the session runs at.
func (s *Session) Rates() Rates { return s.rates }

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	f := s.fifo
	f.mu.Lock()
	st := Stats{
		PlayedSamples:  f.played,
		PlaybackDrops:  f.dropped,
		Starved:        f.starved,
		Underruns:      f.underrun,
		PrebufferMs:    f.prebuf * 1000 / max(s.rates.OutputRate, 1),
		Clears:         f.cleared,
		QueuedPlayback: f.n,
	}
	f.mu.Unlock()
	st.Echo, st.EchoWhy = s.echoMode, s.echoWhy
	st.FramesSent = s.sent.Load()
	st.SilenceFrames = s.silence.Load()
	st.MutedFrames = s.muted.Load()
	st.GatedFrames = s.gated.Load()
	st.CapturedFrames = s.q.frames.Load()
	st.DroppedFrames = s.q.dropped.Load()
	st.TrimmedFrames = s.trimmed.Load()
	st.LostSamples = s.q.lost.Load()
	st.SkippedFrames = s.skipped.Load()
	st.MicSamples = s.micSamples.Load()
	if a := s.aec; a != nil {
		if in, out := a.echoIn.Load(), a.echoOut.Load(); in > 0 {
			st.EchoRemovedDB = 10 * math.Log10(float64(in)/float64(max(out, 1)))
		}
		st.EchoConverged = a.converged.Load()
		st.EchoRepairs = a.changes.Load()
	}
	st.SpeakerSamples = s.spkSamples.Load()
	return st
}

// closeTimeout bounds how long Close waits for the devices to stop.
const closeTimeout = 3 * time.Second

// Close stops the sender and both devices and frees them. No uplink call
// happens after it returns. It is safe to call more than once.
//
// Close returns within closeTimeout (plus one frame) even when the devices
// do not stop: miniaudio's PulseAudio backend waits forever to stop a
// stream once the sound server has died. The devices are then abandoned
// (their memory is not freed; a goroutine stays blocked in
// releaseAbandonable) and Close says so, so that ending a call never
// hangs behind the sound card.
func (s *Session) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.stop)
	<-s.done
	if s.estDone != nil {
		<-s.estDone
	}
	released := make(chan struct{})
	go s.releaseAbandonable(released)
	select {
	case <-released:
		return nil
	case <-time.After(closeTimeout):
		return fmt.Errorf("voice: the audio devices did not stop within %v (the sound server is gone?); they were abandoned", closeTimeout)
	}
}

// releaseAbandonable is release on its own goroutine, so Close can give up
// on it.
func (s *Session) releaseAbandonable(done chan<- struct{}) {
	s.release()
	close(done)
}

// release uninitializes the devices and the context.
func (s *Session) release() {
	s.closing.Store(true)
	if s.capture != nil {
		s.capture.Uninit()
		s.capture = nil
	}
	if s.playback != nil {
		s.playback.Uninit()
		s.playback = nil
	}
	// The devices are stopped (Uninit waits for their threads); these loads
	// pair with each callback's last atomic add, for the race detector.
	s.micSamples.Load()
	s.spkSamples.Load()
	if s.aec != nil {
		s.aec.c.close() // s.aec itself stays: Stats may still read it
	}
	if s.ctx != nil {
		freeContext(s.ctx)
		s.ctx = nil
	}
	for _, p := range s.deviceIDs {
		cfree(p)
	}
	s.deviceIDs = nil
}
