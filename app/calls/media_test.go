package calls

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func transcriptHas(s Snapshot, role, substr string, final bool) bool {
	for _, c := range s.Ours {
		for _, l := range c.Transcript {
			if l.Role == role && strings.Contains(l.Text, substr) && (!final || l.Final) {
				return true
			}
		}
	}
	return false
}

// Audio flows both ways at real rates, the transcript follows (text
// replaces, delta appends), barge-in clears playback, mute sends silence.
func TestAudioTranscriptAndBargeIn(t *testing.T) {
	audio := &memAudio{}
	e := newEnv(t, envOpt{audio: audio, settings: func(s *Settings) { s.MediaIdleTimeout = 2 * time.Second }})
	v := e.startBilling()
	sess := audio.last()
	if sess == nil || sess.cfg.InputRate != 16000 || sess.cfg.OutputRate != 16000 {
		t.Fatalf("audio session %+v", sess)
	}
	waitFor(t, "agent audio played", 5*time.Second, func() bool { return sess.played.Load() > 0 })
	e.waitSnap("greeting transcribed", 10*time.Second, func(s Snapshot) bool {
		return len(s.Ours) == 1 && len(s.Ours[0].Transcript) > 0 && s.Ours[0].Transcript[0].Role == "agent" &&
			s.Ours[0].Transcript[0].Final && s.Ours[0].Transcript[0].Text != ""
	})
	// A long typed message gets a long spoken answer; talk over it and the
	// server clears our playback (barge-in).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.m.SendText(ctx, v.ID, strings.Repeat("please repeat this rather long sentence back to me ", 4)); err != nil {
		t.Fatal(err)
	}
	e.waitSnap("agent speaking its answer", 10*time.Second, func(s Snapshot) bool {
		return s.Ours[0].AgentState == "speaking" && transcriptHas(s, "agent", "You wrote", false) && !transcriptHas(s, "agent", "You wrote", true)
	})
	audio.talking.Store(true)
	waitFor(t, "playback cleared on barge-in", 5*time.Second, func() bool { return sess.clears.Load() > 0 })
	time.Sleep(time.Second)
	audio.talking.Store(false)
	s := e.waitSnap("agent answers what it heard", 10*time.Second, func(s Snapshot) bool {
		return transcriptHas(s, "user", "seconds of speech", true) && transcriptHas(s, "agent", "I heard you speak for", false)
	})
	lines := s.Ours[0].Transcript
	for i := 1; i < len(lines); i++ {
		if lines[i].Ordinal <= lines[i-1].Ordinal {
			t.Fatalf("transcript out of order: %+v", lines)
		}
	}

	// One second of microphone audio per second.
	a0, _ := e.sim.CallAudio(v.ID)
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	a1, _ := e.sim.CallAudio(v.ID)
	rate := float64(a1.ReceivedBytes()-a0.ReceivedBytes()) / time.Since(t0).Seconds()
	t.Logf("uplink: %.0f bytes/s (16 kHz s16le = 32000)", rate)
	if rate < 24000 || rate > 40000 {
		t.Fatalf("uplink rate %.0f B/s, want about 32000", rate)
	}

	// Muted: frames keep flowing (silence), so media idle never ends the call.
	if err := e.m.SetMicMuted(v.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.m.SetSpeakerMuted(v.ID, true); err != nil {
		t.Fatal(err)
	}
	if !sess.micMuted.Load() || !sess.spkMuted.Load() {
		t.Fatal("mute not passed to the audio session")
	}
	audio.talking.Store(true)
	time.Sleep(2500 * time.Millisecond) // longer than mediaIdleTimeout
	audio.talking.Store(false)
	s = e.m.Snapshot()
	if len(s.Ours) != 1 || s.Ours[0].State != CallBilling || !s.Ours[0].MicMuted || !s.Ours[0].SpeakerMute {
		t.Fatalf("muted call: %+v", briefCalls(s.Ours))
	}
	if err := e.m.SetMicMuted("no-such-call", true); err == nil {
		t.Fatal("muting an unknown call succeeded")
	}

	if err := e.m.SendText(ctx, v.ID, "hello from a test"); err != nil {
		t.Fatal(err)
	}
	e.waitSnap("text answered", 10*time.Second, func(s Snapshot) bool {
		return transcriptHas(s, "user", "hello from a test", true) && transcriptHas(s, "agent", "You wrote", false)
	})
	if err := e.m.SendText(ctx, v.ID, "   "); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty text: %v", err)
	}
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	// The devices are released beside the hang-up, not before it.
	waitFor(t, "audio closed after End", 5*time.Second, sess.closed.Load)
}

// A call without audio is in text mode: the manager feeds the socket 20 ms
// frames of silence, so mediaIdleTimeout does not end it, pumping audio
// keeps a call up too, and a call whose uplink really stops is still ended
// by the server (connection_error) and reported as such.
func TestMediaIdleTimeout(t *testing.T) {
	t.Run("audio off: silence keeps the call up", func(t *testing.T) {
		e := newEnv(t, envOpt{settings: func(s *Settings) { s.MediaIdleTimeout = time.Second }})
		v := e.startBilling()
		if !strings.Contains(v.AudioError, "off") || !strings.Contains(v.AudioError, "text only") {
			t.Errorf("AudioError = %q, want it to say audio is off (text only)", v.AudioError)
		}
		checkTextMode(t, e, v)
		if n := e.rec.count(EventAudioUnavailable); n != 0 {
			t.Errorf("%d audio-unavailable events with audio turned off on purpose: %s", n, describeEvents(e.rec.all()))
		}
	})
	t.Run("pumping audio", func(t *testing.T) {
		e := newEnv(t, envOpt{audio: &memAudio{}, settings: func(s *Settings) { s.MediaIdleTimeout = time.Second }})
		v := e.startBilling()
		time.Sleep(2500 * time.Millisecond)
		if s := e.m.Snapshot(); len(s.Ours) != 1 || s.Ours[0].State != CallBilling {
			t.Fatalf("call with audio ended: %v", describeEvents(e.rec.all()))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.m.End(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("uplink stops", func(t *testing.T) {
		// A session that delivers nothing (a broken voice layer): the
		// server's idle timeout still ends the call, and the manager says
		// why.
		audio := &memAudio{}
		e := newEnv(t, envOpt{audio: audio, settings: func(s *Settings) { s.MediaIdleTimeout = time.Second }})
		v := e.startBilling()
		sess := audio.last()
		if sess.closed.CompareAndSwap(false, true) {
			close(sess.stop) // the pump stops; the session stays open
		}
		ev := e.waitEvent(EventConnectionLost, 10*time.Second)
		if ev.Call.ID != v.ID || ev.Call.EndReason != "connection_error" || !strings.Contains(ev.Message, "no audio") {
			t.Fatalf("event %+v", ev)
		}
	})
}

// checkTextMode checks a billing call without audio: it outlives the
// server's mediaIdleTimeout (1 s here) because silence reaches the
// simulator at 1.0x real time, typed text gets the agent's answer, and End
// is confirmed by the server with nothing left billing.
func checkTextMode(t *testing.T, e *env, v CallView) {
	t.Helper()
	a0, ok := e.sim.CallAudio(v.ID)
	if !ok {
		t.Fatalf("the simulator has no audio record for %s", v.ID)
	}
	t0 := time.Now()
	time.Sleep(2500 * time.Millisecond) // well past mediaIdleTimeout
	a1, _ := e.sim.CallAudio(v.ID)
	elapsed := time.Since(t0)
	if s := e.m.Snapshot(); len(s.Ours) != 1 || s.Ours[0].State != CallBilling {
		t.Fatalf("text-mode call did not stay live past mediaIdleTimeout: %v; events: %s", briefCalls(s.Ours), describeEvents(e.rec.all()))
	}
	if c, _ := e.sim.Call(v.ID); c.Ended != nil {
		t.Fatalf("the simulator ended the text-mode call (%v)", c.EndReason)
	}
	rate := float64(a1.ReceivedBytes()-a0.ReceivedBytes()) / elapsed.Seconds()
	want := float64(2 * a1.InputRate)
	t.Logf("text-mode uplink: %.0f bytes/s (want %.0f, %.3fx)", rate, want, rate/want)
	if rate < 0.9*want || rate > 1.1*want {
		t.Errorf("silence arrives at %.0f B/s, want about %.0f (1.0x real time)", rate, want)
	}
	frames := a1.Received[len(a0.Received):]
	for _, c := range frames {
		if c.Len != 2*a1.InputRate/50 {
			t.Fatalf("a %d-byte frame, want 20 ms (%d bytes)", c.Len, 2*a1.InputRate/50)
		}
		for _, b := range c.Data {
			if b != 0 {
				t.Fatal("text mode sent something other than silence")
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.SendText(ctx, v.ID, "typed in text mode"); err != nil {
		t.Fatal(err)
	}
	e.waitSnap("text answered", 10*time.Second, func(s Snapshot) bool {
		return transcriptHas(s, "user", "typed in text mode", true) && transcriptHas(s, "agent", "You wrote", false)
	})
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatalf("End: %v", err)
	}
	c, _ := e.sim.Call(v.ID)
	if c.Ended == nil {
		t.Fatal("End returned but the simulator has the call live")
	}
	if c.EndReason == nil || (*c.EndReason != "hangup" && *c.EndReason != "agent_hangup") {
		t.Errorf("end reason %v, want our hang-up", c.EndReason)
	}
	if s := e.m.Snapshot(); s.LiveCount() != 0 {
		t.Errorf("still live after End: %v", briefCalls(s.Ours))
	}
	if js := e.journalEntries(); len(js) != 0 {
		t.Errorf("journal after a confirmed end: %+v", js)
	}
	if n := e.rec.count(EventConnectionLost); n != 0 {
		t.Errorf("connection lost in text mode: %s", describeEvents(e.rec.all()))
	}
}

// Audio that cannot open keeps the call (text mode), says why in the call's
// AudioError and, once, in an event; the call stays usable for text.
func TestAudioUnavailableTextFallback(t *testing.T) {
	e := newEnv(t, envOpt{audio: &memAudio{openErr: errTestAudio}, settings: func(s *Settings) { s.MediaIdleTimeout = time.Second }})
	v := e.startBilling()
	if !strings.Contains(v.AudioError, "no microphone found") || !strings.Contains(v.AudioError, "text mode") ||
		!strings.Contains(v.AudioError, "billing") {
		t.Fatalf("AudioError = %q", v.AudioError)
	}
	ev := e.waitEvent(EventAudioUnavailable, 5*time.Second)
	t.Logf("event: %s", ev.Message)
	if ev.Call.ID != v.ID || !strings.Contains(ev.Message, "No microphone or speaker") || !strings.Contains(ev.Message, "no microphone found") ||
		!strings.Contains(ev.Message, "billing in text mode") || !strings.Contains(ev.Message, "end it") {
		t.Errorf("event %+v", ev)
	}
	if ev.Kind.String() != "audio unavailable" {
		t.Errorf("kind %q", ev.Kind)
	}
	checkTextMode(t, e, v)
	if n := e.rec.count(EventAudioUnavailable); n != 1 {
		t.Errorf("%d audio-unavailable events, want 1", n)
	}
}

// stuckEnv is an environment whose in-memory audio hangs in Close until
// release (a dead PulseAudio under miniaudio), its microphone still
// delivering meanwhile. release is idempotent; it also runs at cleanup,
// before the environment closes.
func stuckEnv(t *testing.T) (*env, *memAudio, func()) {
	gate := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	audio := &memAudio{closeGate: gate}
	e := newEnv(t, envOpt{audio: audio})
	t.Cleanup(release) // cleanups run last-registered first
	return e, audio, release
}

// checkEndedOnServer fails unless the simulator has the call ended.
func checkEndedOnServer(t *testing.T, e *env, id string) {
	t.Helper()
	sc, ok := e.sim.Call(id)
	if !ok || sc.Ended == nil {
		t.Fatalf("the simulator does not have call %s ended: %+v", shortID(id), sc)
	}
}

// Ending a call never waits for the sound system: with audio whose Close
// hangs, End returns once the server confirms the end, the devices still
// closing; the microphone's frames that keep coming go to a closed socket
// and are dropped.
func TestEndDoesNotWaitForAudioClose(t *testing.T) {
	e, audio, release := stuckEnv(t)
	v := e.startBilling()
	sess := audio.last()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatalf("End with a hanging audio Close: %v", err)
	}
	if !sess.closing.Load() || sess.closed.Load() {
		t.Fatalf("audio Close should have been called and still be hanging: closing=%v closed=%v", sess.closing.Load(), sess.closed.Load())
	}
	checkEndedOnServer(t, e, v.ID)
	if ev := e.waitEvent(EventEnded, 5*time.Second); ev.Call.ID != v.ID {
		t.Fatalf("ended event for another call: %+v", ev)
	}
	if s := e.m.Snapshot(); len(s.Ours) != 0 || e.m.HasLiveCalls() {
		t.Fatalf("calls left after End: %v", briefCalls(s.Ours))
	}
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal still holds %+v", js)
	}

	sess.uplinkDone.Store(true)
	waitFor(t, "microphone frames after the socket closed", 5*time.Second, func() bool { return sess.sentAfterClose.Load() >= 10 })
	release()
	waitFor(t, "audio closed once the sound system answers", 5*time.Second, sess.closed.Load)
}

// EndEverything (quit, sleep, shutdown) does not wait for a hanging audio
// Close either: every call is confirmed ended well within its deadline.
func TestEndEverythingDoesNotWaitForAudioClose(t *testing.T) {
	e, audio, release := stuckEnv(t)
	v := e.startBilling()
	sess := audio.last()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	left := e.m.EndEverything(ctx)
	if len(left) != 0 {
		t.Fatalf("EndEverything left %v unconfirmed", briefCalls(left))
	}
	if ctx.Err() != nil {
		t.Fatal("EndEverything used up its whole deadline")
	}
	if !sess.closing.Load() || sess.closed.Load() {
		t.Fatalf("audio Close should have been called and still be hanging: closing=%v closed=%v", sess.closing.Load(), sess.closed.Load())
	}
	checkEndedOnServer(t, e, v.ID)
	if js := e.journalEntries(); len(js) != 0 {
		t.Fatalf("journal still holds %+v", js)
	}
	if e.m.HasLiveCalls() {
		t.Fatal("live calls after EndEverything")
	}
	release()
	// Manager.Close (at cleanup) waits for the close that is now free to
	// finish; goleak checks that nothing is left.
}

// A device that dies mid-call (the session's Err turns non-nil) shows as
// the call's AudioError and is told once; the call goes on (and bills).
func TestAudioDeviceLostMidCall(t *testing.T) {
	audio := &memAudio{health: true}
	e := newEnv(t, envOpt{audio: audio})
	v := e.startBilling()
	h := audio.lastHealth()
	if h == nil {
		t.Fatal("no audio session opened")
	}
	time.Sleep(audioCheckEvery + 300*time.Millisecond) // a healthy session is polled and says nothing
	if s := e.m.Snapshot(); s.Ours[0].AudioError != "" || e.rec.count(EventAudioLost) != 0 {
		t.Fatalf("audio error with working devices: %q", s.Ours[0].AudioError)
	}

	h.fail(errors.New("voice: the microphone has delivered nothing for 3s (unplugged, or the sound server went away); the call goes on sending silence"))
	s := e.waitSnap("the audio error shown", 5*time.Second, func(s Snapshot) bool { return len(s.Ours) == 1 && s.Ours[0].AudioError != "" })
	c := s.Ours[0]
	t.Logf("AudioError: %q", c.AudioError)
	if !strings.Contains(c.AudioError, "the microphone has delivered nothing") || strings.Contains(c.AudioError, "voice:") ||
		!strings.Contains(c.AudioError, "type messages") {
		t.Fatalf("AudioError = %q", c.AudioError)
	}
	if c.State != CallBilling || s.Overall != OverallBilling {
		t.Fatalf("call %s, overall %s: a lost device must not change what is billing", c.State, s.Overall)
	}
	ev := e.waitEvent(EventAudioLost, 5*time.Second)
	t.Logf("event: %s", ev.Message)
	if ev.Call.ID != v.ID || !strings.Contains(ev.Message, "still billing") || !strings.Contains(ev.Message, "the microphone") ||
		!strings.Contains(ev.Message, "type messages or end it") {
		t.Fatalf("event %+v", ev)
	}
	if ev.Kind.String() != "audio lost" {
		t.Fatalf("EventAudioLost.String() = %q", ev.Kind.String())
	}

	time.Sleep(2*audioCheckEvery + 300*time.Millisecond)
	if n := e.rec.count(EventAudioLost); n != 1 {
		t.Fatalf("%d audio-lost events, want 1", n)
	}
	if sc, ok := e.sim.Call(v.ID); !ok || sc.Ended != nil {
		t.Fatalf("the call should still be live on the server: %+v", sc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.SendText(ctx, v.ID, "typed after the microphone died"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	checkEndedOnServer(t, e, v.ID)
}

// The text-mode pacer sends one second of silence per second of wall time,
// counting the frame sent at once, catches up after a late tick, and starts
// over (one frame) when far behind instead of sending a burst.
func TestSilencePacer(t *testing.T) {
	p := newSilencePacer(16000)
	if p.frameSamples != 320 {
		t.Fatalf("20 ms at 16 kHz = %d samples, want 320", p.frameSamples)
	}
	start := p.start
	p.sent = p.frameSamples // the first frame, sent at once
	steps := []struct {
		at   time.Duration
		want int
	}{
		{20 * time.Millisecond, 0},  // the first frame covers 0-20 ms
		{40 * time.Millisecond, 1},  // on time
		{100 * time.Millisecond, 3}, // late tick: catch up to 100 ms
		{100 * time.Millisecond, 0},
		{290 * time.Millisecond, 9}, // 9 frames behind: within the burst limit
	}
	for _, s := range steps {
		if got := p.framesDue(start.Add(s.at)); got != s.want {
			t.Fatalf("at %v: %d frames due, want %d", s.at, got, s.want)
		}
	}
	// Asleep for a minute: one frame, and the schedule restarts from then.
	woke := start.Add(time.Minute)
	if got := p.framesDue(woke); got != 1 {
		t.Fatalf("after a minute asleep: %d frames due, want 1", got)
	}
	if got := p.framesDue(woke.Add(40 * time.Millisecond)); got != 1 {
		t.Fatalf("40 ms after the restart: %d frames due, want 1", got)
	}
	if p := newSilencePacer(10); p.frameSamples != 1 {
		t.Fatalf("a rate too low for one sample a frame gives %d samples", p.frameSamples)
	}
}
