package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// simCall is the simulator's whole state of one call. Guarded by Server.mu.
type simCall struct {
	id      string
	agent   *Agent // nil for ad-hoc calls
	created time.Time
	joined  time.Time
	ended   time.Time

	endReason     string
	billingStatus string
	billed        time.Duration
	settled       bool
	finalStatus   string

	joinTimeout time.Duration
	maxDuration time.Duration
	mediaIdle   time.Duration // 0: none
	websocket   bool
	inRate      int
	outRate     int
	bufferMs    int
	medium      json.RawMessage

	token         string
	joinURL       string
	clientVersion string
	metadata      map[string]string

	systemPrompt         string
	model                string
	voice                string
	temperature          float64
	recording            bool
	timeExceeded         string
	greeting             string
	userFirst            bool
	firstSpeakerSettings json.RawMessage
	initialState         json.RawMessage
	experimental         json.RawMessage
	initialOutputMedium  string

	joinTimer Timer
	maxTimer  Timer
	idleTimer Timer
	lastAudio time.Time // lifecycle clock

	reserved  time.Duration
	sess      *session
	elsewhere bool
	deleted   bool

	audioIn       []AudioChunk
	audioOut      []AudioChunk
	audioInBytes  int
	audioOutBytes int
	messages      []Message
}

// keepAudio records one frame, keeping its PCM while under limit.
func keepAudio(list []AudioChunk, total *int, at time.Time, pcm []byte, limit int) []AudioChunk {
	ch := AudioChunk{At: at, Len: len(pcm)}
	if *total+len(pcm) <= limit {
		ch.Data = pcm
	}
	*total += len(pcm)
	return append(list, ch)
}

func (c *simCall) live() bool { return c.ended.IsZero() }

func (c *simCall) stopTimers() {
	for _, t := range []Timer{c.joinTimer, c.maxTimer, c.idleTimer} {
		if t != nil {
			t.Stop()
		}
	}
}

func strp(s string) *string { return &s }

func timep(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// snapshot renders the call as the API shows it.
func (c *simCall) snapshot() Call {
	out := Call{
		CallID:               c.id,
		Created:              c.created,
		Joined:               timep(c.joined),
		Ended:                timep(c.ended),
		BillingStatus:        c.billingStatus,
		FirstSpeaker:         "FIRST_SPEAKER_AGENT",
		FirstSpeakerSettings: c.firstSpeakerSettings,
		InitialOutputMedium:  c.initialOutputMedium,
		JoinTimeout:          formatDuration(c.joinTimeout),
		MaxDuration:          formatDuration(c.maxDuration),
		Medium:               c.medium,
		Model:                c.model,
		RecordingEnabled:     c.recording,
		Temperature:          c.temperature,
		ExperimentalSettings: c.experimental,
		InitialState:         c.initialState,
		RequestContext:       json.RawMessage(`{}`),
		SipDetails:           json.RawMessage(`null`),
		Metadata:             map[string]string{},
	}
	if c.userFirst {
		out.FirstSpeaker = "FIRST_SPEAKER_USER"
	}
	if c.clientVersion != "" {
		out.ClientVersion = strp(c.clientVersion)
	}
	if c.endReason != "" {
		out.EndReason = strp(c.endReason)
	}
	if c.settled {
		out.BilledDuration = strp(formatDuration(c.billed))
		zero := 0
		out.BilledSideInputTokens = &zero
		out.BilledSideOutputTokens = &zero
	}
	if c.live() && c.joinURL != "" {
		out.JoinURL = strp(c.joinURL)
	}
	if c.systemPrompt != "" {
		out.SystemPrompt = strp(c.systemPrompt)
	}
	if c.timeExceeded != "" {
		out.TimeExceededMessage = strp(c.timeExceeded)
	}
	if c.voice != "" {
		out.Voice = strp(c.voice)
	}
	if !c.ended.IsZero() && !c.joined.IsZero() {
		out.ShortSummary = strp(fmt.Sprintf("A %s simulated call that ended with %s.", formatDuration(c.ended.Sub(c.joined).Round(time.Second)), c.endReason))
		out.Summary = out.ShortSummary
	}
	if c.agent != nil {
		out.Agent = &AgentBasic{AgentID: c.agent.AgentID, Name: c.agent.Name}
		out.AgentID = strp(c.agent.AgentID)
	}
	for k, v := range c.metadata {
		out.Metadata[k] = v
	}
	return out
}

func (c *simCall) tombstone(accountID string, deleted time.Time) CallTombstone {
	t := CallTombstone{
		CallID:       c.id,
		AccountID:    accountID,
		Created:      c.created,
		DeletionTime: deleted,
		Joined:       timep(c.joined),
		Ended:        timep(c.ended),
		MaxDuration:  formatDuration(c.maxDuration),
	}
	if c.endReason != "" {
		t.EndReason = strp(c.endReason)
	}
	t.RecordingEnabled = c.recording
	t.HadSummary = !c.joined.IsZero()
	return t
}

func randomToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("simulator: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// fieldErrors collects DRF-style field errors for a 400 answer.
type fieldErrors map[string][]string

func (f fieldErrors) add(field, format string, args ...any) {
	f[field] = append(f[field], fmt.Sprintf(format, args...))
}

// callSpec is a validated create request.
type callSpec struct {
	req         startCallRequest
	joinTimeout time.Duration
	maxDuration time.Duration
	mediaIdle   time.Duration
	websocket   bool
	inRate      int
	outRate     int
	bufferMs    int
	medium      json.RawMessage
	greeting    string
	userFirst   bool
}

// parseCreate validates a create body for agent (nil for ad-hoc calls).
func (s *Server) parseCreate(body []byte, agent *Agent, agentCall bool) (callSpec, *apiError) {
	var spec callSpec
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&spec.req); err != nil {
		return spec, errDetail(400, "JSON parse error - "+err.Error())
	}
	fe := fieldErrors{}
	r := spec.req
	spec.joinTimeout = s.opts.DefaultJoinTimeout
	spec.maxDuration = s.opts.DefaultMaxDuration
	if agent != nil && agent.CallTemplate != nil {
		if d, err := parseDuration(agent.CallTemplate.JoinTimeout); err == nil && d > 0 {
			spec.joinTimeout = d
		}
		if d, err := parseDuration(agent.CallTemplate.MaxDuration); err == nil && d > 0 {
			spec.maxDuration = d
		}
	}
	if r.JoinTimeout != nil {
		d, err := parseDuration(*r.JoinTimeout)
		switch {
		case err != nil:
			fe.add("joinTimeout", "%v", err)
		case d <= 0:
			fe.add("joinTimeout", "joinTimeout must be positive, got %q", *r.JoinTimeout)
		default:
			spec.joinTimeout = d
		}
	}
	if r.MaxDuration != nil {
		d, err := parseDuration(*r.MaxDuration)
		switch {
		case err != nil:
			fe.add("maxDuration", "%v", err)
		case d <= 0:
			fe.add("maxDuration", "maxDuration must be positive, got %q", *r.MaxDuration)
		default:
			spec.maxDuration = d
		}
	}
	if r.Temperature != nil && (*r.Temperature < 0 || *r.Temperature > 1) {
		fe.add("temperature", "temperature must be between 0 and 1, got %v", *r.Temperature)
	}
	for k := range r.Metadata {
		if strings.HasPrefix(k, "ultravox.") {
			fe.add("metadata", "metadata key %q is reserved: keys may not start with \"ultravox.\"", k)
		}
		if k == "" {
			fe.add("metadata", "metadata keys must not be empty")
		}
	}
	if agentCall {
		for _, f := range []struct {
			name string
			set  bool
		}{{"systemPrompt", r.SystemPrompt != nil}, {"temperature", r.Temperature != nil}, {"model", r.Model != nil}, {"timeExceededMessage", r.TimeExceededMessage != nil}} {
			if f.set {
				fe.add(f.name, "%s cannot be set on an agent call; it comes from the agent", f.name)
			}
		}
	}
	spec.medium = json.RawMessage(`{"webRtc":{}}`)
	if len(r.Medium) > 0 && string(r.Medium) != "null" {
		var m callMedium
		if err := json.Unmarshal(r.Medium, &m); err != nil {
			fe.add("medium", "invalid medium: %v", err)
		} else {
			set := 0
			for _, raw := range []json.RawMessage{m.WebRTC, m.Twilio, m.Telnyx, m.Plivo, m.Exotel, m.Sip} {
				if len(raw) > 0 && string(raw) != "null" {
					set++
				}
			}
			if m.ServerWebSocket != nil {
				set++
			}
			if set > 1 {
				fe.add("medium", "at most one call medium may be set")
			}
			if ws := m.ServerWebSocket; ws != nil {
				spec.websocket = true
				if ws.InputSampleRate <= 0 {
					fe.add("medium.serverWebSocket.inputSampleRate", "inputSampleRate is required and must be positive")
				} else if ws.InputSampleRate < 8000 || ws.InputSampleRate > 48000 {
					fe.add("medium.serverWebSocket.inputSampleRate", "inputSampleRate %d is outside 8000..48000", ws.InputSampleRate)
				}
				spec.inRate = ws.InputSampleRate
				spec.outRate = ws.OutputSampleRate
				if spec.outRate == 0 {
					spec.outRate = spec.inRate
				} else if spec.outRate < 8000 || spec.outRate > 48000 {
					fe.add("medium.serverWebSocket.outputSampleRate", "outputSampleRate %d is outside 8000..48000", spec.outRate)
				}
				if ws.ClientBufferSizeMs < 0 {
					fe.add("medium.serverWebSocket.clientBufferSizeMs", "clientBufferSizeMs must not be negative")
				}
				spec.bufferMs = ws.ClientBufferSizeMs
				if spec.bufferMs == 0 {
					spec.bufferMs = 60
				}
				if ws.MediaIdleTimeout != nil {
					d, err := parseDuration(*ws.MediaIdleTimeout)
					if err != nil {
						fe.add("medium.serverWebSocket.mediaIdleTimeout", "%v", err)
					} else if d > 0 {
						if d < s.opts.MediaIdleFloor {
							d = s.opts.MediaIdleFloor
						}
						spec.mediaIdle = d
					}
				}
			}
			spec.medium = r.Medium
		}
	}
	spec.greeting = ""
	if len(r.FirstSpeakerSettings) > 0 && string(r.FirstSpeakerSettings) != "null" {
		var fs struct {
			User  json.RawMessage `json:"user"`
			Agent *struct {
				Text string `json:"text"`
			} `json:"agent"`
		}
		if err := json.Unmarshal(r.FirstSpeakerSettings, &fs); err != nil {
			fe.add("firstSpeakerSettings", "invalid firstSpeakerSettings: %v", err)
		} else {
			if len(fs.User) > 0 && string(fs.User) != "null" {
				spec.userFirst = true
			}
			if fs.Agent != nil {
				spec.greeting = fs.Agent.Text
			}
		}
	}
	if r.FirstSpeaker != nil {
		switch *r.FirstSpeaker {
		case "FIRST_SPEAKER_USER":
			spec.userFirst = true
		case "FIRST_SPEAKER_AGENT", "FIRST_SPEAKER_UNSPECIFIED":
		default:
			fe.add("firstSpeaker", "unknown firstSpeaker %q", *r.FirstSpeaker)
		}
	}
	if r.InitialOutputMedium != nil {
		switch *r.InitialOutputMedium {
		case "MESSAGE_MEDIUM_VOICE", "MESSAGE_MEDIUM_TEXT", "MESSAGE_MEDIUM_UNSPECIFIED":
		default:
			fe.add("initialOutputMedium", "unknown initialOutputMedium %q", *r.InitialOutputMedium)
		}
	}
	if len(fe) > 0 {
		return spec, &apiError{status: 400, body: fe}
	}
	return spec, nil
}

// createLocked creates a call from spec. s.mu is held.
func (s *Server) createLocked(spec callSpec, agent *Agent, host string) (*simCall, *apiError) {
	if s.opts.MaxConcurrent > 0 {
		live := 0
		for _, c := range s.order {
			if c.live() {
				live++
			}
		}
		if live >= s.opts.MaxConcurrent {
			e := errDetail(429, fmt.Sprintf("Too many concurrent calls: this account allows %d and has %d active.", s.opts.MaxConcurrent, live))
			e.retryAfter = s.opts.RetryAfter
			return nil, e
		}
	}
	now := s.clock.Now()
	if lim := s.opts.CreatesPerMinute; lim > 0 {
		recent := s.createTimes[:0]
		for _, t := range s.createTimes {
			if now.Sub(t) < time.Minute {
				recent = append(recent, t)
			}
		}
		s.createTimes = recent
		if len(recent) >= lim {
			e := errDetail(429, fmt.Sprintf("Request was throttled: at most %d calls may be created per minute.", lim))
			e.retryAfter = recent[0].Add(time.Minute).Sub(now)
			return nil, e
		}
		s.createTimes = append(s.createTimes, now)
	}
	r := spec.req
	c := &simCall{
		id:                   uuid.NewString(),
		agent:                agent,
		created:              now,
		billingStatus:        BillingPending,
		joinTimeout:          spec.joinTimeout,
		maxDuration:          spec.maxDuration,
		mediaIdle:            spec.mediaIdle,
		websocket:            spec.websocket,
		inRate:               spec.inRate,
		outRate:              spec.outRate,
		bufferMs:             spec.bufferMs,
		medium:               spec.medium,
		token:                randomToken(),
		metadata:             map[string]string{},
		model:                "ultravox-v0.7",
		userFirst:            spec.userFirst,
		greeting:             spec.greeting,
		firstSpeakerSettings: json.RawMessage(`{"agent":{}}`),
		initialState:         json.RawMessage(`{}`),
		experimental:         json.RawMessage(`{}`),
		initialOutputMedium:  "MESSAGE_MEDIUM_VOICE",
	}
	for k, v := range r.Metadata {
		c.metadata[k] = v
	}
	if len(r.FirstSpeakerSettings) > 0 && string(r.FirstSpeakerSettings) != "null" {
		c.firstSpeakerSettings = r.FirstSpeakerSettings
	} else if spec.userFirst {
		c.firstSpeakerSettings = json.RawMessage(`{"user":{}}`)
	}
	if len(r.InitialState) > 0 && string(r.InitialState) != "null" {
		c.initialState = r.InitialState
	}
	if len(r.ExperimentalSettings) > 0 && string(r.ExperimentalSettings) != "null" {
		c.experimental = r.ExperimentalSettings
	}
	if r.InitialOutputMedium != nil && *r.InitialOutputMedium == "MESSAGE_MEDIUM_TEXT" {
		c.initialOutputMedium = "MESSAGE_MEDIUM_TEXT"
	}
	if r.RecordingEnabled != nil {
		c.recording = *r.RecordingEnabled
	}
	if r.Voice != nil {
		c.voice = *r.Voice
	}
	if agent != nil {
		tmpl := agent.CallTemplate
		if tmpl != nil {
			c.systemPrompt = tmpl.SystemPrompt
			c.timeExceeded = tmpl.TimeExceededMessage
			if c.voice == "" {
				c.voice = tmpl.Voice
			}
		}
		if c.greeting == "" {
			c.greeting = s.seeds[agent.AgentID].Greeting
		}
		if c.greeting == "" {
			c.greeting = fmt.Sprintf("Hi, this is %s. How can I help?", agent.Name)
		}
	} else {
		if r.SystemPrompt != nil {
			c.systemPrompt = *r.SystemPrompt
		}
		if r.TimeExceededMessage != nil {
			c.timeExceeded = *r.TimeExceededMessage
		}
		if r.Temperature != nil {
			c.temperature = *r.Temperature
		}
		if r.Model != nil && *r.Model != "" {
			c.model = *r.Model
		}
		if c.greeting == "" {
			c.greeting = "Hi, this is a simulated Ultravox agent. How can I help?"
		}
	}
	if host != "" {
		c.joinURL = "ws://" + host + "/sim/join/" + c.token
	}
	c.reserved = min(c.maxDuration, s.freeAvailableLocked())
	s.calls[c.id] = c
	s.order = append(s.order, c)
	s.tokens[c.token] = c
	if agent != nil {
		agent.Statistics.Calls++
	}
	id := c.id
	c.joinTimer = s.clock.AfterFunc(c.joinTimeout, func() { s.joinExpired(id) })
	s.logf("simulator: call %s created (maxDuration %s, joinTimeout %s)", c.id, formatDuration(c.maxDuration), formatDuration(c.joinTimeout))
	return c, nil
}

// freeAvailableLocked is the free time not used and not reserved.
func (s *Server) freeAvailableLocked() time.Duration {
	avail := s.opts.FreeTime - s.freeUsed
	for _, c := range s.order {
		if c.live() {
			avail -= c.reserved
		}
	}
	return max(avail, 0)
}

func (s *Server) joinExpired(id string) {
	s.mu.Lock()
	c := s.calls[id]
	if s.closed || c == nil || !c.live() || !c.joined.IsZero() || c.sess != nil {
		s.mu.Unlock()
		return
	}
	after := s.endLocked(c, EndUnjoined)
	s.mu.Unlock()
	after()
}

// markJoinedLocked records the join and arms the max-duration and media-idle
// timers.
func (s *Server) markJoinedLocked(c *simCall, clientVersion string) {
	now := s.clock.Now()
	c.joined = now
	c.lastAudio = now
	c.clientVersion = clientVersion
	if c.joinTimer != nil {
		c.joinTimer.Stop()
	}
	id := c.id
	c.maxTimer = s.clock.AfterFunc(c.maxDuration, func() { s.maxDurationReached(id) })
	if c.mediaIdle > 0 && c.sess != nil {
		c.idleTimer = s.clock.AfterFunc(c.mediaIdle, func() { s.checkMediaIdle(id) })
	}
}

func (s *Server) maxDurationReached(id string) {
	s.mu.Lock()
	c := s.calls[id]
	if s.closed || c == nil || !c.live() {
		s.mu.Unlock()
		return
	}
	if c.sess != nil && c.timeExceeded != "" {
		sess := c.sess
		s.mu.Unlock()
		sess.timeExceeded(c.timeExceeded)
		return
	}
	after := s.endLocked(c, EndTimeout)
	s.mu.Unlock()
	after()
}

func (s *Server) checkMediaIdle(id string) {
	s.mu.Lock()
	c := s.calls[id]
	if s.closed || c == nil || !c.live() {
		s.mu.Unlock()
		return
	}
	idle := s.clock.Now().Sub(c.lastAudio)
	if idle < c.mediaIdle {
		c.idleTimer = s.clock.AfterFunc(c.mediaIdle-idle, func() { s.checkMediaIdle(id) })
		s.mu.Unlock()
		return
	}
	after := s.endLocked(c, EndConnectionError)
	s.mu.Unlock()
	after()
}

// endCall ends a live call with reason; false when it had already ended.
func (s *Server) endCall(id, reason string) bool {
	s.mu.Lock()
	c := s.calls[id]
	if c == nil || !c.live() {
		s.mu.Unlock()
		return false
	}
	after := s.endLocked(c, reason)
	s.mu.Unlock()
	after()
	return true
}

// endLocked ends c (s.mu held) and returns what must run after unlocking
// (closing the socket).
func (s *Server) endLocked(c *simCall, reason string) func() {
	now := s.clock.Now()
	c.ended = now
	c.endReason = reason
	c.stopTimers()
	used := time.Duration(0)
	if !c.joined.IsZero() {
		c.billed = roundToUnit(now.Sub(c.joined))
		used = min(c.billed, c.reserved)
	}
	s.freeUsed += used
	switch {
	case c.billed == 0:
		c.finalStatus = BillingFreeZeroEffective
	case reason == EndSystemError:
		c.finalStatus = BillingFreeSystemError
	case c.billed <= c.reserved:
		c.finalStatus = BillingFreeMinutes
	default:
		c.finalStatus = BillingBilled
	}
	c.reserved = 0
	id := c.id
	if s.opts.SettleDelay == 0 || s.closed {
		s.settleLocked(c)
	} else {
		s.settleTimers[c] = s.clock.AfterFunc(s.opts.SettleDelay, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c := s.calls[id]; c != nil {
				s.settleLocked(c)
			}
		})
	}
	s.logf("simulator: call %s ended: %s", c.id, reason)
	sess := c.sess
	if sess == nil || sess.conn == nil {
		// No socket, or its handshake is still running: join sees the
		// call ended once it has the socket and closes it.
		return func() {}
	}
	code, text := closeCodeFor(reason)
	return func() { sess.closeWith(code, text) }
}

func (s *Server) settleLocked(c *simCall) {
	delete(s.settleTimers, c)
	c.settled = true
	c.billingStatus = c.finalStatus
}

func roundToUnit(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + BillingUnit - 1) / BillingUnit * BillingUnit
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

func (s *Server) agentByIDLocked(id string) *Agent {
	for _, a := range s.agents {
		if a.AgentID == id {
			return a
		}
	}
	return nil
}

func (s *Server) agentWire(a *Agent) Agent {
	out := *a
	if a.CallTemplate != nil {
		t := *a.CallTemplate
		out.CallTemplate = &t
	}
	return out
}
