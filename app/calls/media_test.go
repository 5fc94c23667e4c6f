package calls

import (
	"context"
	"strings"
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
	if !sess.closed.Load() {
		t.Fatal("audio not closed after End")
	}
}

// No audio at all for mediaIdleTimeout: the server ends the call and the
// manager says the connection failed. With the 50 Hz pump it stays up.
func TestMediaIdleTimeout(t *testing.T) {
	t.Run("no audio", func(t *testing.T) {
		e := newEnv(t, envOpt{settings: func(s *Settings) { s.MediaIdleTimeout = time.Second }})
		v := e.startBilling()
		ev := e.waitEvent(EventConnectionLost, 10*time.Second)
		if ev.Call.ID != v.ID || ev.Call.EndReason != "connection_error" || !strings.Contains(ev.Message, "no audio") {
			t.Fatalf("event %+v", ev)
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
}

// Audio that cannot open keeps the call (text fallback) and says why.
func TestAudioUnavailableTextFallback(t *testing.T) {
	e := newEnv(t, envOpt{audio: &memAudio{openErr: errTestAudio}})
	v := e.startBilling()
	if !strings.Contains(v.AudioError, "no microphone found") {
		t.Fatalf("AudioError = %q", v.AudioError)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.SendText(ctx, v.ID, "typed instead"); err != nil {
		t.Fatal(err)
	}
	e.waitSnap("text answered", 10*time.Second, func(s Snapshot) bool { return transcriptHas(s, "agent", "You wrote", false) })
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
}
