package calls

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// endAndSettle ends our call v and waits until the history holds it billed.
func (e *env) endAndSettle(v CallView) HistoryEntry {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		e.t.Fatalf("End: %v", err)
	}
	s := e.waitSnap("call billed in history", 15*time.Second, func(s Snapshot) bool {
		h, ok := s.Finished(v.ID)
		return ok && h.BillingStatus == ultravox.BillingStatusBilled
	})
	h, _ := s.Finished(v.ID)
	return h
}

// A finished call is reviewed from the service's records (all pages of its
// messages), continued with priorCallId under the usual guards, and counted
// in the usage per day.
func TestReviewContinueAndUsage(t *testing.T) {
	e := newEnv(t, envOpt{settings: func(s *Settings) { s.RecordCalls = map[string]bool{} }})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v := e.startBilling()
	for i := range 3 {
		if err := e.m.SendText(ctx, v.ID, "question "+string(rune('A'+i))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(e.sim.Messages(v.ID)) < 4 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	e.endAndSettle(v)
	want := e.sim.Messages(v.ID)
	if len(want) < 4 {
		t.Fatalf("the simulator recorded only %d messages", len(want))
	}

	r, err := e.m.Review(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Messages) != len(want) {
		t.Fatalf("review has %d messages, the simulator %d", len(r.Messages), len(want))
	}
	for i, m := range r.Messages {
		if m.Role != want[i].Role || m.Text != want[i].Text {
			t.Errorf("message %d: %s %q, simulator %s %q", i, m.Role, m.Text, want[i].Role, want[i].Text)
		}
	}
	if r.Call.CallID != v.ID || r.Call.Summary == nil || r.Call.BilledDuration == nil {
		t.Errorf("review call %+v", r.Call)
	}
	// No recording was asked for: the service has none.
	if _, err := e.m.Recording(ctx, v.ID, &bytes.Buffer{}); !ultravox.IsNotFound(err) {
		t.Errorf("recording of an unrecorded call: %v", err)
	}

	// Continue: a new call with priorCallId, our limits, journaled, billed.
	next, err := e.m.Continue(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.sim.PriorCallID(next.ID) != v.ID {
		t.Fatalf("the simulator saw prior call %q, want %s", e.sim.PriorCallID(next.ID), v.ID)
	}
	posts := e.sim.RequestsTo("POST", "/api/calls")
	last := posts[len(posts)-1]
	if last.Query.Get("priorCallId") != v.ID || !strings.Contains(string(last.Body), `"maxDuration":"120s"`) || !strings.Contains(string(last.Body), `"joinTimeout":"5s"`) || !strings.Contains(string(last.Body), "serverWebSocket") {
		t.Errorf("continue request %s %s", last.Query.Encode(), last.Body)
	}
	if js := e.journalEntries(); len(js) != 1 || js[0].CallID != next.ID {
		t.Errorf("journal of the continued call: %+v", js)
	}
	if got := e.sim.Messages(next.ID); len(got) < len(want) || got[0].Text != want[0].Text {
		t.Errorf("the continued call starts with %d messages, want the prior %d first", len(got), len(want))
	}
	e.waitSnap("continued call billing", 10*time.Second, func(s Snapshot) bool {
		c, ok := s.Call(next.ID)
		return ok && c.State == CallBilling
	})
	h := e.endAndSettle(next)
	if h.BilledDuration <= 0 {
		t.Errorf("continued call billed %v", h.BilledDuration)
	}

	// Usage: 30 days, today holds both calls' billed minutes.
	u, err := e.m.Usage(ctx, UsageDays)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Days) != UsageDays || !u.Days[len(u.Days)-1].Day.Equal(time.Now().UTC().Truncate(24*time.Hour)) {
		t.Fatalf("usage days: %d, last %v", len(u.Days), u.Days[len(u.Days)-1].Day)
	}
	var billed float64
	for _, c := range e.sim.Calls() {
		if c.BillingStatus == simulator.BillingBilled && c.BilledDuration != nil {
			d, err := ultravox.ParseDuration(*c.BilledDuration)
			if err != nil {
				t.Fatal(err)
			}
			billed += d.Std().Minutes()
		}
	}
	if got := u.Days[len(u.Days)-1].Minutes; got < billed-1e-9 || got > billed+1e-9 || billed == 0 {
		t.Errorf("today's usage %.3f min, the simulator billed %.3f", got, billed)
	}
}

// With "Record calls" on for the agent the call is created with
// recordingEnabled; the recording is fetched through the storage redirect
// without the API key. A text call is created with text output and joined
// without audio.
func TestRecordingRedirectAndTextCall(t *testing.T) {
	e := newEnv(t, envOpt{})
	agent := e.sim.Agents()[0].AgentID
	s := e.m.Settings()
	s.RecordCalls = map[string]bool{agent: true}
	if err := e.m.ApplySettings(s); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetRecordingRedirect(true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := e.m.StartText(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.AudioError, "text call") {
		t.Errorf("text call audio note %q", v.AudioError)
	}
	body := string(e.sim.RequestsTo("POST", "/api/agents/")[0].Body)
	if !strings.Contains(body, `"recordingEnabled":true`) || !strings.Contains(body, `"initialOutputMedium":"MESSAGE_MEDIUM_TEXT"`) {
		t.Errorf("create body %s", body)
	}
	e.waitSnap("text call billing", 10*time.Second, func(s Snapshot) bool {
		c, ok := s.Call(v.ID)
		return ok && c.State == CallBilling
	})
	time.Sleep(1500 * time.Millisecond)
	e.endAndSettle(v)
	var wav bytes.Buffer
	n, err := e.m.Recording(ctx, v.ID, &wav)
	if err != nil {
		t.Fatal(err)
	}
	if n < 44 || !bytes.HasPrefix(wav.Bytes(), []byte("RIFF")) {
		t.Fatalf("recording: %d bytes %q", n, wav.Bytes()[:min(12, wav.Len())])
	}
	st := e.sim.StorageRequests()
	if len(st) != 1 || st[0].HadAPIKey || st[0].Status != 200 {
		t.Errorf("storage requests %+v", st)
	}
}

// A recording plays through the calls' speaker with the microphone muted,
// at real time, all of it; Stop ends it at once; while a call is live the
// speaker is the call's.
func TestPlayRecording(t *testing.T) {
	audio := &memAudio{}
	e := newEnv(t, envOpt{audio: audio})
	s := e.m.Settings()
	s.RecordCalls = map[string]bool{e.sim.Agents()[0].AgentID: true}
	if err := e.m.ApplySettings(s); err != nil {
		t.Fatal(err)
	}
	v := e.startBilling()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.m.PlayRecording(ctx, v.ID, func(error) {}); err == nil || !strings.Contains(err.Error(), "a call is using the speaker") {
		t.Fatalf("play during a call: %v", err)
	}
	time.Sleep(time.Second)
	e.endAndSettle(v)
	var wav bytes.Buffer
	if _, err := e.m.Recording(ctx, v.ID, &wav); err != nil {
		t.Fatal(err)
	}
	pcm, rate, err := wavPCM(wav.Bytes())
	if err != nil || rate != 16000 || len(pcm) < 16000 {
		t.Fatalf("recording: %d bytes at %d Hz, %v", len(pcm), rate, err)
	}
	done := make(chan error, 1)
	began := time.Now()
	if _, err := e.m.PlayRecording(ctx, v.ID, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	sess := audio.last()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	wantDur := time.Duration(len(pcm)) * time.Second / time.Duration(2*rate)
	if got := sess.played.Load(); got != int64(len(pcm)) || !sess.micMuted.Load() || !sess.closed.Load() || took < wantDur-200*time.Millisecond {
		t.Errorf("played %d of %d bytes in %v (recording %v), mic muted %v, closed %v", got, len(pcm), took, wantDur, sess.micMuted.Load(), sess.closed.Load())
	}
	stop, err := e.m.PlayRecording(ctx, v.ID, func(err error) { done <- err })
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil || audio.last().clears.Load() == 0 || audio.last().played.Load() >= int64(len(pcm)) {
		t.Errorf("stopped playback: %v, clears %d, played %d", err, audio.last().clears.Load(), audio.last().played.Load())
	}
}
