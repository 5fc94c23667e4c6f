package voice_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ultravox-tray/ultravox-tray/app/voice"
)

func open(t testing.TB, cfg voice.Config, r voice.Rates, up func([]byte)) *voice.Session {
	t.Helper()
	e, err := voice.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Open(r, up)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// warm waits until both devices run: a fresh null sink takes a second or two
// to leave its idle latency.
func warm(t testing.TB, s *voice.Session) {
	t.Helper()
	waitFor(t, "the speaker to run", 10*time.Second, func() bool { return s.Stats().SpeakerSamples > int64(s.Rates().OutputRate)/5 })
}

const sentence = "Hello agent. This is the scripted microphone, speaking for the test."

// The scripted microphone reaches the uplink with the speech's energy
// envelope, on time, one second of audio per second.
func TestMicSpeechReachesUplinkOnTimeAtRealTime(t *testing.T) {
	p := pulse(t)
	const rate = 16000
	talk := speech(t, rate, sentence)
	m := startMic(t, p.AddPipeMic(t, rate), rate)
	var up uplink
	s := open(t, voice.Config{Headset: true}, voice.Rates{InputRate: rate, OutputRate: rate}, up.send)

	time.Sleep(300 * time.Millisecond)
	m.say(talk)
	spoke := m.started(t, 0, 5*time.Second)
	dur := time.Duration(len(talk)) * time.Second / rate
	waitFor(t, "the speech to be sent", dur+10*time.Second, func() bool {
		_, at := up.snapshot()
		return len(at) > 0 && at[len(at)-1].After(spoke.Add(dur+time.Second)) &&
			at[len(at)-1].After(at[0].Add(6500*time.Millisecond))
	})
	s.Close()
	frames, at := up.snapshot()

	// 1.0x real time over 5 s: count the audio handed to uplink within a
	// 5 s wall-clock window.
	var win [][]int16
	for i := range frames {
		if !at[i].Before(at[0].Add(time.Second)) && at[i].Before(at[0].Add(6*time.Second)) {
			win = append(win, frames[i])
		}
	}
	// The bound proves pacing (not a burst, not a stall) and holds on a
	// loaded machine; the figure is BenchmarkCaptureToUplink's
	// uplink_realtime_ratio.
	audio := time.Duration(len(win)) * 20 * time.Millisecond
	ratio := audio.Seconds() / 5
	t.Logf("figure: %v of audio sent in 5 s of wall time (%.3fx real time)", audio, ratio)
	if ratio < 0.8 || ratio > 1.25 {
		t.Errorf("sent %v of audio in 5 s of wall time (%.3fx real time)", audio, ratio)
	}
	for i, f := range frames {
		if len(f) != rate/50 {
			t.Fatalf("frame %d has %d samples, want %d", i, len(f), rate/50)
		}
	}

	// The speech envelope appears in the uplink, at the time it was spoken.
	var all []int16
	for _, f := range frames {
		all = append(all, f...)
	}
	win20 := rate / 50
	sent, ref := envelope(all, win20), envelope(talk, win20)
	lag, _ := bestLag(sent, ref, len(sent)-len(ref))
	// The envelope over 100 ms (5 frames), at the best 20 ms alignment.
	corr := correlation(smooth(sent, 5)[lag:lag+len(ref)], smooth(ref, 5))
	if corr < 0.85 {
		t.Fatalf("speech envelope not found in the uplink: best correlation %.2f at frame %d", corr, lag)
	}
	latency := at[lag].Sub(spoke)
	t.Logf("envelope correlation %.3f; speech written %v, its first frame sent %v later; %+v", corr, spoke.Format("15:04:05.000"), latency, s.Stats())
	if latency < 0 || latency > 500*time.Millisecond {
		t.Errorf("speech sent %v after it was spoken, want 0..500ms", latency)
	}
}

// Agent audio plays on the sink; ClearPlayback silences it at once.
func TestAgentAudioReachesSinkAndClearSilencesIt(t *testing.T) {
	p := pulse(t)
	rec := p.Record(t, "spk.monitor", 48000)
	s := open(t, voice.Config{Headset: true}, voice.Rates{InputRate: 16000, OutputRate: 24000}, func([]byte) {})
	warm(t, s)

	s.Play(bytesOf(tone(24000, 3*time.Second, 12000)))
	loud := func(w window) bool { return w.peak > 3000 }
	waitFor(t, "the agent's tone at spk.monitor", 10*time.Second, func() bool {
		for _, w := range windows(rec.Chunks(), 48000) {
			if loud(w) {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	cleared := time.Now()
	s.ClearPlayback()
	time.Sleep(700 * time.Millisecond)
	rec.Stop()

	ws := windows(rec.Chunks(), 48000)
	var first, last time.Time
	for _, w := range ws {
		if loud(w) {
			if first.IsZero() {
				first = w.at
			}
			last = w.at
		}
	}
	if st := s.Stats(); st.Clears != 1 || st.QueuedPlayback != 0 {
		t.Errorf("after clear: %+v", st)
	}
	// The tone is the tone: 440 Hz means about 88 zero crossings in 100 ms.
	pcm := samples(rec.Bytes())
	mid := -1
	for i, w := range ws {
		if loud(w) && w.at.After(first.Add(200*time.Millisecond)) {
			mid = i
			break
		}
	}
	if mid < 0 {
		t.Fatal("tone too short to analyse")
	}
	seg := pcm[mid*48 : mid*48+4800]
	zc := 0
	for i := 1; i < len(seg); i++ {
		if (seg[i-1] < 0) != (seg[i] < 0) {
			zc++
		}
	}
	if zc < 80 || zc > 96 {
		t.Errorf("played audio has %d zero crossings per 100 ms, want ~88 (440 Hz)", zc)
	}
	silence := last.Sub(cleared)
	t.Logf("tone at the sink from %v; last loud 1 ms window %v after ClearPlayback", first.Format("15:04:05.000"), silence)
	// Goal: within one 20 ms frame period of device buffering (the figure
	// is BenchmarkBargeIn's). The bound proves the clear dropped the 2.5 s
	// of tone still queued, and holds on a loaded machine with parec's own
	// latency.
	if silence > 500*time.Millisecond {
		t.Errorf("the sink still played agent audio %v after ClearPlayback", silence)
	}
	if played := last.Sub(first); played > 2*time.Second {
		t.Errorf("played %v of the 3 s tone; the clear came after about 0.5 s", played)
	}
}

// Muting sends exact silence and the stream keeps its pace; unmuting sends
// the mic again.
func TestMuteSendsSilenceAndKeepsTheStream(t *testing.T) {
	p := pulse(t)
	const rate = 16000
	m := startMic(t, p.AddPipeMic(t, rate), rate)
	m.background(tone(rate, 100*time.Millisecond, 8000))
	var up uplink
	s := open(t, voice.Config{Headset: true}, voice.Rates{InputRate: rate, OutputRate: rate}, up.send)
	isLoud := func(f []int16) bool { return rms(f) > 3000 }
	waitFor(t, "the mic tone in the uplink", 10*time.Second, func() bool {
		f, _ := up.snapshot()
		return len(f) > 0 && isLoud(f[len(f)-1])
	})
	s.SetMicMuted(true)
	mutedAt := up.len()
	time.Sleep(time.Second)
	s.SetMicMuted(false)
	unmutedAt := up.len()
	waitFor(t, "the mic tone after unmuting", 5*time.Second, func() bool {
		f, _ := up.snapshot()
		return len(f) > unmutedAt+5 && isLoud(f[len(f)-1])
	})
	frames, at := up.snapshot()
	// One frame may have been in flight when mute was set.
	for i := mutedAt + 1; i < unmutedAt; i++ {
		if rms(frames[i]) != 0 {
			t.Fatalf("frame %d sent while muted has rms %.0f", i, rms(frames[i]))
		}
	}
	n := unmutedAt - mutedAt
	span := at[unmutedAt-1].Sub(at[mutedAt])
	// The stream keeps its pace while muted: about 50 frames in the second
	// (bounds that hold on a loaded machine; the pace itself is measured by
	// the benchmarks), and the stats count every frame sent muted.
	if n < 35 || n > 65 {
		t.Errorf("%d frames sent during 1 s of mute, want ~50 (span %v)", n, span)
	}
	if st := s.Stats(); int(st.MutedFrames) < n-2 {
		t.Errorf("stats count %d muted frames; %d were sent while muted", st.MutedFrames, n)
	}
}

// With gating (no headset), the microphone is suppressed while the agent is
// audible; with Headset the same echo goes through.
func TestGatingSuppressesMicWhileAgentSpeaks(t *testing.T) {
	run := func(t *testing.T, headset bool) (during, agent float64, st voice.Stats) {
		pulse(t) // the default source spk.monitor hears the speaker: a perfect echo
		var up uplink
		const rate = 16000
		s := open(t, voice.Config{Headset: headset}, voice.Rates{InputRate: rate, OutputRate: rate}, up.send)
		warm(t, s)
		agentTone := tone(rate, 1500*time.Millisecond, 12000)
		before := up.len()
		s.Play(bytesOf(agentTone))
		waitFor(t, "the agent audio to play out", 10*time.Second, func() bool {
			st := s.Stats()
			return st.PlayedSamples >= int64(len(agentTone)) && st.QueuedPlayback == 0
		})
		time.Sleep(200 * time.Millisecond)
		frames, _ := up.snapshot()
		for _, f := range frames[before:] {
			during = max(during, rms(f))
		}
		return during, rms(agentTone), s.Stats()
	}
	t.Run("gated", func(t *testing.T) {
		during, agent, st := run(t, false)
		t.Logf("loudest uplink frame %.0f rms while the agent (%.0f rms) played; %+v", during, agent, st)
		if during > agent*0.02 {
			t.Errorf("echo leaked through the gate: %.0f rms (agent %.0f)", during, agent)
		}
		if st.GatedFrames == 0 || st.Echo != "gate" {
			t.Errorf("stats: %+v", st)
		}
		// 1.5 s of agent audio plus the hangover: not the whole call.
		if st.GatedFrames > 1500/20+300/20+15 {
			t.Errorf("%d frames gated for 1.5 s of agent audio", st.GatedFrames)
		}
	})
	t.Run("headset", func(t *testing.T) {
		during, agent, st := run(t, true)
		t.Logf("loudest uplink frame %.0f rms while the agent (%.0f rms) played", during, agent)
		if during < agent*0.5 {
			t.Errorf("with a headset the mic should pass unchanged: %.0f rms (agent %.0f)", during, agent)
		}
		if st.GatedFrames != 0 || st.Echo != "off" {
			t.Errorf("stats: %+v", st)
		}
	})
}

// With the sound server gone, Open says clearly that there is no audio and
// leaves nothing running.
func TestNoAudioDeviceIsAClearError(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), ignoreAbandoned)
	p := pulse(t)
	p.Stop()
	e, err := voice.NewEngine(voice.Config{})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	s, err := e.Open(voice.Rates{}, func([]byte) { called = true })
	if err == nil {
		s.Close()
		t.Fatal("Open worked with no sound server")
	}
	if !errors.Is(err, voice.ErrNoMicrophone) && !errors.Is(err, voice.ErrNoAudioSystem) {
		t.Fatalf("error is neither no microphone nor no audio system: %v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "no microphone") && !strings.HasPrefix(msg, "no audio system") {
		t.Errorf("message does not lead with what is missing: %q", msg)
	}
	t.Logf("error: %v", err)
	time.Sleep(50 * time.Millisecond)
	if called {
		t.Error("uplink called by a session that failed to open")
	}
	if _, _, err := voice.ListDevices(); err == nil {
		t.Log("ListDevices found devices without PulseAudio (ALSA)")
	}
}

// Close stops everything: no goroutine, no PulseAudio stream, no uplink call
// after it returns.
func TestCloseReleasesDevicesAndGoroutines(t *testing.T) {
	p := pulse(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), ignoreAbandoned)
	var up uplink
	for i := range 4 { // open and close repeatedly: nothing accumulates
		cfg := voice.Config{}
		if i%2 == 1 && voice.EchoCancellationBuiltIn {
			cfg.Echo = voice.EchoCancel // with its delay estimator goroutine
		}
		e, err := voice.NewEngine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Open(voice.Rates{InputRate: 48000, OutputRate: 48000}, up.send)
		if err != nil {
			t.Fatal(err)
		}
		streams := func() string {
			return strings.TrimSpace(p.Pactl(t, "list", "short", "sink-inputs") + p.Pactl(t, "list", "short", "source-outputs"))
		}
		if got := streams(); strings.Count(got, "protocol-native") != 2 {
			t.Fatalf("while open, want one playback and one record stream:\n%s", got)
		}
		waitFor(t, "frames", 5*time.Second, func() bool { return up.len() > 3 })
		s.Play(bytesOf(tone(48000, time.Second, 5000)))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		n := up.len()
		if got := streams(); got != "" {
			t.Fatalf("streams left after Close:\n%s", got)
		}
		time.Sleep(100 * time.Millisecond)
		if up.len() != n {
			t.Fatal("uplink called after Close returned")
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		// Calls on a closed session are harmless.
		s.Play([]byte{1, 2})
		s.ClearPlayback()
		s.SetMicMuted(true)
	}
}

// ListDevices names the devices; a named device is opened, an unknown name
// is a clear error that lists what exists.
func TestNamedDevices(t *testing.T) {
	p := pulse(t)
	const rate = 16000
	m := startMic(t, p.AddPipeMic(t, rate), rate)
	m.background(tone(rate, 100*time.Millisecond, 8000))
	p.Pactl(t, "set-default-source", "spk.monitor") // the pipe mic is not the default
	capture, playback, err := voice.ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capture %v, playback %v", capture, playback)
	var micName string
	for _, d := range capture {
		if strings.Contains(d.Name, "mic1") || strings.Contains(strings.ToLower(d.Name), "fifo") {
			micName = d.Name
		}
	}
	if micName == "" || len(playback) == 0 || playback[0].Name != "Null Output" {
		t.Fatalf("devices not listed: capture %v playback %v", capture, playback)
	}
	var up uplink
	open(t, voice.Config{Headset: true, CaptureDevice: micName, PlaybackDevice: "Null Output"}, voice.Rates{}, up.send)
	waitFor(t, "the named mic's tone", 10*time.Second, func() bool {
		f, _ := up.snapshot()
		return len(f) > 0 && rms(f[len(f)-1]) > 3000
	})

	e, _ := voice.NewEngine(voice.Config{CaptureDevice: "Blue Yeti"})
	_, err = e.Open(voice.Rates{}, func([]byte) {})
	if !errors.Is(err, voice.ErrNoMicrophone) || !strings.Contains(err.Error(), `microphone "Blue Yeti" not found (available: `) ||
		!strings.Contains(err.Error(), micName) {
		t.Errorf("unknown mic: %v", err)
	}
	e, _ = voice.NewEngine(voice.Config{PlaybackDevice: "HDMI 3"})
	_, err = e.Open(voice.Rates{}, func([]byte) {})
	if !errors.Is(err, voice.ErrNoSpeaker) || !strings.Contains(err.Error(), `speaker "HDMI 3" not found (available: "Null Output")`) {
		t.Errorf("unknown speaker: %v", err)
	}
}

// With EchoCancel, the canceller finds the echo delay through PulseAudio's
// real loopback (the microphone is the speaker's monitor) while the agent
// speaks, and the session gates until the canceller removes the echo, so
// the agent's voice does not come back up the uplink at speaking level.
func TestEchoCancellationThroughThePulseLoopback(t *testing.T) {
	if !voice.EchoCancellationBuiltIn {
		t.Skip("built with -tags nospeex")
	}
	pulse(t)
	const rate = 16000
	agent := speech(t, rate, sentence+" "+sentence)
	var up uplink
	s := open(t, voice.Config{Echo: voice.EchoCancel}, voice.Rates{InputRate: rate, OutputRate: rate}, up.send)
	if st := s.Stats(); st.Echo != "cancel" {
		t.Fatalf("echo control %q (%s), want cancel", st.Echo, st.EchoWhy)
	}
	warm(t, s)
	start := up.len()
	s.Play(bytesOf(agent))
	waitFor(t, "the agent audio to play out", 30*time.Second, func() bool {
		st := s.Stats()
		return st.PlayedSamples >= int64(len(agent)) && st.QueuedPlayback == 0
	})
	time.Sleep(300 * time.Millisecond)
	frames, _ := up.snapshot()
	var sent []int16
	for _, f := range frames[start:] {
		sent = append(sent, f...)
	}
	if len(sent) < len(agent) {
		t.Fatalf("only %d samples sent while %d played", len(sent), len(agent))
	}
	// Loudest 100 ms of the uplink against the agent's speech level.
	var worst float64
	for _, e := range envelope(sent, rate/10) {
		worst = max(worst, e)
	}
	below := 20 * math.Log10(rms(agent)/math.Max(worst, 1))
	st := s.Stats()
	t.Logf("loudest 100 ms of uplink %.1f dB below the agent; canceller removed %.1f dB over the call, converged at the end: %v, re-paired %d times, %d of %d frames gated",
		below, st.EchoRemovedDB, st.EchoConverged, st.EchoRepairs, st.GatedFrames, st.FramesSent)
	if st.EchoRepairs == 0 {
		t.Error("the echo delay was never found through the loopback")
	}
	// Bounds that hold on a loaded machine, where the sound server underruns,
	// the echo path moves and some echo passes until the canceller notices
	// (about half a second; 4.5-8 dB peaks were seen under load, 15+ dB
	// otherwise). Without echo control the loudest 100 ms is the agent itself
	// (0 dB below); the figures themselves are the benchmarks' to track.
	if below < 3 {
		t.Errorf("echo leaked at speaking level: the loudest 100 ms of uplink is only %.1f dB below the agent", below)
	}
	if st.EchoRemovedDB < 6 {
		t.Errorf("the canceller removed only %.1f dB of echo over the call", st.EchoRemovedDB)
	}
}

// EchoCancel with different rates cannot cancel (no shared clock for the
// pairing at one rate) and says so; it gates instead.
func TestEchoCancellationNeedsEqualRates(t *testing.T) {
	pulse(t)
	s := open(t, voice.Config{Echo: voice.EchoCancel}, voice.Rates{InputRate: 16000, OutputRate: 24000}, func([]byte) {})
	st := s.Stats()
	if st.Echo != "gate" || !strings.Contains(st.EchoWhy, "needs equal input and output rates, got 16000 and 24000 Hz") {
		t.Errorf("echo %q, why %q", st.Echo, st.EchoWhy)
	}
}

// When the sound server goes away mid-call, Err says so, the uplink keeps
// its pace with silence (the call is not dropped for media idleness), and
// Close still returns.
func TestSoundServerGoneMidCall(t *testing.T) {
	noLeaks(t)
	p := pulse(t)
	var up uplink
	s := open(t, voice.Config{}, voice.Rates{}, up.send)
	warm(t, s)
	p.Stop()
	waitFor(t, "Err to report the lost device", 10*time.Second, func() bool { return s.Err() != nil })
	t.Logf("Err: %v", s.Err())
	n0, t0 := up.len(), time.Now()
	time.Sleep(time.Second)
	if n := up.len() - n0; float64(n) < 0.9*time.Since(t0).Seconds()*50 {
		t.Errorf("only %d frames in %v after the device went away", n, time.Since(t0))
	}
	// Close returns: the devices stop, or are abandoned with an error that
	// says so; either way no uplink call happens after it.
	t0 = time.Now()
	err := s.Close()
	t.Logf("Close after %v: %v", time.Since(t0), err)
	if time.Since(t0) > 5*time.Second {
		t.Errorf("Close took %v", time.Since(t0))
	}
	if err != nil && !strings.Contains(err.Error(), "did not stop within 3s (the sound server is gone?)") {
		t.Errorf("Close: %v", err)
	}
	n := up.len()
	time.Sleep(100 * time.Millisecond)
	if up.len() != n {
		t.Error("uplink called after Close returned")
	}
}
