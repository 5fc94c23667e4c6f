package calls

import (
	"errors"
	"slices"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

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

// openAudio opens the devices for oc; the uplink sends PCM on the socket.
// Without audio (Config.Audio nil, or the devices failed to open: openErr)
// the call goes on in text mode: sendSilence keeps the socket fed, and the
// returned text is shown as the call's AudioError.
func (m *Manager) openAudio(oc *ourCall, sock *ultravox.CallSocket, s Settings) (audioErr string, openErr error) {
	if m.cfg.Audio == nil {
		m.mu.Lock()
		m.startTextModeLocked(oc, sock, s.InputRate)
		m.mu.Unlock()
		return "off (text only): the call bills until you end it", nil
	}
	m.mu.Lock()
	id := shortID(oc.view.ID)
	m.mu.Unlock()
	sess, err := m.cfg.Audio.Open(AudioConfig{InputRate: s.InputRate, OutputRate: s.OutputRate}, m.uplink(sock, id))
	if err != nil {
		m.log.Warn("audio unavailable; the call continues in text mode", "call", id, "err", err)
		m.mu.Lock()
		m.startTextModeLocked(oc, sock, s.InputRate)
		m.mu.Unlock()
		return "no audio (" + audioErrText(err) + "): text mode, still billing; type messages or end the call", err
	}
	m.attachAudio(oc, sock, sess, id)
	return "", nil
}

// uplink is the microphone's path to the call socket. Audio is closed
// beside the socket, not before it (teardownMedia), so frames can still
// come after the socket closed: SendAudio refuses them with
// ErrSocketClosed, and they are dropped.
func (m *Manager) uplink(sock *ultravox.CallSocket, id string) func(pcm []byte) {
	var dropped int
	var lastLog time.Time
	return func(pcm []byte) {
		err := sock.SendAudio(pcm)
		if err == nil || errors.Is(err, ultravox.ErrSocketClosed) {
			return
		}
		dropped++
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			m.log.Warn("microphone audio could not be sent", "call", id, "dropped", dropped, "err", err)
		}
	}
}

// attachAudio gives the opened session to oc, unless the call was ended
// while the devices opened (then the session is closed).
func (m *Manager) attachAudio(oc *ourCall, sock *ultravox.CallSocket, sess AudioSession, id string) {
	m.mu.Lock()
	if oc.sock != sock || oc.endAsked() || m.closed {
		m.mu.Unlock()
		m.closeAudio(sess, id)
		return
	}
	oc.audio = sess
	oc.audioSeq++
	sess.SetMicMuted(oc.view.MicMuted)
	sess.SetSpeakerMuted(oc.view.SpeakerMute)
	if h, ok := sess.(audioHealth); ok {
		m.wg.Add(1)
		go m.watchAudio(oc, oc.audioSeq, h)
	}
	m.mu.Unlock()
}

// textFrame is the length of one frame of silence in text mode: what a
// microphone sends (Audio's contract), ~20 ms chunks as Ultravox asks.
const textFrame = 20 * time.Millisecond

// maxSilenceBurst bounds how many frames one tick of sendSilence sends to
// catch up after a late tick; past it the schedule restarts from now (the
// process was stopped or the machine slept: minutes of silence in a burst
// would only fill the socket's queue).
const maxSilenceBurst = 10

// startTextModeLocked starts sendSilence for oc's socket unless the call is
// ending or it runs already.
func (m *Manager) startTextModeLocked(oc *ourCall, sock *ultravox.CallSocket, rate int) {
	if oc.sock != sock || oc.end.wanted() || m.closed || oc.textStop != nil {
		return
	}
	stop := make(chan struct{})
	oc.textStop = stop
	m.wg.Add(1)
	go m.sendSilence(sock, rate, stop, shortID(oc.view.ID))
}

// sendSilence is the uplink of a call without audio (text mode). Ultravox
// expects one second of audio per second on a serverWebSocket call and ends
// one that sends none for mediaIdleTimeout (connection_error), which would
// make typing useless. So it sends 20 ms frames of silence at the call's
// input rate, paced by wall time: a ticker, with the number of samples due
// computed from the time elapsed, so late ticks do not slow the rate below
// 1.0x. It stops when stop is closed (teardownMedia: the call is ending),
// the socket ends, or the manager closes.
func (m *Manager) sendSilence(sock *ultravox.CallSocket, rate int, stop <-chan struct{}, id string) {
	defer m.wg.Done()
	p := newSilencePacer(rate)
	t := time.NewTicker(textFrame)
	defer t.Stop()
	send := m.silenceSender(sock, p, id)
	p.sent = p.frameSamples // the first frame goes at once: the call is fed from its start
	if !send() {
		return
	}
	for {
		select {
		case <-stop:
			return
		case <-sock.Done():
			return
		case <-m.ctx.Done():
			return
		case now := <-t.C:
			for n := p.framesDue(now); n > 0; n-- {
				if !send() {
					return
				}
			}
		}
	}
}

// silencePacer counts the samples of silence due at the call's input rate
// since start.
type silencePacer struct {
	rate         int64
	frameSamples int64
	start        time.Time
	sent         int64 // samples sent since start
}

func newSilencePacer(rate int) *silencePacer {
	frameSamples := int64(rate) * int64(textFrame) / int64(time.Second)
	return &silencePacer{rate: int64(rate), frameSamples: max(frameSamples, 1), start: time.Now()}
}

// framesDue is how many frames to send at now; far behind (stopped or
// asleep), the schedule restarts with one frame. Each frame is counted as
// sent here.
func (p *silencePacer) framesDue(now time.Time) int {
	due := int64(now.Sub(p.start)) * p.rate / int64(time.Second)
	if due-p.sent > maxSilenceBurst*p.frameSamples {
		p.start, p.sent = now, 0
		due = p.frameSamples
	}
	n := 0
	for p.sent+p.frameSamples <= due {
		p.sent += p.frameSamples
		n++
	}
	return n
}

// silenceSender sends one zero frame (reused: SendAudio copies it) and
// reports false once the socket is closed. A full queue (a slow network)
// loses the frame; the schedule goes on.
func (m *Manager) silenceSender(sock *ultravox.CallSocket, p *silencePacer, id string) func() bool {
	frame := make([]byte, 2*p.frameSamples)
	var dropped int64
	var lastLog time.Time
	return func() bool {
		err := sock.SendAudio(frame)
		switch {
		case err == nil:
		case errors.Is(err, ultravox.ErrSocketClosed):
			return false
		default:
			dropped++
			if time.Since(lastLog) > 5*time.Second {
				lastLog = time.Now()
				m.log.Warn("text-mode silence could not be sent", "call", id, "dropped", dropped, "err", err)
			}
		}
		return true
	}
}

// audioCheckEvery is how often a live call's audio session is asked
// whether its devices still work.
const audioCheckEvery = time.Second

// watchAudio polls h, oc's audio session number seq, while it is open. A
// device lost mid-call does not end the call (the voice layer keeps sending
// silence, so it keeps billing): the call shows why its audio stopped, and
// the user is told once, to type or end it.
func (m *Manager) watchAudio(oc *ourCall, seq int, h audioHealth) {
	defer m.wg.Done()
	t := time.NewTicker(audioCheckEvery)
	defer t.Stop()
	current := func() bool { return oc.audio != nil && oc.audioSeq == seq }
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		still := current()
		m.mu.Unlock()
		if !still {
			return // torn down: the call is ending
		}
		err := h.Err() // outside m.mu: the session takes its own lock
		if err == nil {
			continue
		}
		m.mu.Lock()
		if current() && !oc.end.wanted() {
			why := audioErrText(err)
			m.log.Warn("audio device lost during the call; the call goes on", "call", shortID(oc.view.ID), "err", err)
			oc.view.AudioError = "audio lost during the call: " + why + "; type messages or end the call"
			m.emitLocked(Event{Kind: EventAudioLost, Call: oc.copyView(), Message: msgAudioLost(oc.view, why)})
			m.publishLocked()
		}
		m.mu.Unlock()
		return
	}
}

// audioCloseWait bounds how long Manager.Close waits for audio sessions
// still closing: a little over app/voice's own limit (3 s, after which it
// abandons devices that do not stop), so a slow but working sound system
// releases its devices before the app exits, and a dead one cannot hold the
// exit for long.
const audioCloseWait = 4 * time.Second

// closeAudio closes an audio session on its own goroutine. Until Close
// returns the session may still call its uplink: the uplink sends on the
// call's socket, which is closing or closed by then, so SendAudio refuses
// the frame (ultravox.ErrSocketClosed) and the uplink drops it silently.
// Manager.Close waits for these closes, up to audioCloseWait.
func (m *Manager) closeAudio(a AudioSession, id string) {
	done := make(chan struct{})
	m.mu.Lock()
	m.audioClosing = slices.DeleteFunc(m.audioClosing, func(d chan struct{}) bool {
		select {
		case <-d:
			return true
		default:
			return false
		}
	})
	m.audioClosing = append(m.audioClosing, done)
	m.mu.Unlock()
	go func() {
		defer close(done)
		start := time.Now()
		if err := a.Close(); err != nil {
			m.log.Warn("closing audio failed", "call", id, "err", err, "took", time.Since(start).Round(time.Millisecond))
		}
	}()
}

// waitAudioClosed waits for the audio sessions still closing, up to
// audioCloseWait.
func (m *Manager) waitAudioClosed() {
	m.mu.Lock()
	pending := slices.Clone(m.audioClosing)
	m.audioClosing = nil
	m.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	t := time.NewTimer(audioCloseWait)
	defer t.Stop()
	for _, d := range pending {
		select {
		case <-d:
		case <-t.C:
			m.log.Warn("audio devices are still closing; not waiting for them any longer", "waited", audioCloseWait)
			return
		}
	}
}
