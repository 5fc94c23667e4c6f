package simulator

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

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
	if name := x.s.clientToolFor(x.callID); name != "" {
		a.invokeTool(toolAsk{id: newInvocationID(), name: name, params: json.RawMessage(`{}`)}) // tools.go
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
	case evTool:
		a.invokeTool(ev.tool)
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
		if bye := x.s.farewellFor(msg); bye != "" { // strict.go
			a.cur, a.queue, a.reply = nil, nil, ""
			a.say(bye, false, reason)
			return a.cur == nil && x.closing.Load()
		}
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
	case "client_tool_result":
		a.toolResult(msg, at) // tools.go
	case "forced_agent_message":
		if msg.Text != "" {
			a.say(msg.Text, false, "")
		}
	default:
		x.sendJSON(map[string]any{"type": "debug", "message": fmt.Sprintf("unknown data message type %q ignored", msg.Type)})
	}
	return false
}
