package ultravox_test

// Integration tests against the Ultravox simulator (app/simulator/simtest),
// which validates every request and response against the schema and fails
// the test on any violation. They live in the external test package so that
// app/ultravox never imports the simulator.

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

const simRate = 16000

func simClient(t *testing.T, sim *simulator.Server, mod ...func(*ultravox.Options)) *ultravox.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	o := ultravox.Options{BaseURL: sim.URL(), APIKey: sim.APIKey(), Version: "9.9.9",
		HTTPClient: &http.Client{Transport: tr}, RequestTimeout: 3 * time.Second}
	for _, f := range mod {
		f(&o)
	}
	c, err := ultravox.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wsRequest(rid string) ultravox.StartAgentCallRequest {
	return ultravox.StartAgentCallRequest{
		Metadata:    map[string]string{ultravox.MetaRequestID: rid, ultravox.MetaApp: "ultravox-tray/9.9.9"},
		Medium:      &ultravox.CallMedium{ServerWebSocket: &ultravox.ServerWebSocketMedium{InputSampleRate: simRate, OutputSampleRate: simRate, ClientBufferSizeMs: 30000, MediaIdleTimeout: ultravox.Seconds(30).Ptr()}},
		MaxDuration: ultravox.Seconds(240).Ptr(),
		JoinTimeout: ultravox.Seconds(15).Ptr(),
	}
}

// tone is d of a 440 Hz sine at amplitude amp, s16le mono.
func tone(d time.Duration, amp float64) []byte {
	n := int(d.Seconds() * simRate)
	b := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := int16(amp * math.Sin(2*math.Pi*440*float64(i)/simRate))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// waitFor reads the socket until match returns true.
func waitFor(t *testing.T, ctx context.Context, s *ultravox.CallSocket, what string, match func(ultravox.Incoming) bool) ultravox.Incoming {
	t.Helper()
	for {
		it, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(it) {
			return it
		}
	}
}

func waitEnded(t *testing.T, ctx context.Context, c *ultravox.Client, id string, settled bool) *ultravox.Call {
	t.Helper()
	for {
		call, err := c.GetCall(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if call.Ended != nil && (!settled || ultravox.BillingSettled(call.BillingStatus)) {
			return call
		}
		select {
		case <-ctx.Done():
			t.Fatalf("call %s never ended (settled=%v): %+v", id, settled, call)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestSimConversation drives one whole call through the client and the
// socket: create, join, greeting, speech and reply, ping, REST hang_up,
// settle, messages, delete.
func TestSimConversation(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, func(o *simulator.Options) { o.SettleDelay = 200 * time.Millisecond })
	c := simClient(t, sim)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	acct, err := c.GetAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if acct.ActiveCalls != 0 || acct.FreeTimeRemaining.Std() != 30*time.Minute {
		t.Fatalf("fresh account %+v", acct)
	}
	agents, err := c.ListAgents(ctx)
	if err != nil || len(agents) < 1 {
		t.Fatalf("agents %v %v", agents, err)
	}
	if a, err := c.GetAgent(ctx, agents[0].AgentID); err != nil || a.Name != agents[0].Name {
		t.Fatalf("GetAgent %v %v", a, err)
	}

	rid := uuid.NewString()
	call, err := c.CreateAgentCall(ctx, agents[0].AgentID, wsRequest(rid))
	if err != nil {
		t.Fatal(err)
	}
	if call.JoinURL == nil || call.RequestID() != rid || call.MaxDuration != ultravox.Seconds(240) || call.JoinTimeout != ultravox.Seconds(15) ||
		call.Joined != nil || !call.Live() || call.Medium == nil || call.Medium.ServerWebSocket == nil || call.Medium.ServerWebSocket.InputSampleRate != simRate ||
		call.Agent == nil || call.Agent.AgentID != agents[0].AgentID || call.BillingStatus != ultravox.BillingStatusPending {
		t.Fatalf("created call %+v", call)
	}
	if err := c.HangUp(ctx, call.CallID, "too early"); !ultravox.IsNotActive(err) {
		t.Fatalf("hang_up before join: %v, want not active", err)
	}

	s, err := ultravox.Join(ctx, *call.JoinURL, ultravox.JoinOptions{Version: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	started := waitFor(t, ctx, s, "call_started", func(it ultravox.Incoming) bool { _, ok := it.(ultravox.CallStarted); return ok })
	if started.(ultravox.CallStarted).CallID != call.CallID {
		t.Fatalf("call_started for %s", started.(ultravox.CallStarted).CallID)
	}
	agentAudio := 0
	waitFor(t, ctx, s, "greeting", func(it ultravox.Incoming) bool {
		switch v := it.(type) {
		case ultravox.Audio:
			agentAudio += len(v)
		case ultravox.Transcript:
			return v.Role == "agent" && v.Final
		}
		return false
	})
	if agentAudio == 0 {
		t.Fatal("no agent audio before the greeting's final transcript")
	}
	joined, err := c.GetCall(ctx, call.CallID)
	if err != nil || !joined.Billing() || joined.ClientVersion == nil || *joined.ClientVersion != "ultravox-tray_9.9.9" {
		t.Fatalf("joined call %+v %v", joined, err)
	}

	// Speak 1.2 s then 1 s of silence, in 20 ms frames at 50 Hz.
	pcm := append(tone(1200*time.Millisecond, 8000), make([]byte, 2*simRate)...)
	frame := 2 * simRate / 50
	sent := make(chan error, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for off := 0; off < len(pcm); off += frame {
			<-tick.C
			if err := s.SendAudio(pcm[off : off+frame]); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	reply := waitFor(t, ctx, s, "the reply", func(it ultravox.Incoming) bool {
		tr, ok := it.(ultravox.Transcript)
		return ok && tr.Role == "agent" && tr.Final && tr.Text != nil && strings.Contains(*tr.Text, "heard")
	})
	if txt := *reply.(ultravox.Transcript).Text; !strings.Contains(txt, "1.2 seconds") {
		t.Errorf("reply %q, want it to say it heard 1.2 seconds", txt)
	}
	if err := <-sent; err != nil {
		t.Fatalf("SendAudio: %v", err)
	}

	if err := s.Ping(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, s, "pong", func(it ultravox.Incoming) bool { _, ok := it.(ultravox.Pong); return ok })
	if s.RTT() <= 0 {
		t.Errorf("RTT = %v after a pong", s.RTT())
	}

	// End from REST, as the tray does for calls it cannot reach by socket.
	if err := c.HangUp(ctx, call.CallID, "Goodbye"); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("socket end after hang_up: %v", err)
		}
	}
	if code, _ := s.CloseStatus(); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
	ended := waitEnded(t, ctx, c, call.CallID, true)
	if ended.EndReasonString() != ultravox.EndReasonAgentHangup || ended.BilledDuration == nil ||
		ended.BilledDuration.Std()%(6*time.Second) != 0 || ended.BilledDuration.Std() < ended.Ended.Sub(*ended.Joined) {
		t.Fatalf("ended call: reason %q billed %v (joined %v ended %v)", ended.EndReasonString(), ended.BilledDuration, ended.Joined, ended.Ended)
	}
	if ended.BillingStatus != ultravox.BillingStatusFreeMinutes {
		t.Errorf("billing status %s, want free minutes on a fresh account", ended.BillingStatus)
	}
	audio, _ := sim.CallAudio(call.CallID)
	if audio.ReceivedBytes() != len(pcm) {
		t.Errorf("simulator received %d bytes of our audio, want %d", audio.ReceivedBytes(), len(pcm))
	}

	msgs, err := c.ListMessages(ctx, call.CallID)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("messages %v %v", msgs, err)
	}
	if _, err := c.BillingUsage(ctx, time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteCall(ctx, call.CallID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCall(ctx, call.CallID); !ultravox.IsNotFound(err) {
		t.Fatalf("GetCall after delete: %v", err)
	}
	if _, err := ultravox.Join(ctx, *call.JoinURL, ultravox.JoinOptions{}); !ultravox.IsNotActive(err) && !ultravox.IsNotFound(err) {
		t.Fatalf("joining an ended call: %v", err)
	}
}

// TestSimCreateRecovery is the create-retry rule against the simulator's
// fault controls: a failure after the server created the call still leaves
// exactly one call, and the client returns it.
func TestSimCreateRecovery(t *testing.T) {
	t.Parallel()
	faults := map[string]func(*simulator.Server){
		"connection cut after create": func(s *simulator.Server) { s.CutNext(1) },
		"500 after create":            func(s *simulator.Server) { s.FailNextAfterHandling(1, 500) },
		"503 after create":            func(s *simulator.Server) { s.FailNextAfterHandling(1, 503) },
		"broken JSON after create":    func(s *simulator.Server) { s.Malformed(1) },
		"429 before create":           func(s *simulator.Server) { s.FailNext(1, 429) },
		"502 before create":           func(s *simulator.Server) { s.FailNext(1, 502) },
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false })
			c := simClient(t, sim)
			agent := sim.Agents()[0]
			fault(sim)
			rid := uuid.NewString()
			call, err := c.CreateAgentCall(context.Background(), agent.AgentID, wsRequest(rid))
			if err != nil {
				t.Fatal(err)
			}
			var ours []simulator.Call
			for _, x := range sim.Calls() {
				if x.Metadata[ultravox.MetaRequestID] == rid {
					ours = append(ours, x)
				}
			}
			if len(ours) != 1 || ours[0].CallID != call.CallID {
				t.Fatalf("simulator holds %d calls for one create (client got %s)", len(ours), call.CallID)
			}
		})
	}
}

func TestSimErrors(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false; o.MaxConcurrent = 2 })
	c := simClient(t, sim, func(o *ultravox.Options) { o.MaxRetries = -1 })
	ctx := context.Background()
	agent := sim.Agents()[0]

	if _, err := c.GetCall(ctx, uuid.NewString()); !ultravox.IsNotFound(err) || !strings.Contains(err.Error(), "not found (404)") {
		t.Errorf("unknown call: %v", err)
	}

	// The concurrency cap: a third live call gets 429 with Retry-After.
	for i := 0; i < 2; i++ {
		if _, err := c.CreateAgentCall(ctx, agent.AgentID, wsRequest(uuid.NewString())); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateAgentCall(ctx, agent.AgentID, wsRequest(uuid.NewString()))
	if !ultravox.IsRateLimited(err) || ultravox.RetryAfter(err) <= 0 {
		t.Errorf("over the cap: %v (retry after %v)", err, ultravox.RetryAfter(err))
	}
	if n := len(sim.Calls()); n != 2 {
		t.Errorf("%d calls exist after a refused create", n)
	}

	sim.SetUnauthorized(true)
	_, err = c.GetAccount(ctx)
	if !ultravox.IsUnauthorized(err) || !strings.HasPrefix(err.Error(), "get account: API key rejected (401)") {
		t.Errorf("401: %v", err)
	}
	sim.SetUnauthorized(false)

	sim.Malformed(1)
	if _, err := c.GetAccount(ctx); !ultravox.IsMalformed(err) {
		t.Errorf("malformed: %v", err)
	}

	// Last: the simulator stays unresponsive until it closes (a request
	// released while its client is gone would race with later faults).
	sim.SetUnresponsive(true)
	fast := simClient(t, sim, func(o *ultravox.Options) { o.RequestTimeout = 200 * time.Millisecond; o.MaxRetries = 1 })
	start := time.Now()
	_, err = fast.GetAccount(ctx)
	if !ultravox.IsTimeout(err) || time.Since(start) > 3*time.Second {
		t.Errorf("unresponsive: %v after %v", err, time.Since(start))
	}
}

func TestSimSocketEnds(t *testing.T) {
	t.Parallel()
	t.Run("dropped connection", func(t *testing.T) {
		sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false; o.SettleDelay = -1 })
		c := simClient(t, sim)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		call, err := c.CreateAgentCall(ctx, sim.Agents()[0].AgentID, wsRequest(uuid.NewString()))
		if err != nil {
			t.Fatal(err)
		}
		s, err := ultravox.Join(ctx, *call.JoinURL, ultravox.JoinOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		waitFor(t, ctx, s, "call_started", func(it ultravox.Incoming) bool { _, ok := it.(ultravox.CallStarted); return ok })
		sim.DropSockets()
		for {
			_, err := s.Next(ctx)
			if err == nil {
				continue
			}
			if err == io.EOF {
				t.Fatal("a dropped connection reads as a normal end")
			}
			break
		}
		if code, reason := s.CloseStatus(); code != 1006 || reason != "connection lost" {
			t.Errorf("close status %d %q", code, reason)
		}
		if got := waitEnded(t, ctx, c, call.CallID, false); got.EndReasonString() != ultravox.EndReasonHangup {
			t.Errorf("end reason %q", got.EndReasonString())
		}
	})
	t.Run("server failure code", func(t *testing.T) {
		sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false })
		c := simClient(t, sim)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		call, err := c.CreateAgentCall(ctx, sim.Agents()[0].AgentID, wsRequest(uuid.NewString()))
		if err != nil {
			t.Fatal(err)
		}
		s, err := ultravox.Join(ctx, *call.JoinURL, ultravox.JoinOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		waitFor(t, ctx, s, "call_started", func(it ultravox.Incoming) bool { _, ok := it.(ultravox.CallStarted); return ok })
		if err := sim.ForceEnd(call.CallID, ultravox.EndReasonConnectionError); err != nil {
			t.Fatal(err)
		}
		var ce *ultravox.CloseError
		for {
			_, err := s.Next(ctx)
			if err == nil {
				continue
			}
			if !errors.As(err, &ce) || ce.Code < 4000 {
				t.Fatalf("end: %v", err)
			}
			break
		}
	})
	t.Run("client close is a hangup", func(t *testing.T) {
		sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false })
		c := simClient(t, sim)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		call, err := c.CreateAgentCall(ctx, sim.Agents()[0].AgentID, wsRequest(uuid.NewString()))
		if err != nil {
			t.Fatal(err)
		}
		s, err := ultravox.Join(ctx, *call.JoinURL, ultravox.JoinOptions{})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, s, "call_started", func(it ultravox.Incoming) bool { _, ok := it.(ultravox.CallStarted); return ok })
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := waitEnded(t, ctx, c, call.CallID, false); got.EndReasonString() != ultravox.EndReasonHangup {
			t.Errorf("end reason %q", got.EndReasonString())
		}
	})
}

func TestSimPaginationAndLookup(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false; o.MaxConcurrent = -1 })
	c := simClient(t, sim)
	ctx := context.Background()
	agent := sim.Agents()[0]
	var ids []string
	for i := 0; i < 7; i++ {
		id, err := sim.StartCallElsewhere(agent.AgentID, false, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rid := uuid.NewString()
	mine, err := c.CreateAgentCall(ctx, agent.AgentID, wsRequest(rid))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for call, err := range c.Calls(ctx, ultravox.ListCallsParams{Sort: "-created", PageSize: 3, FromDate: time.Now().Add(-time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, call.CallID)
	}
	if len(got) != 8 || got[0] != mine.CallID {
		t.Fatalf("listed %d calls, first %v; want 8 with ours first", len(got), got)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("call %s listed twice", id)
		}
		seen[id] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("call %s missing from the list", id)
		}
	}
	found, err := c.FindCallByMetadata(ctx, ultravox.MetaRequestID, rid, time.Now().Add(-time.Hour))
	if err != nil || found == nil || found.CallID != mine.CallID {
		t.Fatalf("FindCallByMetadata: %v %v", found, err)
	}
	none, err := c.FindCallByMetadata(ctx, ultravox.MetaRequestID, "nobody", time.Now().Add(-time.Hour))
	if err != nil || none != nil {
		t.Fatalf("FindCallByMetadata for nobody: %v %v", none, err)
	}
}

// TestSimAdHocCallWithText creates an ad-hoc call with most request fields
// set (the simulator validates the body against the schema), talks to it in
// text over the socket and over REST, and hangs up over the socket.
func TestSimAdHocCallWithText(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false; o.SettleDelay = -1 })
	c := simClient(t, sim)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	temp := 0.3
	rec := false
	rid := uuid.NewString()
	call, err := c.CreateCall(ctx, ultravox.StartCallRequest{
		SystemPrompt:        "You are a test agent.",
		Temperature:         &temp,
		Voice:               "Mark",
		LanguageHint:        "en",
		JoinTimeout:         ultravox.Seconds(10).Ptr(),
		MaxDuration:         ultravox.DurationOf(90500 * time.Millisecond).Ptr(),
		TimeExceededMessage: "Time is up, goodbye.",
		InactivityMessages:  []ultravox.TimedMessage{{Duration: ultravox.Seconds(20).Ptr(), Message: "Are you there?"}},
		Medium:              &ultravox.CallMedium{ServerWebSocket: &ultravox.ServerWebSocketMedium{InputSampleRate: simRate}},
		RecordingEnabled:    &rec,
		FirstSpeakerSettings: &ultravox.FirstSpeakerSettings{User: &ultravox.UserGreeting{
			Fallback: &ultravox.FallbackAgentGreeting{Delay: ultravox.Seconds(5).Ptr(), Text: "Hello?"}}},
		Metadata: map[string]string{ultravox.MetaRequestID: rid, ultravox.MetaDevice: "test-host", ultravox.MetaSession: "s1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if call.MaxDuration.Std() != 90500*time.Millisecond || call.TimeExceededMessage == nil || *call.TimeExceededMessage != "Time is up, goodbye." ||
		call.Metadata[ultravox.MetaDevice] != "test-host" {
		t.Fatalf("created %+v", call)
	}
	s, err := ultravox.Join(ctx, *call.JoinURL, ultravox.JoinOptions{Version: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitFor(t, ctx, s, "call_started", func(it ultravox.Incoming) bool { _, ok := it.(ultravox.CallStarted); return ok })
	agentFinal := func(sub string) func(ultravox.Incoming) bool {
		return func(it ultravox.Incoming) bool {
			tr, ok := it.(ultravox.Transcript)
			return ok && tr.Role == "agent" && tr.Final && tr.Text != nil && strings.Contains(*tr.Text, sub)
		}
	}
	if err := s.SendText("over the socket"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, s, "reply to socket text", agentFinal("over the socket"))
	if err := c.SendDataMessage(ctx, call.CallID, map[string]string{"type": "user_text_message", "text": "over REST"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, s, "reply to REST text", agentFinal("over REST"))

	// The metadata filter is accepted by the schema and finds the call.
	page, err := c.ListCalls(ctx, ultravox.ListCallsParams{Sort: "-created", PageSize: 10, FromDate: time.Now().Add(-time.Minute),
		Metadata: map[string]string{ultravox.MetaSession: "s1"}})
	if err != nil || len(page.Results) == 0 || page.Results[0].CallID != call.CallID {
		t.Fatalf("list by metadata: %v %v", page, err)
	}

	if err := s.HangUp("bye"); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := s.Next(ctx); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("after socket hang_up: %v", err)
		}
	}
	ended := waitEnded(t, ctx, c, call.CallID, true)
	if ended.EndReasonString() != ultravox.EndReasonAgentHangup || !ultravox.BillingSettled(ended.BillingStatus) {
		t.Fatalf("ended %q %s", ended.EndReasonString(), ended.BillingStatus)
	}
	if err := c.HangUp(ctx, call.CallID, "again"); !ultravox.IsNotActive(err) {
		t.Fatalf("hang_up after the end: %v", err)
	}
}
