package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The control API exposes the test controls over HTTP for the standalone
// simulator (Options.ControlAPI), so a person can drive a demo with curl:
//
//	curl -X POST -H 'X-API-Key: sim-demo-key' 'http://127.0.0.1:8080/sim/control/elsewhere?joined=true&maxDuration=300s'
//
// Every operation is POST, needs the API key, and answers JSON.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	for name, f := range map[string]func(r *http.Request) (any, error){
		"elsewhere":     s.controlElsewhere,
		"end":           s.controlEnd,
		"fail-next":     s.controlFailNext,
		"malformed":     s.controlMalformed,
		"latency":       s.controlLatency,
		"round-trip":    s.controlRoundTrip,
		"unauthorized":  s.controlUnauthorized,
		"unresponsive":  s.controlUnresponsive,
		"drop-sockets":  s.controlDropSockets,
		"hangup-reason": s.controlHangupReason,
		"invoke-tool":   s.controlInvokeTool,  // tools.go
		"tool-replies":  s.controlToolReplies, // tools.go
		"alt-formats":   s.controlAltFormats,  // formats.go
		"strict":        s.controlStrict,      // strict.go
	} {
		mux.HandleFunc("POST /sim/control/"+name, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-API-Key") != s.opts.APIKey {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid API key."}, "")
				return
			}
			out, err := f(r)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"detail": err.Error()}, "")
				return
			}
			s.logf("simulator: control %s %s", name, r.URL.RawQuery)
			writeJSON(w, http.StatusOK, out, "")
		})
	}
}

// controlDone is the answer of a control that has nothing else to say.
var controlDone = map[string]bool{"ok": true}

func (s *Server) controlElsewhere(r *http.Request) (any, error) {
	q := r.URL.Query()
	joined, err := boolParam(q.Get("joined"), true)
	if err != nil {
		return nil, err
	}
	var maxDur time.Duration
	if v := q.Get("maxDuration"); v != "" {
		if maxDur, err = parseDuration(v); err != nil || maxDur <= 0 {
			return nil, fmt.Errorf("maxDuration %q: want a positive duration such as \"300s\"", v)
		}
	}
	id, err := s.StartCallElsewhere(q.Get("agent"), joined, maxDur)
	if err != nil {
		return nil, err
	}
	return map[string]string{"callId": id}, nil
}

func (s *Server) controlEnd(r *http.Request) (any, error) {
	q := r.URL.Query()
	reason := q.Get("reason")
	if reason == "" {
		reason = EndAgentHangup
	}
	return controlDone, s.ForceEnd(q.Get("call"), reason)
}

func (s *Server) controlFailNext(r *http.Request) (any, error) {
	n, err := intParam(r, "n", 1)
	if err != nil {
		return nil, err
	}
	status, err := intParam(r, "status", 503)
	if err != nil || status < 400 || status > 599 {
		return nil, fmt.Errorf("status: want a 4xx or 5xx code")
	}
	s.FailNext(n, status)
	return controlDone, nil
}

func (s *Server) controlMalformed(r *http.Request) (any, error) {
	n, err := intParam(r, "n", 1)
	if err != nil {
		return nil, err
	}
	s.Malformed(n)
	return controlDone, nil
}

func (s *Server) controlLatency(r *http.Request) (any, error) {
	d, err := time.ParseDuration(r.URL.Query().Get("d"))
	if err != nil || d < 0 {
		return nil, fmt.Errorf("d %q: want a Go duration such as 500ms (0 to turn it off)", r.URL.Query().Get("d"))
	}
	s.SetLatency(d)
	return controlDone, nil
}

func (s *Server) controlUnauthorized(r *http.Request) (any, error) {
	on, err := boolParam(r.URL.Query().Get("on"), true)
	if err != nil {
		return nil, err
	}
	s.SetUnauthorized(on)
	return controlDone, nil
}

func (s *Server) controlUnresponsive(r *http.Request) (any, error) {
	on, err := boolParam(r.URL.Query().Get("on"), true)
	if err != nil {
		return nil, err
	}
	s.SetUnresponsive(on)
	return controlDone, nil
}

func (s *Server) controlDropSockets(*http.Request) (any, error) {
	s.DropSockets()
	return controlDone, nil
}

func (s *Server) controlHangupReason(r *http.Request) (any, error) {
	return controlDone, s.SetHangupReason(r.URL.Query().Get("reason"))
}

func boolParam(v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", v)
	}
	return b, nil
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q: want a positive whole number", name, v)
	}
	return n, nil
}

// ForceEnd ends a live call now with reason, closing its socket with the
// matching code. It fails for unknown calls, calls already ended, and
// reasons the schema does not list.
func (s *Server) ForceEnd(callID, reason string) error {
	if !validEndReason(reason) {
		return fmt.Errorf("simulator: unknown end reason %q (want one of unjoined, hangup, agent_hangup, timeout, connection_error, system_error)", reason)
	}
	s.mu.Lock()
	c := s.calls[callID]
	if c == nil {
		s.mu.Unlock()
		return fmt.Errorf("simulator: no call %s", callID)
	}
	if !c.live() {
		s.mu.Unlock()
		return fmt.Errorf("simulator: call %s already ended (%s)", callID, c.endReason)
	}
	after := s.endLocked(c, reason)
	s.mu.Unlock()
	after()
	return nil
}

// StartCallElsewhere creates a call as if from another device (a browser,
// a colleague's script): it counts against the account and, when joined,
// bills without any socket to this simulator. maxDuration <= 0 takes the
// agent's or the API default. agentID "" makes an ad-hoc call.
func (s *Server) StartCallElsewhere(agentID string, joined bool, maxDuration time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", fmt.Errorf("simulator: server is closed")
	}
	var agent *Agent
	if agentID != "" {
		agent = s.agentByIDLocked(agentID)
		if agent == nil {
			return "", fmt.Errorf("simulator: no agent %s", agentID)
		}
	}
	body := []byte(`{}`)
	if maxDuration > 0 {
		body = []byte(fmt.Sprintf(`{"maxDuration":%q}`, formatDuration(maxDuration)))
	}
	spec, apiErr := s.parseCreate(body, agent, agent != nil)
	if apiErr != nil {
		return "", fmt.Errorf("simulator: %s", apiErr.message())
	}
	c, apiErr := s.createLocked(spec, agent, "")
	if apiErr != nil {
		return "", fmt.Errorf("simulator: %s", apiErr.message())
	}
	c.elsewhere = true
	if joined {
		s.markJoinedLocked(c, "ultravox-client-js_0.4.2")
	}
	return c.id, nil
}

// JoinElsewhere marks a created, unjoined call as joined by another device
// (no socket here).
func (s *Server) JoinElsewhere(callID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	switch {
	case c == nil:
		return fmt.Errorf("simulator: no call %s", callID)
	case !c.live():
		return fmt.Errorf("simulator: call %s already ended", callID)
	case !c.joined.IsZero() || c.sess != nil:
		return fmt.Errorf("simulator: call %s is already joined", callID)
	}
	c.elsewhere = true
	s.markJoinedLocked(c, "ultravox-client-js_0.4.2")
	return nil
}

// FailNext makes the next n REST requests fail with status before they are
// handled (nothing changes on the server). 429 and 503 carry Retry-After: 1.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, fault{status: status})
	}
}

// FailNextAfterHandling makes the next n REST requests take effect (a create
// does create the call) but answer with status: the ambiguous failure a
// client must recover from without creating a second call.
func (s *Server) FailNextAfterHandling(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, fault{status: status, after: true})
	}
}

// CutNext makes the next n REST requests take effect and then drops the
// connection without any answer (a network failure after the server acted).
func (s *Server) CutNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, fault{cut: true})
	}
}

// Malformed makes the next n REST responses carry broken JSON (the request
// is handled; the body is cut off).
func (s *Server) Malformed(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.malformed += n
}

// SetLatency delays every REST answer and socket join by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetUnauthorized makes every REST request get 401 (as a revoked key would).
func (s *Server) SetUnauthorized(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unauthorized = on
}

// SetUnresponsive makes the server accept connections but never answer
// (REST and socket joins) until it is turned off or the server is closed.
func (s *Server) SetUnresponsive(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on == s.unresponsive {
		return
	}
	s.unresponsive = on
	if on {
		s.unblock = make(chan struct{})
	} else {
		close(s.unblock)
	}
}

// SetHangupReason changes the endReason of REST and socket hang_up.
func (s *Server) SetHangupReason(reason string) error {
	if !validEndReason(reason) {
		return fmt.Errorf("simulator: unknown end reason %q", reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangupReason = reason
	return nil
}

// DropSockets drops every call socket at once, without a close frame, as a
// network loss would. The server then ends those calls (endReason hangup: a
// dropped connection ends the call and there is no rejoin).
func (s *Server) DropSockets() {
	s.mu.Lock()
	var sess []*session
	for x := range s.sessions {
		sess = append(sess, x)
	}
	s.mu.Unlock()
	for _, x := range sess {
		x.abort()
	}
}

// Agents returns copies of the seeded agents.
func (s *Server) Agents() []Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Agent, 0, len(s.agents))
	for _, a := range s.agents {
		out = append(out, s.agentWire(a))
	}
	return out
}
