package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator/contract"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// smoke is one run: the client (through a schema-checking transport), the
// call it created, and what it measured.
type smoke struct {
	cfg    config
	out    io.Writer
	client *ultravox.Client
	check  *checker

	agentID, agentName string
	callID, joinURL    string
	sock               *ultravox.CallSocket
	ended              bool
	final              *ultravox.Call
	frames, audioIn    atomic.Int64
	tools              atomic.Int64
}

// checker validates every REST answer against the schema and keeps the
// violations; it never sees more of a request than the validator needs.
type checker struct {
	next http.RoundTripper
	v    *contract.Validator

	mu         sync.Mutex
	violations []string
}

func (c *checker) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil // the client reports the short read itself
	}
	// The validator routes by path, as a server sees the request.
	vr := r.Clone(r.Context())
	vr.URL.Scheme, vr.URL.Host, vr.Host = "", "", ""
	for _, x := range c.v.CheckResponse(vr, reqBody, resp.StatusCode, resp.Header, body) {
		c.mu.Lock()
		c.violations = append(c.violations, x.String())
		c.mu.Unlock()
	}
	return resp, nil
}

func (c *checker) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.violations...)
}

func newSmoke(cfg config, key string, out io.Writer) (*smoke, error) {
	v, err := contract.New()
	if err != nil {
		return nil, err
	}
	ck := &checker{next: http.DefaultTransport.(*http.Transport).Clone(), v: v}
	client, err := ultravox.NewClient(ultravox.Options{BaseURL: cfg.baseURL, APIKey: key, Version: cfg.version,
		HTTPClient: &http.Client{Transport: ck}, RequestTimeout: 15 * time.Second})
	if err != nil {
		return nil, err
	}
	return &smoke{cfg: cfg, out: out, client: client, check: ck}, nil
}

// step runs f, timing it, and prints one line: name, round trip, what f
// said (or its error).
func (s *smoke) step(name string, f func() (string, error)) error {
	start := time.Now()
	what, err := f()
	took := fmt.Sprintf("%.1f ms", float64(time.Since(start).Microseconds())/1000)
	if err != nil {
		fmt.Fprintf(s.out, "  FAIL %-28s %10s  %v\n", name, took, err)
		return errStep
	}
	fmt.Fprintf(s.out, "  ok   %-28s %10s  %s\n", name, took, what)
	return nil
}

// run does the steps; the call it created is ended whatever happens.
func (s *smoke) run(ctx context.Context) bool {
	fmt.Fprintf(s.out, "\n  step                              round trip  result\n")
	defer s.cleanup()
	steps := []struct {
		name string
		f    func(context.Context) (string, error)
	}{
		{"GET /api/accounts/me", s.account},
		{"choose agent", s.chooseAgent},
		{"create call", s.create},
		{"join call socket", s.join},
		{"call_started", s.started},
		{"send silence", s.talk},
		{"hang_up (socket)", s.hangUp},
		{"call ended", s.waitEnded},
		{"billing settled", s.waitSettled},
	}
	for _, st := range steps {
		if err := s.step(st.name, func() (string, error) { return st.f(ctx) }); err != nil {
			return false
		}
	}
	return true
}

func (s *smoke) account(ctx context.Context) (string, error) {
	a, err := s.client.GetAccount(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("account %q, %d active calls, free time left %s", a.Name, a.ActiveCalls, a.FreeTimeRemaining.Std()), nil
}

func (s *smoke) chooseAgent(ctx context.Context) (string, error) {
	if s.cfg.agentID != "" {
		a, err := s.client.GetAgent(ctx, s.cfg.agentID)
		if err != nil {
			return "", err
		}
		s.agentID, s.agentName = a.AgentID, a.Name
		return fmt.Sprintf("%s (%s)", a.Name, a.AgentID), nil
	}
	agents, err := s.client.ListAgents(ctx)
	if err != nil {
		return "", err
	}
	if len(agents) == 0 {
		return "", fmt.Errorf("the account has no agents: create one in the Ultravox console, or pass --agent")
	}
	s.agentID, s.agentName = agents[0].AgentID, agents[0].Name
	return fmt.Sprintf("%s (%s), first of %d", s.agentName, s.agentID, len(agents)), nil
}

func (s *smoke) create(ctx context.Context) (string, error) {
	req := ultravox.StartAgentCallRequest{
		Metadata: map[string]string{ultravox.MetaRequestID: newRequestID(), ultravox.MetaApp: "ultravox-smoke/" + s.cfg.version},
		Medium: &ultravox.CallMedium{ServerWebSocket: &ultravox.ServerWebSocketMedium{
			InputSampleRate: sampleRate, OutputSampleRate: sampleRate, ClientBufferSizeMs: 1000}},
		MaxDuration: ultravox.DurationOf(maxDuration).Ptr(),
		JoinTimeout: ultravox.DurationOf(joinTimeout).Ptr(),
	}
	call, err := s.client.CreateAgentCall(ctx, s.agentID, req)
	if err != nil {
		return "", err
	}
	s.callID = call.CallID
	if call.JoinURL == nil || *call.JoinURL == "" {
		return "", fmt.Errorf("call %s was created without a joinUrl", call.CallID)
	}
	s.joinURL = *call.JoinURL
	return fmt.Sprintf("call %s, maxDuration %s", call.CallID, call.MaxDuration.Std()), nil
}

func (s *smoke) join(ctx context.Context) (string, error) {
	jctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	sock, err := ultravox.Join(jctx, s.joinURL, ultravox.JoinOptions{Version: s.cfg.version})
	if err != nil {
		return "", err
	}
	s.sock = sock
	return "joined (billing from now)", nil
}

// started waits for call_started, then reads the socket in the background:
// audio is counted, client tools are answered at once.
func (s *smoke) started(ctx context.Context) (string, error) {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		it, err := s.sock.Next(wctx)
		if err != nil {
			return "", fmt.Errorf("no call_started: %w", err)
		}
		if cs, ok := it.(ultravox.CallStarted); ok {
			go s.read()
			return "call " + cs.CallID, nil
		}
		s.handle(it)
	}
}

func (s *smoke) read() {
	for {
		it, err := s.sock.Next(context.Background())
		if err != nil {
			return
		}
		s.handle(it)
	}
}

func (s *smoke) handle(it ultravox.Incoming) {
	switch x := it.(type) {
	case ultravox.Audio:
		s.audioIn.Add(int64(len(x)))
	case ultravox.ClientToolInvocation:
		s.tools.Add(1)
		_ = s.sock.SendToolResult(ultravox.ClientToolResult{InvocationID: x.InvocationID, ErrorType: ultravox.ToolErrorUndefined,
			ErrorMessage: "ultravox-smoke implements no client tools"})
	}
}

// talk sends 20 ms frames of silence, paced in real time, for talkFor.
func (s *smoke) talk(ctx context.Context) (string, error) {
	frame := make([]byte, 2*sampleRate/50)
	start := time.Now()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for time.Since(start) < talkFor {
		if err := s.sock.SendAudio(frame); err != nil && err != ultravox.ErrAudioBacklog {
			return "", err
		}
		s.frames.Add(1)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
		}
	}
	return fmt.Sprintf("%d frames sent, %.1f s of agent audio received", s.frames.Load(), float64(s.audioIn.Load())/2/sampleRate), nil
}

func (s *smoke) hangUp(ctx context.Context) (string, error) {
	if err := s.sock.HangUp("ultravox-smoke is done"); err != nil {
		return "", err
	}
	select {
	case <-s.sock.Done():
	case <-time.After(endWait):
		return "", fmt.Errorf("the server did not close the socket within %s of hang_up", endWait)
	case <-ctx.Done():
		return "", ctx.Err()
	}
	code, reason := s.sock.CloseStatus()
	return fmt.Sprintf("socket closed by the server: %d %q", code, reason), nil
}

func (s *smoke) waitEnded(ctx context.Context) (string, error) {
	c, err := s.poll(ctx, endWait, func(c *ultravox.Call) bool { return c.Ended != nil })
	if err != nil {
		return "", err
	}
	s.ended = true
	return fmt.Sprintf("endReason %s", c.EndReasonString()), nil
}

func (s *smoke) waitSettled(ctx context.Context) (string, error) {
	c, err := s.poll(ctx, settleWait, func(c *ultravox.Call) bool { return ultravox.BillingSettled(c.BillingStatus) })
	if err != nil {
		return "", err
	}
	s.final = c
	return c.BillingStatus, nil
}

// poll GETs the call until done holds or limit passes.
func (s *smoke) poll(ctx context.Context, limit time.Duration, done func(*ultravox.Call) bool) (*ultravox.Call, error) {
	deadline := time.Now().Add(limit)
	delay := 200 * time.Millisecond
	for {
		c, err := s.client.GetCall(ctx, s.callID)
		if err == nil && done(c) {
			return c, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("not within %s (billingStatus %s, ended %v)", limit, c.BillingStatus, c.Ended != nil)
		}
		if !sleepCtx(ctx, delay) {
			return nil, ctx.Err()
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// cleanup ends the call if a step failed before it ended: the socket is
// closed, then hang_up over REST, then GET until ended.
func (s *smoke) cleanup() {
	if s.callID == "" || s.ended {
		return
	}
	fmt.Fprintf(s.out, "  ...  ending call %s after the failure\n", s.callID)
	if s.sock != nil {
		s.sock.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), endWait+10*time.Second)
	defer cancel()
	if err := s.client.HangUp(ctx, s.callID, "ultravox-smoke failed"); err != nil && !ultravox.IsNotActive(err) {
		fmt.Fprintf(s.out, "  ...  hang_up: %v\n", err)
	}
	if _, err := s.poll(ctx, endWait, func(c *ultravox.Call) bool { return c.Ended != nil }); err != nil {
		fmt.Fprintf(s.out, "  WARN the call %s may still be live: %v (maxDuration %s ends it)\n", s.callID, err, maxDuration)
		return
	}
	s.ended = true
	fmt.Fprintf(s.out, "  ...  call %s ended\n", s.callID)
}

// report prints the outcome and the schema check; it returns the exit code.
func (s *smoke) report(ok bool) int {
	if c := s.final; c != nil {
		billed := time.Duration(0)
		if c.BilledDuration != nil {
			billed = c.BilledDuration.Std()
		}
		cost := billed.Minutes() * pricePerMinute
		if c.BillingStatus != ultravox.BillingStatusBilled {
			cost = 0
		}
		fmt.Fprintf(s.out, "\nend reason: %s\nbilled duration: %s\nbilling status: %s\ncost: $%.4f (at $%.2f a minute)\n",
			c.EndReasonString(), billed, c.BillingStatus, cost, pricePerMinute)
		if n := s.tools.Load(); n > 0 {
			fmt.Fprintf(s.out, "client tools invoked by the agent: %d (answered \"undefined\")\n", n)
		}
	}
	v := s.check.list()
	if len(v) == 0 {
		fmt.Fprintln(s.out, "schema: every response matched the published schema")
	} else {
		fmt.Fprintf(s.out, "schema: %d response(s) did not match the published schema:\n", len(v))
		for _, x := range v {
			fmt.Fprintf(s.out, "  - %s\n", x)
		}
	}
	switch {
	case !ok:
		fmt.Fprintln(s.out, "SMOKE TEST FAILED")
		return 1
	case len(v) > 0:
		fmt.Fprintln(s.out, "SMOKE TEST PASSED WITH SCHEMA MISMATCHES")
		return 1
	}
	fmt.Fprintln(s.out, "SMOKE TEST PASSED")
	return 0
}
