package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// simCall is the simulator's whole state of one call. Guarded by Server.mu.
type simCall struct {
	id    string
	agent *Agent // nil for ad-hoc calls

	templateContext map[string]any // templates.go
	created         time.Time
	joined          time.Time
	ended           time.Time

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
	priorCallID   string // the call this one continues (review.go)
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
	out.ShortSummary, out.Summary = c.summaries() // review.go
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
