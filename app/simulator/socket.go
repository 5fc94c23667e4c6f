package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// chunkDur is the length of the agent audio frames.
const chunkDur = 40 * time.Millisecond

// thinkTime is the pause between the user's end of speech and the reply.
const thinkTime = 250 * time.Millisecond

// closeCodeFor is the websocket close code and reason for an end reason.
func closeCodeFor(reason string) (websocket.StatusCode, string) {
	switch reason {
	case EndConnectionError:
		return 4000, "connection error: no media received"
	case EndSystemError:
		return websocket.StatusInternalError, "system error"
	case EndTimeout:
		return websocket.StatusNormalClosure, "call reached its maximum duration"
	case EndAgentHangup:
		return websocket.StatusNormalClosure, "agent hung up"
	default:
		return websocket.StatusNormalClosure, "call ended"
	}
}

type sessEventKind int

const (
	evAudio sessEventKind = iota
	evClient
	evUserText
	evForced
	evTimeExceeded
)

type sessEvent struct {
	kind sessEventKind
	pcm  []byte
	text string
	msg  dataMessage
	at   time.Time
}

// session is one joined serverWebSocket connection and its agent.
type session struct {
	s      *Server
	callID string
	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	events chan sessEvent

	inRate, outRate int
	ahead           time.Duration // how far audio may run ahead of real time
	greeting        string
	speakFirst      bool
	textOnly        bool

	closing   atomic.Bool
	closeOnce sync.Once
	loopDone  chan struct{}
}

// post hands ev to the agent; false when the agent is gone (the call is
// closing).
func (x *session) post(ev sessEvent) bool {
	if x.closing.Load() {
		return false
	}
	select {
	case x.events <- ev:
		return true
	case <-x.ctx.Done():
	case <-x.loopDone:
	}
	return false
}

// timeExceeded tells the agent to say msg and then end the call (timeout);
// without an agent to say it, the call ends at once.
func (x *session) timeExceeded(msg string) {
	if !x.post(sessEvent{kind: evTimeExceeded, text: msg}) {
		x.s.endCall(x.callID, EndTimeout)
	}
}

// closeWith closes the socket with a close frame, without blocking the
// caller. The session's conn must be set (see endLocked).
func (x *session) closeWith(code websocket.StatusCode, reason string) {
	x.closeOnce.Do(func() {
		x.closing.Store(true)
		if !x.s.track() {
			// The server is closing: Close drops every socket anyway.
			x.abort()
			return
		}
		go func() {
			defer x.s.wg.Done()
			x.conn.Close(code, reason)
			x.cancel()
		}()
	})
}

// abort drops the connection without a close frame.
func (x *session) abort() {
	x.conn.CloseNow()
	x.cancel()
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	// A join handler can start after Close has begun (net/http may hand a
	// request to a handler after Shutdown stopped tracking its connection),
	// so it counts itself in s.wg only while the server is open.
	if !s.track() {
		panic(http.ErrAbortHandler) // nobody to answer: drop the connection
	}
	defer s.wg.Done()
	if !s.holdIfUnresponsive(r) {
		panic(http.ErrAbortHandler)
	}
	token := r.PathValue("token")
	s.mu.Lock()
	c := s.tokens[token]
	var refuse *apiError
	switch {
	case c == nil || c.deleted:
		refuse = errDetail(http.StatusNotFound, "No call matches this join URL.")
	case !c.live():
		refuse = errDetail(http.StatusGone, "Call has ended.")
	case c.sess != nil || !c.joined.IsZero():
		refuse = errDetail(http.StatusConflict, "Call already joined: a call has exactly one joiner.")
	case !c.websocket:
		refuse = errDetail(http.StatusBadRequest, "This call's medium is not serverWebSocket; the simulator joins only serverWebSocket calls.")
	}
	if refuse != nil {
		s.mu.Unlock()
		writeJSON(w, refuse.status, refuse.body, "")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sess := &session{
		s: s, callID: c.id, ctx: ctx, cancel: cancel,
		events:     make(chan sessEvent, 256),
		inRate:     c.inRate,
		outRate:    c.outRate,
		ahead:      min(s.opts.SendAhead, time.Duration(c.bufferMs)*time.Millisecond),
		greeting:   c.greeting,
		speakFirst: s.opts.SpeakGreeting && !c.userFirst,
		textOnly:   c.initialOutputMedium == "MESSAGE_MEDIUM_TEXT",
		loopDone:   make(chan struct{}),
	}
	c.sess = sess
	s.mu.Unlock()

	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		cancel()
		s.mu.Lock()
		c.sess = nil
		if c.live() && c.joined.IsZero() && !s.closed {
			// The join timer may have fired meanwhile; re-arm it for what is left.
			if c.joinTimer != nil {
				c.joinTimer.Stop()
			}
			left := c.created.Add(c.joinTimeout).Sub(s.clock.Now())
			id := c.id
			c.joinTimer = s.clock.AfterFunc(max(left, 0), func() { s.joinExpired(id) })
		}
		s.mu.Unlock()
		return
	}
	conn.SetReadLimit(1 << 20)

	s.mu.Lock()
	// Set under s.mu: until now an end of the call (ForceEnd, a timer) saw
	// no socket to close and left it to this check.
	sess.conn = conn
	switch {
	case s.closed:
		s.mu.Unlock()
		conn.CloseNow()
		cancel()
		return
	case !c.live():
		code, text := closeCodeFor(c.endReason)
		s.mu.Unlock()
		conn.Close(code, text)
		cancel()
		return
	}
	s.sessions[sess] = struct{}{}
	s.markJoinedLocked(c, r.URL.Query().Get("clientVersion"))
	s.mu.Unlock()
	s.logf("simulator: call %s joined", c.id)

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(sess.loopDone)
		sess.agentLoop()
	}()
	sess.readLoop()
	sess.cancel()
	<-sess.loopDone

	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// readLoop reads client frames until the socket ends, then ends the call
// if the client went away while it was live.
func (x *session) readLoop() {
	s := x.s
	for {
		typ, data, err := x.conn.Read(x.ctx)
		if err != nil {
			break
		}
		now := time.Now()
		switch typ {
		case websocket.MessageBinary:
			s.mu.Lock()
			if c := s.calls[x.callID]; c != nil {
				c.audioIn = keepAudio(c.audioIn, &c.audioInBytes, now, data, s.opts.AudioRecordLimit)
				c.lastAudio = s.clock.Now()
			}
			s.mu.Unlock()
			x.post(sessEvent{kind: evAudio, pcm: data, at: now})
		case websocket.MessageText:
			var msg dataMessage
			if err := json.Unmarshal(data, &msg); err != nil || msg.Type == "" {
				x.sendJSON(map[string]any{"type": "debug", "message": fmt.Sprintf("ignored a text frame that is not a data message (%d bytes)", len(data))})
				continue
			}
			x.post(sessEvent{kind: evClient, msg: msg, at: now})
		}
	}
	if x.closing.Load() || s.isClosed() {
		return
	}
	// The client closed or lost its connection: the call ends (no rejoin).
	s.endCall(x.callID, EndHangup)
}

func (x *session) sendJSON(v any) bool {
	if x.closing.Load() {
		return false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(x.ctx, 5*time.Second)
	defer cancel()
	return x.conn.Write(ctx, websocket.MessageText, b) == nil
}

func (x *session) sendAudio(pcm []byte) bool {
	if x.closing.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(x.ctx, 5*time.Second)
	defer cancel()
	if err := x.conn.Write(ctx, websocket.MessageBinary, pcm); err != nil {
		return false
	}
	s := x.s
	s.mu.Lock()
	if c := s.calls[x.callID]; c != nil {
		c.audioOut = keepAudio(c.audioOut, &c.audioOutBytes, time.Now(), pcm, s.opts.AudioRecordLimit)
	}
	s.mu.Unlock()
	return true
}

// utterance is one thing the agent says.
type utterance struct {
	text          string
	pcm           []byte // nil when the agent answers in text only
	off           int
	started       time.Time
	ordinal       int
	shownChars    int
	interruptible bool
	endAfter      string // end the call with this reason once said
}

// agent is the talking agent's state, owned by agentLoop.
type agent struct {
	x         *session
	ordinal   int
	state     string
	cur       *utterance
	queue     []*utterance
	vad       vad
	replyAt   time.Time
	reply     string
	lastHeard time.Time
}

func (x *session) agentLoop() {
	a := &agent{x: x, vad: vad{rate: x.inRate, threshold: x.s.opts.SpeechThreshold, hangover: x.s.opts.EndOfSpeech, onset: 60 * time.Millisecond}}
	x.sendJSON(map[string]any{"type": "call_started", "callId": x.callID})
	a.setState("listening")
	if x.speakFirst && x.greeting != "" {
		a.say(x.greeting, true, "")
	}
	tick := time.NewTicker(chunkDur / 2)
	defer tick.Stop()
	for {
		select {
		case <-x.ctx.Done():
			return
		case ev := <-x.events:
			if a.handle(ev) {
				return
			}
		case now := <-tick.C:
			if a.tick(now) {
				return
			}
		}
		if x.closing.Load() {
			return
		}
	}
}

func (a *agent) setState(st string) {
	if a.state == st {
		return
	}
	a.state = st
	a.x.sendJSON(map[string]any{"type": "state", "state": st})
}

// say queues text; it starts at once when the agent is silent.
func (a *agent) say(text string, interruptible bool, endAfter string) {
	u := &utterance{text: text, interruptible: interruptible, endAfter: endAfter}
	if !a.x.textOnly {
		pcm, err := a.x.s.opts.Speech(a.x.ctx, text, a.x.outRate)
		if err != nil || len(pcm) < 2 {
			a.x.s.logf("simulator: agent voice failed (%v); using the synthetic voice", err)
			pcm = synthSpeech(text, a.x.outRate)
		}
		u.pcm = pcm[:len(pcm)&^1]
	}
	a.queue = append(a.queue, u)
	if a.cur == nil {
		a.next(time.Now())
	}
}

func (a *agent) next(now time.Time) {
	if len(a.queue) == 0 {
		a.cur = nil
		a.setState("listening")
		return
	}
	a.cur = a.queue[0]
	a.queue = a.queue[1:]
	a.ordinal++
	a.cur.ordinal = a.ordinal
	a.cur.started = now
	a.setState("speaking")
	if a.cur.pcm == nil {
		a.x.s.recordMessage(a.x.callID, "MESSAGE_ROLE_AGENT", a.cur.text, "MESSAGE_MEDIUM_TEXT")
		a.x.sendJSON(transcript("agent", "text", a.cur.text, "", true, a.cur.ordinal))
		a.finish()
	}
}

func transcript(role, medium, text, delta string, final bool, ordinal int) map[string]any {
	m := map[string]any{"type": "transcript", "role": role, "medium": medium, "final": final, "ordinal": ordinal}
	if final || delta == "" {
		m["text"] = text
	} else {
		m["delta"] = delta
	}
	return m
}

// finish moves on from the current utterance (its transcript is sent and
// recorded). It reports whether the call ended.
func (a *agent) finish() bool {
	u := a.cur
	a.cur = nil
	if u.endAfter != "" {
		a.x.s.endCall(a.x.callID, u.endAfter)
		return true
	}
	a.next(time.Now())
	return false
}

func (s *Server) recordMessage(callID, role, text, medium string) {
	if text == "" {
		return // an utterance cut off before its first word
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[callID]; c != nil {
		c.messages = append(c.messages, Message{Role: role, Text: text, Medium: medium, CallStageMessageIndex: len(c.messages), CallStageID: c.id})
	}
}

// tick paces agent audio in real time and runs the timed parts of the
// conversation. It reports whether the call ended.
func (a *agent) tick(now time.Time) bool {
	if a.vad.speaking && !a.lastHeard.IsZero() && now.Sub(a.lastHeard) > a.vad.hangover+200*time.Millisecond {
		// Audio stopped arriving mid-utterance: take it as the end.
		if a.vad.forceEnd() {
			a.userDone(now)
		}
	}
	if a.reply != "" && !now.Before(a.replyAt) {
		text := a.reply
		a.reply = ""
		a.say(text, true, "")
	}
	u := a.cur
	if u == nil || u.pcm == nil {
		return false
	}
	bytesPerSec := 2 * a.x.outRate
	// played is where the client's playback is, at one second per second;
	// audio may be sent ahead of it by the session's allowance.
	played := min(max(0, int(now.Sub(u.started).Seconds()*float64(bytesPerSec)))&^1, len(u.pcm))
	due := min(played+int(a.x.ahead.Seconds()*float64(bytesPerSec))&^1, len(u.pcm))
	maxChunk := (bytesPerSec * 60 / 1000) &^ 1
	for u.off < due {
		n := min(due-u.off, maxChunk)
		if !a.x.sendAudio(u.pcm[u.off : u.off+n]) {
			return false
		}
		u.off += n
	}
	// Transcript deltas follow the playback, word by word.
	heard := min(played, u.off)
	runes := []rune(u.text)
	shown := len(runes) * heard / len(u.pcm)
	if i := strings.LastIndex(string(runes[:shown]), " "); i >= 0 {
		shown = len([]rune(string(runes[:shown])[:i+1]))
	} else {
		shown = 0
	}
	if shown > u.shownChars && heard < len(u.pcm) {
		a.x.sendJSON(transcript("agent", "voice", "", string(runes[u.shownChars:shown]), false, u.ordinal))
		u.shownChars = shown
	}
	// The agent has spoken once all of it is sent and played.
	if heard >= len(u.pcm) {
		a.x.s.recordMessage(a.x.callID, "MESSAGE_ROLE_AGENT", u.text, "MESSAGE_MEDIUM_VOICE")
		a.x.sendJSON(transcript("agent", "voice", u.text, "", true, u.ordinal))
		return a.finish()
	}
	return false
}

// handle reacts to one event. It reports whether the call ended.
func (a *agent) handle(ev sessEvent) bool {
	x := a.x
	switch ev.kind {
	case evAudio:
		a.lastHeard = ev.at
		switch a.vad.feed(ev.pcm) {
		case vadStart:
			a.reply = ""
			if a.cur != nil && a.cur.pcm != nil && a.cur.interruptible {
				// Barge-in: the user talks over the agent.
				x.sendJSON(map[string]any{"type": "playback_clear_buffer"})
				u := a.cur
				said := string([]rune(u.text)[:u.shownChars])
				x.s.recordMessage(x.callID, "MESSAGE_ROLE_AGENT", said, "MESSAGE_MEDIUM_VOICE")
				x.sendJSON(transcript("agent", "voice", said, "", true, u.ordinal))
				a.queue = nil
				a.cur = nil
			}
			if a.cur == nil {
				a.setState("listening")
			}
		case vadEnd:
			a.userDone(ev.at)
		}
	case evClient:
		return a.client(ev.msg, ev.at)
	case evUserText:
		a.userText(ev.text, ev.at)
	case evForced:
		a.say(ev.text, false, "")
	case evTimeExceeded:
		if a.cur != nil && a.cur.pcm != nil {
			x.sendJSON(transcript("agent", "voice", string([]rune(a.cur.text)[:a.cur.shownChars]), "", true, a.cur.ordinal))
		}
		a.cur, a.queue, a.reply = nil, nil, ""
		a.say(ev.text, false, EndTimeout)
		return a.cur == nil && x.closing.Load()
	}
	return false
}

func (a *agent) userDone(at time.Time) {
	d := a.vad.spoken()
	a.ordinal++
	heard := fmt.Sprintf("(%.1f seconds of speech)", d.Seconds())
	a.x.s.recordMessage(a.x.callID, "MESSAGE_ROLE_USER", heard, "MESSAGE_MEDIUM_VOICE")
	a.x.sendJSON(transcript("user", "voice", heard, "", true, a.ordinal))
	a.setState("thinking")
	a.reply = fmt.Sprintf("I heard you speak for %.1f seconds.", d.Seconds())
	a.replyAt = at.Add(thinkTime)
	if at.After(time.Now()) || at.IsZero() {
		a.replyAt = time.Now().Add(thinkTime)
	}
}

func (a *agent) userText(text string, at time.Time) {
	a.ordinal++
	a.x.s.recordMessage(a.x.callID, "MESSAGE_ROLE_USER", text, "MESSAGE_MEDIUM_TEXT")
	a.x.sendJSON(transcript("user", "text", text, "", true, a.ordinal))
	if a.cur != nil && a.cur.interruptible {
		if a.cur.pcm != nil {
			a.x.sendJSON(map[string]any{"type": "playback_clear_buffer"})
			a.x.sendJSON(transcript("agent", "voice", string([]rune(a.cur.text)[:a.cur.shownChars]), "", true, a.cur.ordinal))
		}
		a.cur, a.queue = nil, nil
	}
	a.setState("thinking")
	if goodbye.MatchString(text) {
		// The agent's hang-up tool: it says goodbye and ends the call.
		a.reply = ""
		a.say("Goodbye!", false, EndAgentHangup)
		return
	}
	a.reply = fmt.Sprintf("You wrote: %q.", text)
	a.replyAt = time.Now().Add(thinkTime)
}

// goodbye is a text message after which the agent hangs up by itself.
var goodbye = regexp.MustCompile(`(?i)^\W*(good)?bye\W*$`)

// client handles a data message from the socket. It reports whether the
// call ended.
func (a *agent) client(msg dataMessage, at time.Time) bool {
	x := a.x
	switch msg.Type {
	case "ping":
		ts := msg.Timestamp
		if len(ts) == 0 {
			ts = json.RawMessage("null")
		}
		x.sendJSON(map[string]any{"type": "pong", "timestamp": ts})
	case "hang_up":
		x.s.mu.Lock()
		reason := x.s.hangupReason
		x.s.mu.Unlock()
		x.s.endCall(x.callID, reason)
		return true
	case "user_text_message", "input_text_message":
		if strings.TrimSpace(msg.Text) == "" {
			x.sendJSON(map[string]any{"type": "debug", "message": msg.Type + " without text ignored"})
			return false
		}
		a.userText(msg.Text, at)
	case "set_output_medium":
		switch msg.Medium {
		case "text":
			x.textOnly = true
		case "voice":
			x.textOnly = false
		default:
			x.sendJSON(map[string]any{"type": "debug", "message": fmt.Sprintf("set_output_medium: unknown medium %q (want voice or text)", msg.Medium)})
		}
	case "client_tool_result", "forced_agent_message":
		if msg.Type == "forced_agent_message" && msg.Text != "" {
			a.say(msg.Text, false, "")
		}
	default:
		x.sendJSON(map[string]any{"type": "debug", "message": fmt.Sprintf("unknown data message type %q ignored", msg.Type)})
	}
	return false
}
