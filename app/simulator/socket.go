package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	evTool
)

type sessEvent struct {
	kind sessEventKind
	pcm  []byte
	text string
	msg  dataMessage
	tool toolAsk
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
	if s.inOutage() {
		s.dropInOutage(nil)
	}
	if !s.holdIfUnresponsive(r) {
		panic(http.ErrAbortHandler)
	}
	c, sess, refuse := s.claim(r.PathValue("token"))
	if refuse != nil {
		writeJSON(w, refuse.status, refuse.body, "")
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.unclaim(c, sess)
		return
	}
	conn.SetReadLimit(1 << 20)
	if !s.attach(c, sess, conn, r.URL.Query().Get("clientVersion")) {
		return
	}
	s.logf("simulator: call %s joined", c.id)
	s.serve(sess)
}

// claim reserves the call behind a join token for one session, or says
// why the call cannot be joined.
func (s *Server) claim(token string) (*simCall, *session, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.tokens[token]
	switch {
	case c == nil || c.deleted:
		return nil, nil, errDetail(http.StatusNotFound, "No call matches this join URL.")
	case !c.live():
		return nil, nil, errDetail(http.StatusGone, "Call has ended.")
	case c.sess != nil || !c.joined.IsZero():
		return nil, nil, errDetail(http.StatusConflict, "Call already joined: a call has exactly one joiner.")
	case !c.websocket:
		return nil, nil, errDetail(http.StatusBadRequest, "This call's medium is not serverWebSocket; the simulator joins only serverWebSocket calls.")
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
	return c, sess, nil
}

// unclaim gives the call back after a failed websocket upgrade, so another
// client may still join it within its joinTimeout.
func (s *Server) unclaim(c *simCall, sess *session) {
	sess.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
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
}

// attach gives the session its connection and marks the call joined,
// unless the server closed or the call ended during the upgrade.
func (s *Server) attach(c *simCall, sess *session, conn *websocket.Conn, clientVersion string) bool {
	s.mu.Lock()
	// Set under s.mu: until now an end of the call (ForceEnd, a timer) saw
	// no socket to close and left it to this check.
	sess.conn = conn
	switch {
	case s.closed:
		s.mu.Unlock()
		conn.CloseNow()
		sess.cancel()
		return false
	case !c.live():
		code, text := closeCodeFor(c.endReason)
		s.mu.Unlock()
		conn.Close(code, text)
		sess.cancel()
		return false
	}
	s.sessions[sess] = struct{}{}
	s.markJoinedLocked(c, clientVersion)
	s.mu.Unlock()
	return true
}

// serve runs the agent and reads the client until the socket ends.
func (s *Server) serve(sess *session) {
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
