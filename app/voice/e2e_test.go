package voice_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/app/voice"
)

// The session satisfies the manager's contract as is.
var _ calls.AudioSession = (*voice.Session)(nil)

// managerAudio is cmd's wiring of the engine into the call manager, plus a
// record of when the manager cleared playback (barge-in).
type managerAudio struct {
	eng     *voice.Engine
	mu      sync.Mutex
	last    *voice.Session
	clears  []time.Time
	opened  atomic.Int32
	openErr atomic.Value // error
}

func (a *managerAudio) Open(c calls.AudioConfig, up func([]byte)) (calls.AudioSession, error) {
	s, err := a.eng.Open(voice.Rates(c), up)
	if err != nil {
		a.openErr.Store(err)
		return nil, err
	}
	a.opened.Add(1)
	a.mu.Lock()
	a.last = s
	a.mu.Unlock()
	return &clearSpy{Session: s, a: a}, nil
}

func (a *managerAudio) session() *voice.Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

func (a *managerAudio) clearTimes() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.clears...)
}

type clearSpy struct {
	*voice.Session
	a *managerAudio
}

func (c *clearSpy) ClearPlayback() {
	now := time.Now()
	c.Session.ClearPlayback()
	c.a.mu.Lock()
	c.a.clears = append(c.a.clears, now)
	c.a.mu.Unlock()
}

// noLeaks checks, after every other cleanup of the test, that no goroutine
// is left. Call it first. A device release that Close abandoned (the sound
// server died under it; Close returned an error saying so) is not a leak of
// this test.
func noLeaks(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, ignoreAbandoned) })
}

var ignoreAbandoned = goleak.IgnoreAnyFunction("github.com/ultravox-tray/ultravox-tray/app/voice.(*Session).releaseAbandonable")

type callEnv struct {
	sim   *simulator.Server
	m     *calls.Manager
	audio *managerAudio

	evMu   sync.Mutex
	events []calls.Event // every event of the manager, from before the call's start
}

// eventsOf returns the events of kind k so far.
func (e *callEnv) eventsOf(k calls.EventKind) []calls.Event {
	e.evMu.Lock()
	defer e.evMu.Unlock()
	var out []calls.Event
	for _, ev := range e.events {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// newCall starts the simulator (schema-validated), a call manager with the
// real voice engine, and a call with the default agent; it returns once the
// call is billing.
func newCall(t *testing.T, vc voice.Config, settings func(*calls.Settings), simOpts ...simtest.Option) (*callEnv, calls.CallView) {
	t.Helper()
	opts := append([]simtest.Option{func(o *simulator.Options) {
		o.FreeTime = -1
		o.SettleDelay = 300 * time.Millisecond
		o.MediaIdleFloor = -1
	}}, simOpts...)
	sim := simtest.New(t, opts...)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	client, err := ultravox.NewClient(ultravox.Options{BaseURL: sim.URL(), APIKey: sim.APIKey(), Version: "test",
		HTTPClient: &http.Client{Transport: tr}, RequestTimeout: 3 * time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := voice.NewEngine(vc)
	if err != nil {
		t.Fatal(err)
	}
	s := calls.DefaultSettings()
	s.MaxDuration = 120 * time.Second
	s.JoinTimeout = 5 * time.Second
	s.MediaIdleTimeout = 10 * time.Second
	s.DefaultAgentID = sim.Agents()[0].AgentID
	if settings != nil {
		settings(&s)
	}
	e := &callEnv{sim: sim, audio: &managerAudio{eng: eng}}
	e.m, err = calls.New(calls.Config{Client: client, StateDir: t.TempDir(), Audio: e.audio, Settings: s,
		DeviceName: "test", Version: "test", PollIdle: 500 * time.Millisecond, PollLive: 200 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	snaps, events, unsubscribe := e.m.Subscribe()
	var subs sync.WaitGroup
	subs.Add(2)
	go func() {
		defer subs.Done()
		for range snaps {
		}
	}()
	go func() {
		defer subs.Done()
		for ev := range events {
			e.evMu.Lock()
			e.events = append(e.events, ev)
			e.evMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		defer subs.Wait()
		defer unsubscribe()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.m.EndEverything(ctx)
		if err := e.m.Close(); err != nil {
			t.Errorf("manager Close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := e.m.Start(ctx, "")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	e.waitView(t, "the call billing", 15*time.Second, func(c calls.CallView) bool {
		return c.State == calls.CallBilling && !c.Joined.IsZero()
	})
	return e, v
}

// waitView waits until our call's view meets cond.
func (e *callEnv) waitView(t *testing.T, what string, timeout time.Duration, cond func(calls.CallView) bool) calls.CallView {
	t.Helper()
	var v calls.CallView
	waitFor(t, what, timeout, func() bool {
		s := e.m.Snapshot()
		if len(s.Ours) == 0 {
			return false
		}
		v = s.Ours[0]
		return cond(v)
	})
	return v
}

// received is what the simulator heard from us: all samples, and the
// arrival time of each chunk with its first sample's index.
func received(t *testing.T, sim *simulator.Server, id string) (pcm []int16, at []time.Time, starts []int) {
	t.Helper()
	ca, ok := sim.CallAudio(id)
	if !ok {
		t.Fatalf("the simulator has no audio for call %s", id)
	}
	for _, c := range ca.Received {
		starts = append(starts, len(pcm))
		at = append(at, c.At)
		pcm = append(pcm, samples(c.Data)...)
	}
	return pcm, at, starts
}

// timeOf returns the arrival time of the chunk holding sample i.
func timeOf(at []time.Time, starts []int, i int) time.Time {
	k := 0
	for k+1 < len(starts) && starts[k+1] <= i {
		k++
	}
	return at[k]
}

// Speech from a scripted microphone reaches the simulator through the call
// manager and the call socket: the simulator's recording has the speech's
// energy envelope at the time it was spoken, at 1.0x real time, and the
// agent answers that it heard speech.
func TestCallCarriesScriptedSpeechToTheSimulator(t *testing.T) {
	noLeaks(t)
	p := pulse(t)
	const rate = 16000
	talk := speech(t, rate, sentence)
	m := startMic(t, p.AddPipeMic(t, rate), rate)
	e, v := newCall(t, voice.Config{Headset: true}, nil, func(o *simulator.Options) { o.SpeakGreeting = false })

	time.Sleep(500 * time.Millisecond)
	m.say(talk)
	spoke := m.started(t, 0, 5*time.Second)
	dur := time.Duration(len(talk)) * time.Second / rate
	time.Sleep(time.Until(spoke.Add(dur + 1500*time.Millisecond)))
	e.waitView(t, "the agent to answer that it heard speech", 15*time.Second, func(c calls.CallView) bool {
		for _, l := range c.Transcript {
			if l.Role == "agent" && strings.Contains(l.Text, "I heard you speak") {
				return true
			}
		}
		return false
	})
	pcm, at, starts := received(t, e.sim, v.ID)

	// 1.0x real time: audio that arrived in a 5 s window of wall time.
	var n int
	for i := range at {
		end := len(pcm)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		if !at[i].Before(at[0].Add(time.Second)) && at[i].Before(at[0].Add(6*time.Second)) {
			n += end - starts[i]
		}
	}
	// Pacing, not a burst nor a stall, with bounds that hold on a loaded
	// machine; the figure is BenchmarkCaptureToUplink's uplink_realtime_ratio.
	ratio := float64(n) / rate / 5
	t.Logf("figure: the simulator received %.2f s of audio in 5 s (%.3fx real time)", float64(n)/rate, ratio)
	if ratio < 0.8 || ratio > 1.25 {
		t.Errorf("the simulator received %.2f s of audio in 5 s (%.3fx real time)", float64(n)/rate, ratio)
	}

	win := rate / 50
	got, ref := envelope(pcm, win), envelope(talk, win)
	lag, _ := bestLag(got, ref, len(got)-len(ref))
	// The envelope over 100 ms (5 frames), at the best 20 ms alignment.
	corr := correlation(smooth(got, 5)[lag:lag+len(ref)], smooth(ref, 5))
	if corr < 0.85 {
		t.Fatalf("speech envelope not found in the simulator's recording: best correlation %.2f", corr)
	}
	arrived := timeOf(at, starts, lag*win)
	latency := arrived.Sub(spoke)
	t.Logf("envelope correlation %.3f; the simulator received the speech's first frame %v after it was spoken; %+v", corr, latency, e.audio.session().Stats())
	if latency < 0 || latency > 500*time.Millisecond {
		t.Errorf("speech reached the simulator %v after it was spoken, want 0..500ms", latency)
	}
}

// The agent's audio from the simulator plays on the sink; when the user
// talks over it, the simulator sends playback_clear_buffer and the sink
// goes silent at once.
func TestAgentAudioPlaysAndBargeInSilencesTheSink(t *testing.T) {
	noLeaks(t)
	p := pulse(t)
	const rate = 16000
	// The pipe mic first: making it the default source moves streams that
	// are already recording (parec included) over to it.
	m := startMic(t, p.AddPipeMic(t, rate), rate)
	rec := p.Record(t, "spk.monitor", 48000)
	// The agent sends its audio up to 10 s ahead (as Ultravox does with a
	// 30 s client buffer), so a clear has seconds of queued audio to drop.
	e, _ := newCall(t, voice.Config{Headset: true}, nil, func(o *simulator.Options) { o.SendAhead = 10 * time.Second })

	loud := func(w window) bool { return w.peak > 1500 }
	waitFor(t, "the agent's greeting at spk.monitor", 15*time.Second, func() bool {
		for _, w := range windows(rec.Chunks(), 48000) {
			if loud(w) {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond)
	m.background(tone(rate, 100*time.Millisecond, 10000)) // the user talks over the agent
	waitFor(t, "playback_clear_buffer from the simulator", 10*time.Second, func() bool { return len(e.audio.clearTimes()) > 0 })
	cleared := e.audio.clearTimes()[0]
	time.Sleep(time.Second) // still talking: the agent stays quiet
	m.background(nil)
	ws := windows(rec.Chunks(), 48000)
	var last time.Time
	for _, w := range ws {
		if loud(w) && w.at.Before(cleared.Add(time.Second)) {
			last = w.at
		}
	}
	silence := last.Sub(cleared)
	st := e.audio.session().Stats()
	t.Logf("last agent sound at the sink %v after playback_clear_buffer; %+v", silence, st)
	if st.Clears == 0 || st.PlayedSamples == 0 {
		t.Errorf("stats: %+v", st)
	}
	// The agent had seconds of audio queued: the bound proves the clear
	// dropped it and holds on a loaded machine (the figure is BenchmarkBargeIn's).
	if silence > 500*time.Millisecond {
		t.Errorf("the sink still played agent audio %v after playback_clear_buffer", silence)
	}
}

// Muting sends silence through the manager and the socket, and the stream
// keeps going at one second per second.
func TestMutedCallKeepsStreamingSilence(t *testing.T) {
	noLeaks(t)
	p := pulse(t)
	const rate = 16000
	m := startMic(t, p.AddPipeMic(t, rate), rate)
	m.background(tone(rate, 100*time.Millisecond, 8000))
	e, v := newCall(t, voice.Config{Headset: true}, nil, func(o *simulator.Options) { o.SpeakGreeting = false })
	waitFor(t, "the tone at the simulator", 10*time.Second, func() bool {
		pcm, _, _ := received(t, e.sim, v.ID)
		return len(pcm) > rate/50 && rms(pcm[len(pcm)-rate/50:]) > 3000
	})
	if err := e.m.SetMicMuted(v.ID, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // frames in flight
	before, _, _ := received(t, e.sim, v.ID)
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	during, _, _ := received(t, e.sim, v.ID)
	elapsed := time.Since(t0)
	if c := e.waitView(t, "the call view", time.Second, func(calls.CallView) bool { return true }); c.State != calls.CallBilling || !c.MicMuted {
		t.Errorf("while muted: state %v, MicMuted %v", c.State, c.MicMuted)
	}
	if err := e.m.SetMicMuted(v.ID, false); err != nil {
		t.Fatal(err)
	}
	muted := during[len(before):]
	if r := rms(muted); r != 0 {
		t.Errorf("muted audio has rms %.0f, want exact silence", r)
	}
	if ratio := float64(len(muted)) / rate / elapsed.Seconds(); ratio < 0.9 || ratio > 1.1 {
		t.Errorf("while muted the simulator received %.2f s of audio in %.2f s", float64(len(muted))/rate, elapsed.Seconds())
	}
	waitFor(t, "the tone again after unmuting", 5*time.Second, func() bool {
		pcm, _, _ := received(t, e.sim, v.ID)
		return rms(pcm[len(pcm)-rate/50:]) > 3000
	})
}

// With gating (no headset), the user's microphone does not reach the
// simulator while the agent speaks, so the agent is not interrupted by what
// the microphone hears; once the agent is quiet the microphone is back.
func TestGatingKeepsTheMicOffWhileTheAgentSpeaks(t *testing.T) {
	noLeaks(t)
	p := pulse(t)
	const rate = 16000
	// The pipe mic first: making it the default source moves streams that
	// are already recording (parec included) over to it.
	m := startMic(t, p.AddPipeMic(t, rate), rate)
	rec := p.Record(t, "spk.monitor", 48000)
	e, v := newCall(t, voice.Config{}, nil)
	loud := func(w window) bool { return w.peak > 1500 }
	waitFor(t, "the agent's greeting at spk.monitor", 15*time.Second, func() bool {
		for _, w := range windows(rec.Chunks(), 48000) {
			if loud(w) {
				return true
			}
		}
		return false
	})
	talkFrom := time.Now()
	m.background(tone(rate, 100*time.Millisecond, 8000)) // the user (or the room) makes noise
	e.waitView(t, "the greeting to end", 20*time.Second, func(c calls.CallView) bool { return c.AgentState == "listening" })
	// The server says "listening" once it has sent its audio; it ends at
	// the speaker when the queue has played out.
	waitFor(t, "the greeting to play out", 10*time.Second, func() bool { return e.audio.session().Stats().QueuedPlayback == 0 })
	greetingEnd := time.Now()
	time.Sleep(voice.DefaultGateHangover + 1500*time.Millisecond)
	pcm, at, starts := received(t, e.sim, v.ID)
	var during, after []int16
	for i := range at {
		end := len(pcm)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		switch {
		case at[i].After(talkFrom.Add(200*time.Millisecond)) && at[i].Before(greetingEnd.Add(-200*time.Millisecond)):
			during = append(during, pcm[starts[i]:end]...)
		case at[i].After(greetingEnd.Add(voice.DefaultGateHangover + 300*time.Millisecond)):
			after = append(after, pcm[starts[i]:end]...)
		}
	}
	st := e.audio.session().Stats()
	t.Logf("mic rms while the agent spoke %.0f, after %.0f; %+v", rms(during), rms(after), st)
	if len(during) < rate/2 {
		t.Fatalf("only %d samples received while the agent spoke", len(during))
	}
	if rms(during) > 200 {
		t.Errorf("the microphone reached the simulator while the agent spoke: rms %.0f", rms(during))
	}
	if rms(after) < 3000 {
		t.Errorf("the microphone did not come back after the agent: rms %.0f", rms(after))
	}
	if len(e.audio.clearTimes()) != 0 {
		t.Error("the agent was interrupted by the gated microphone")
	}
}

// With no sound server, the call reports a clear audio error and tells the
// user at once (one event) that it bills in text mode. It stays usable for
// text: the manager sends silence at 1.0x real time, so the server's
// mediaIdleTimeout does not end it; typed text gets the agent's answer; and
// End is confirmed by the server, leaving nothing billing.
func TestNoAudioDeviceCallStaysUsableInTextMode(t *testing.T) {
	noLeaks(t)
	p := pulse(t)
	p.Stop()
	e, v := newCall(t, voice.Config{}, func(s *calls.Settings) { s.MediaIdleTimeout = 2 * time.Second })
	c := e.waitView(t, "the audio error", 5*time.Second, func(c calls.CallView) bool { return c.AudioError != "" })
	t.Logf("audio error shown: %q", c.AudioError)
	if !strings.Contains(c.AudioError, "no microphone") && !strings.Contains(c.AudioError, "no audio system") {
		t.Errorf("audio error does not say what is missing: %q", c.AudioError)
	}
	if !strings.Contains(c.AudioError, "text mode") || !strings.Contains(c.AudioError, "billing") {
		t.Errorf("audio error does not say the call bills in text mode: %q", c.AudioError)
	}
	if e.audio.opened.Load() != 0 {
		t.Error("a session opened without a sound server")
	}
	waitFor(t, "the audio-unavailable event", 5*time.Second, func() bool { return len(e.eventsOf(calls.EventAudioUnavailable)) > 0 })
	evs := e.eventsOf(calls.EventAudioUnavailable)
	t.Logf("event: %s", evs[0].Message)
	if len(evs) != 1 || evs[0].Call.ID != v.ID || !strings.Contains(evs[0].Message, "billing in text mode") ||
		(!strings.Contains(evs[0].Message, "no microphone") && !strings.Contains(evs[0].Message, "no audio system")) {
		t.Errorf("audio-unavailable events: %+v", evs)
	}

	// Past mediaIdleTimeout (2 s), silence arriving at 1.0x real time.
	a0, ok := e.sim.CallAudio(v.ID)
	if !ok {
		t.Fatalf("the simulator has no audio for call %s", v.ID)
	}
	t0 := time.Now()
	time.Sleep(4 * time.Second)
	a1, _ := e.sim.CallAudio(v.ID)
	elapsed := time.Since(t0)
	if c := e.m.Snapshot(); len(c.Ours) != 1 || c.Ours[0].State != calls.CallBilling {
		t.Fatalf("the text-mode call did not stay live past mediaIdleTimeout: %+v", c.Ours)
	}
	if sc, _ := e.sim.Call(v.ID); sc.Ended != nil {
		t.Fatalf("the server ended the text-mode call: %v", *sc.EndReason)
	}
	rate := float64(a1.ReceivedBytes()-a0.ReceivedBytes()) / elapsed.Seconds()
	want := float64(2 * a1.InputRate)
	t.Logf("silence: %.0f B/s, %.3fx real time", rate, rate/want)
	if rate < 0.9*want || rate > 1.1*want {
		t.Errorf("silence arrives at %.0f B/s, want about %.0f (1.0x real time)", rate, want)
	}
	for _, ch := range a1.Received[len(a0.Received):] {
		for _, b := range ch.Data {
			if b != 0 {
				t.Fatal("text mode sent something other than silence")
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.m.SendText(ctx, v.ID, "can you read me"); err != nil {
		t.Fatal(err)
	}
	e.waitView(t, "the agent's answer to the typed text", 10*time.Second, func(c calls.CallView) bool {
		for _, l := range c.Transcript {
			if l.Role == "agent" && strings.Contains(l.Text, "can you read me") {
				return true
			}
		}
		return false
	})

	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatalf("End: %v", err)
	}
	sc, ok := e.sim.Call(v.ID)
	if !ok || sc.Ended == nil || sc.EndReason == nil {
		t.Fatalf("the simulator does not have the call ended: %+v", sc)
	}
	if *sc.EndReason != "hangup" && *sc.EndReason != "agent_hangup" {
		t.Errorf("end reason %q, want our hang-up", *sc.EndReason)
	}
	if s := e.m.Snapshot(); s.LiveCount() != 0 {
		t.Errorf("still billing after End: %+v", s.Ours)
	}
	if n := len(e.eventsOf(calls.EventConnectionLost)); n != 0 {
		t.Errorf("%d connection-lost events in text mode", n)
	}
}
