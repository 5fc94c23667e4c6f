package voice_test

import (
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/voice"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// median of durations in milliseconds.
func medianMs(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2]) / float64(time.Millisecond)
}

// click is 5 ms of a loud square wave.
func click(rate int) []int16 {
	c := make([]int16, rate/200)
	for i := range c {
		c[i] = 20000
		if (i/8)%2 == 1 {
			c[i] = -20000
		}
	}
	return c
}

// firstLoud returns when a window louder than peak first arrived after t0.
func firstLoud(chunks []desktoptest.Chunk, rate, peak int, t0 time.Time) (time.Time, bool) {
	for _, w := range windows(chunks, rate) {
		if w.at.After(t0) && w.peak > peak {
			return w.at, true
		}
	}
	return time.Time{}, false
}

// BenchmarkCaptureToUplink: from a click written into the microphone fifo
// to the uplink frame that carries it. Baselines in the same run: the same
// click recorded by parec from the same source (PulseAudio's own path), and
// the 20 ms frame period.
func BenchmarkCaptureToUplink(b *testing.B) {
	p := pulse(b)
	const rate = 16000
	fifo := p.AddPipeMic(b, rate)
	m := startMic(b, fifo, rate)
	rec := p.Record(b, "mic1", rate)
	var up uplink
	s := open(b, voice.Config{Headset: true}, voice.Rates{InputRate: rate, OutputRate: rate}, up.send)
	waitFor(b, "frames", 5*time.Second, func() bool { return up.len() > 25 })
	var ours, pulsePath []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		from := up.len()
		m.say(click(rate))
		at := m.started(b, i, 5*time.Second)
		var got time.Time
		waitFor(b, "the click in the uplink", 5*time.Second, func() bool {
			f, ts := up.snapshot()
			for k := from; k < len(f); k++ {
				if rms(f[k]) > 2000 {
					got = ts[k]
					return true
				}
			}
			return false
		})
		ours = append(ours, got.Sub(at))
		time.Sleep(100 * time.Millisecond)
		if t, ok := firstLoud(rec.Chunks(), rate, 10000, at.Add(-time.Millisecond)); ok {
			pulsePath = append(pulsePath, t.Sub(at))
		}
	}
	b.StopTimer()
	if f, ts := up.snapshot(); len(ts) > 1 {
		// Audio handed to the uplink per second of wall time over the run.
		b.ReportMetric(float64(len(f)-1)*0.02/ts[len(ts)-1].Sub(ts[0]).Seconds(), "uplink_realtime_ratio")
		b.ReportMetric(1, "baseline_realtime_ratio")
	}
	b.ReportMetric(medianMs(ours), "capture_to_uplink_ms")
	b.ReportMetric(medianMs(pulsePath), "baseline_parec_same_source_ms")
	b.ReportMetric(20, "baseline_frame_period_ms")
	b.ReportMetric(0, "ns/op")
	if st := s.Stats(); st.DroppedFrames != 0 || st.LostSamples != 0 {
		b.Errorf("dropped audio: %+v", st)
	}
}

// BenchmarkPlaybackOnset: from the first Play of agent audio streamed in
// real time (after silence) to its first sound at spk.monitor, with the
// default adaptive prebuffer (20 ms, doubling up to 60 ms only after an
// underrun mid-speech; the underruns are counted); baselines in the same
// run: the smallest prebuffer (10 ms), which leaves the device and monitor
// path, and the 20 ms frame.
func BenchmarkPlaybackOnset(b *testing.B) {
	p := pulse(b)
	rec := p.Record(b, "spk.monitor", 48000)
	var underruns int64
	measure := func(prebufMs int) float64 {
		s := open(b, voice.Config{Headset: true, PrebufferMs: prebufMs}, voice.Rates{InputRate: 16000, OutputRate: 16000}, func([]byte) {})
		warm(b, s)
		var d []time.Duration
		for i := 0; i < b.N; i++ {
			// Agent audio arrives as the socket delivers it: 20 ms chunks
			// in real time.
			chunks := bytesOf(tone(16000, 300*time.Millisecond, 12000))
			t0 := time.Now()
			go func() {
				tk := time.NewTicker(20 * time.Millisecond)
				defer tk.Stop()
				for c := chunks; len(c) > 0; c = c[640:] {
					s.Play(c[:640])
					<-tk.C
				}
			}()
			var at time.Time
			waitFor(b, "the tone at the monitor", 5*time.Second, func() bool {
				var ok bool
				at, ok = firstLoud(rec.Chunks(), 48000, 3000, t0)
				return ok
			})
			d = append(d, at.Sub(t0))
			time.Sleep(600 * time.Millisecond) // played out, back to prebuffering
		}
		if prebufMs == voice.DefaultPrebufferMs {
			underruns = s.Stats().Underruns
		}
		s.Close()
		return medianMs(d)
	}
	b.ResetTimer()
	def := measure(voice.DefaultPrebufferMs)
	base := measure(10)
	b.StopTimer()
	b.ReportMetric(def, "onset_adaptive_ms") // the default: 20 ms, growing to 60 after underruns
	b.ReportMetric(base, "baseline_onset_prebuffer10_ms")
	b.ReportMetric(20, "baseline_frame_period_ms")
	b.ReportMetric(float64(underruns), "underruns")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBargeIn: from ClearPlayback to the last agent sound at
// spk.monitor, with speaker buffers of 40 ms (EchoCancel's default), 20 ms
// (the default) and 10 ms; baseline: the 20 ms frame period.
func BenchmarkBargeIn(b *testing.B) {
	p := pulse(b)
	rec := p.Record(b, "spk.monitor", 48000)
	measure := func(bufMs int) float64 {
		s := open(b, voice.Config{Headset: true, SpeakerBufferMs: bufMs}, voice.Rates{InputRate: 16000, OutputRate: 16000}, func([]byte) {})
		warm(b, s)
		var d []time.Duration
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			s.Play(bytesOf(tone(16000, 2*time.Second, 12000)))
			waitFor(b, "the tone at the monitor", 5*time.Second, func() bool {
				_, ok := firstLoud(rec.Chunks(), 48000, 3000, t0)
				return ok
			})
			time.Sleep(200 * time.Millisecond)
			cleared := time.Now()
			s.ClearPlayback()
			time.Sleep(300 * time.Millisecond)
			var last time.Time
			for _, w := range windows(rec.Chunks(), 48000) {
				if w.at.After(t0) && w.peak > 3000 {
					last = w.at
				}
			}
			d = append(d, last.Sub(cleared))
		}
		s.Close()
		return medianMs(d)
	}
	b.ResetTimer()
	b40 := measure(40)
	b20 := measure(20)
	b10 := measure(10)
	b.StopTimer()
	b.ReportMetric(b40, "clear_to_silence_buf40_ms")
	b.ReportMetric(b20, "clear_to_silence_buf20_ms")
	b.ReportMetric(b20, "clear_to_silence_ms") // the default speaker buffer
	b.ReportMetric(b10, "clear_to_silence_buf10_ms")
	b.ReportMetric(20, "baseline_frame_period_ms")
	b.ReportMetric(0, "ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCPUPerCallMinute: process CPU time (getrusage) per minute of a
// call with the microphone talking and the agent audio playing all the
// time, for gating and for echo cancellation; baseline in the same run: the
// same process idle for the same wall time.
func BenchmarkCPUPerCallMinute(b *testing.B) {
	p := pulse(b)
	const rate = 16000
	m := startMic(b, p.AddPipeMic(b, rate), rate)
	talk := speech(b, rate, sentence)
	m.background(talk)
	const span = 10 * time.Second
	perMin := func(d time.Duration) float64 { return d.Seconds() * float64(time.Minute) / float64(span) }
	call := func(echo voice.EchoMode) float64 {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			s := open(b, voice.Config{Echo: echo}, voice.Rates{InputRate: rate, OutputRate: rate}, func([]byte) {})
			agent := bytesOf(talk)
			c0 := cpuTime()
			end := time.Now().Add(span)
			for time.Now().Before(end) {
				if s.Stats().QueuedPlayback < rate {
					s.Play(agent)
				}
				time.Sleep(100 * time.Millisecond)
			}
			total += cpuTime() - c0
			s.Close()
		}
		return perMin(total / time.Duration(b.N))
	}
	b.ResetTimer()
	gate := call(voice.EchoGate)
	cancel := call(voice.EchoCancel)
	c0 := cpuTime()
	time.Sleep(span)
	idle := perMin(cpuTime() - c0)
	b.StopTimer()
	b.ReportMetric(gate, "cpu_s_per_call_min_gate")
	b.ReportMetric(cancel, "cpu_s_per_call_min_cancel")
	b.ReportMetric(idle, "baseline_idle_cpu_s_per_min")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEchoRemovedThroughLoopback: dB of echo the canceller removes
// through PulseAudio's real loopback (microphone = the speaker's monitor)
// over the last half of 8 s of agent speech; baseline: gating's fixed
// attenuation (GateAttenuation, -40 dB) that costs the user barge-in.
func BenchmarkEchoRemovedThroughLoopback(b *testing.B) {
	if !voice.EchoCancellationBuiltIn {
		b.Skip("built with -tags nospeex")
	}
	pulse(b)
	const rate = 16000
	agent := speech(b, rate, sentence+" "+sentence)
	var sum float64
	var converged int
	for i := 0; i < b.N; i++ {
		s := open(b, voice.Config{Echo: voice.EchoCancel}, voice.Rates{InputRate: rate, OutputRate: rate}, func([]byte) {})
		warm(b, s)
		s.Play(bytesOf(agent))
		waitFor(b, "the agent audio to play out", 30*time.Second, func() bool {
			st := s.Stats()
			return st.PlayedSamples >= int64(len(agent)) && st.QueuedPlayback == 0
		})
		st := s.Stats()
		sum += st.EchoRemovedDB
		if st.EchoConverged {
			converged++
		}
		s.Close()
	}
	b.ReportMetric(sum/float64(b.N), "echo_removed_dB_whole_utterance")
	b.ReportMetric(float64(converged)/float64(b.N), "converged_at_end_fraction")
	b.ReportMetric(40, "baseline_gate_attenuation_dB")
	b.ReportMetric(0, "ns/op")
}
