package simulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

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
	// templateContext is the agent call's variable values (templates.go).
	templateContext map[string]any
}

// parseCreate validates a create body for agent (nil for ad-hoc calls).
func (s *Server) parseCreate(body []byte, agent *Agent, agentCall bool) (callSpec, *apiError) {
	var spec callSpec
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if e := unknownCreateField(body, agentCall); e != nil { // strict.go
		return spec, e
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&spec.req); err != nil {
		return spec, errDetail(400, "JSON parse error - "+err.Error())
	}
	if agentCall { // templates.go
		tc, e := checkTemplateContext(spec.req.TemplateContext, agent)
		if e != nil {
			return spec, e
		}
		spec.templateContext = tc
	}
	fe := fieldErrors{}
	s.parseLimits(&spec, agent, fe)
	checkSettings(spec.req, agentCall, fe)
	s.parseMedium(&spec, fe)
	parseFirstSpeaker(&spec, fe)
	if len(fe) > 0 {
		return spec, &apiError{status: 400, body: fe}
	}
	return spec, nil
}

// parseLimits sets joinTimeout and maxDuration: the request's, else the
// agent's template, else the simulator's defaults.
func (s *Server) parseLimits(spec *callSpec, agent *Agent, fe fieldErrors) {
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
}

// checkSettings rejects a bad temperature, reserved or empty metadata keys,
// and on agent calls the fields that only the agent may set.
func checkSettings(r startCallRequest, agentCall bool, fe fieldErrors) {
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
	if !agentCall {
		return
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"systemPrompt", r.SystemPrompt != nil}, {"temperature", r.Temperature != nil}, {"model", r.Model != nil}, {"timeExceededMessage", r.TimeExceededMessage != nil}} {
		if f.set {
			fe.add(f.name, "%s cannot be set on an agent call; it comes from the agent", f.name)
		}
	}
}

// parseMedium accepts at most one medium; WebRTC when none is given.
func (s *Server) parseMedium(spec *callSpec, fe fieldErrors) {
	r := spec.req
	spec.medium = json.RawMessage(`{"webRtc":{}}`)
	if len(r.Medium) == 0 || string(r.Medium) == "null" {
		return
	}
	var m callMedium
	if err := json.Unmarshal(r.Medium, &m); err != nil {
		fe.add("medium", "invalid medium: %v", err)
		return
	}
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
		s.parseServerWebSocket(spec, ws, fe)
	}
	spec.medium = r.Medium
}

// parseServerWebSocket checks the sample rates and buffer of the
// serverWebSocket medium; mediaIdleTimeout is raised to the simulator's floor.
func (s *Server) parseServerWebSocket(spec *callSpec, ws *webSocketMedium, fe fieldErrors) {
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
			spec.mediaIdle = max(d, s.opts.MediaIdleFloor)
		}
	}
}

// parseFirstSpeaker reads who speaks first and the agent's greeting, and
// checks initialOutputMedium.
func parseFirstSpeaker(spec *callSpec, fe fieldErrors) {
	r := spec.req
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
}

// createLocked creates a call from spec. s.mu is held.
func (s *Server) createLocked(spec callSpec, agent *Agent, host string) (*simCall, *apiError) {
	now := s.clock.Now()
	if e := s.admitLocked(now); e != nil {
		return nil, e
	}
	c := newSimCall(spec, agent, now)
	s.applyPrompt(c, spec, agent)
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

// admitLocked answers 429 when the concurrency cap or the creates-per-minute
// limit is reached, and otherwise counts this create. s.mu is held.
func (s *Server) admitLocked(now time.Time) *apiError {
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
			return e
		}
	}
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
			return e
		}
		s.createTimes = append(s.createTimes, now)
	}
	return nil
}

// newSimCall is the call spec describes, with the server's defaults for
// what the request left out.
func newSimCall(spec callSpec, agent *Agent, now time.Time) *simCall {
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
	return c
}

// applyPrompt sets what the agent says and how: from the agent's template
// on agent calls, from the request on ad-hoc ones, with a greeting always.
func (s *Server) applyPrompt(c *simCall, spec callSpec, agent *Agent) {
	r := spec.req
	if agent != nil {
		if tmpl := agent.CallTemplate; tmpl != nil {
			c.systemPrompt = tmpl.SystemPrompt
			c.timeExceeded = tmpl.TimeExceededMessage
			if c.voice == "" {
				c.voice = tmpl.Voice
			}
		}
		if c.greeting == "" {
			c.greeting = renderTemplate(s.seeds[agent.AgentID].Greeting, spec.templateContext) // templates.go
		}
		c.systemPrompt = renderTemplate(c.systemPrompt, spec.templateContext)
		c.templateContext = spec.templateContext
		if c.greeting == "" {
			c.greeting = fmt.Sprintf("Hi, this is %s. How can I help?", agent.Name)
		}
		return
	}
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
