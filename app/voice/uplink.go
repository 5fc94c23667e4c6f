package voice

import (
	"fmt"
	"time"
)

// send is the uplink goroutine. Wall time decides how many frames are due
// (one per FrameDuration since the start): on each tick it sends what is
// due, captured audio or silence, so the wire carries one second of audio
// per second whatever the ticker's jitter or the microphone's state. A
// captured frame that arrives between ticks goes out at once if that keeps
// the stream at most one frame ahead of wall time, so capture latency does
// not include waiting for the next tick.
func (s *Session) send() {
	defer close(s.done)
	fd := s.cfg.FrameDuration
	frame := make([]int16, s.frameLen)
	ticker := time.NewTicker(fd)
	defer ticker.Stop()
	start := time.Now()
	var sent int64
	var w watchdog
	for {
		tick := false
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			tick = true
		case <-s.q.ready:
		}
		due := int64(time.Since(start) / fd)
		if behind := due - sent; behind > int64(time.Second/fd) {
			// The process was stalled (suspended, debugger): do not burst a
			// backlog of stale audio; keep only the last frame.
			s.skipped.Add(behind - 1)
			sent = due - 1
		}
		if !tick {
			// Early: only real audio, and at most one frame ahead.
			for sent <= due && s.q.backlog() > 0 {
				s.uplink(s.nextFrame(frame))
				s.sent.Add(1)
				sent++
			}
			continue
		}
		s.watch(&w)
		for ; sent < due; sent++ {
			s.uplink(s.nextFrame(frame))
			s.sent.Add(1)
		}
	}
}

// stallAfter is how long a device that has started may deliver nothing
// before Err reports it (miniaudio does not always call the stop callback:
// not when PulseAudio goes away).
const stallAfter = 3 * time.Second

// watchdog is the sender's view of the devices' progress.
type watchdog struct {
	mic, spk         int64
	micAt, spkAt     time.Time
	reportedStallErr bool
}

// watch records a device stall as the session's error.
func (s *Session) watch(w *watchdog) {
	now := time.Now()
	check := func(n int64, last *int64, at *time.Time, what string) {
		if n != *last || n == 0 { // moving, or not started yet
			*last, *at = n, now
			return
		}
		if now.Sub(*at) > stallAfter && !w.reportedStallErr {
			w.reportedStallErr = true
			s.deviceMu.Lock()
			if s.devErr == nil {
				s.devErr = fmt.Errorf("voice: the %s has delivered nothing for %v (unplugged, or the sound server went away); the call goes on sending silence", what, stallAfter)
			}
			s.deviceMu.Unlock()
		}
	}
	check(s.micSamples.Load(), &w.mic, &w.micAt, "microphone")
	check(s.spkSamples.Load(), &w.spk, &w.spkAt, "speaker")
}

// maxBacklog is the queued capture (in frames) above which the oldest
// frames are trimmed, so a capture clock running faster than the wall clock
// cannot build up latency.
const maxBacklog = 3

// nextFrame takes the next captured frame (or silence) and applies mute and
// gating. It returns a new slice the uplink may keep.
func (s *Session) nextFrame(frame []int16) []byte {
	if b := s.q.backlog(); b > maxBacklog {
		s.trimmed.Add(int64(s.q.discard(b - 1)))
	}
	stamp, ok := s.q.pop(frame)
	out := make([]byte, 2*len(frame))
	switch {
	case !ok:
		s.silence.Add(1)
		return out
	case s.micMuted.Load():
		s.muted.Add(1)
		return out
	}
	gain := 1.0
	// With cancellation, gate until the canceller has shown it removes the
	// echo (and again whenever it stops doing so).
	if s.echoMode == "gate" || (s.aec != nil && !s.aec.converged.Load()) {
		if last := s.lastAudible.Load(); last != 0 && stamp-last < int64(s.cfg.GateHangover) {
			gain = s.cfg.GateAttenuation
			s.gated.Add(1)
		}
	}
	if gain == 1 {
		for i, v := range frame {
			out[2*i] = byte(v)
			out[2*i+1] = byte(uint16(v) >> 8)
		}
	} else {
		for i, v := range frame {
			g := int16(float64(v) * gain)
			out[2*i] = byte(g)
			out[2*i+1] = byte(uint16(g) >> 8)
		}
	}
	return out
}
