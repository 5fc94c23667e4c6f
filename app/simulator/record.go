package simulator

import (
	"net/url"
	"strings"
	"time"
)

// Request is one recorded REST request.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	// UserAgent is the User-Agent header (the API key header is never
	// recorded).
	UserAgent string
	Status    int // 0 when the connection was cut without an answer
	// Fault names the fault the simulator answered with on purpose:
	// "injected" (FailNext), "after-handling", "cut", "malformed",
	// "outage"; "" for an honest answer.
	Fault string
	// Answered is when the simulator decided the answer, after any latency
	// or unresponsive hold (Time is when the request arrived); zero when
	// the connection was cut without one. An answer reflects the state at
	// Answered: a GET that arrived before a call ended may still show it
	// ended.
	Answered time.Time
}

// Requests returns every REST request so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// RequestsTo returns the recorded requests whose method matches method (""
// for any) and whose path starts with pathPrefix.
func (s *Server) RequestsTo(method, pathPrefix string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

// AudioChunk is one binary frame of call audio and when it crossed the
// socket (real time).
type AudioChunk struct {
	At   time.Time
	Len  int    // bytes in the frame
	Data []byte // the PCM; nil past Options.AudioRecordLimit
}

// CallAudio is the audio of one call: what the client sent (received by the
// simulator) and what the agent sent.
type CallAudio struct {
	InputRate  int
	OutputRate int
	Received   []AudioChunk
	Sent       []AudioChunk
}

// ReceivedBytes is the total of received PCM bytes.
func (a CallAudio) ReceivedBytes() int {
	n := 0
	for _, c := range a.Received {
		n += c.Len
	}
	return n
}

// SentBytes is the total of sent PCM bytes.
func (a CallAudio) SentBytes() int {
	n := 0
	for _, c := range a.Sent {
		n += c.Len
	}
	return n
}

// CallAudio returns a copy of the recorded audio of a call.
func (s *Server) CallAudio(callID string) (CallAudio, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return CallAudio{}, false
	}
	out := CallAudio{InputRate: c.inRate, OutputRate: c.outRate}
	out.Received = append([]AudioChunk(nil), c.audioIn...)
	out.Sent = append([]AudioChunk(nil), c.audioOut...)
	return out, true
}

// Call returns a copy of a call's current state as GET would show it
// (including deleted calls).
func (s *Server) Call(callID string) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return Call{}, false
	}
	return c.snapshot(), true
}

// Calls returns copies of all calls (deleted ones included), oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.order))
	for _, c := range s.order {
		out = append(out, c.snapshot())
	}
	return out
}

// Messages returns the transcript messages of a call so far.
func (s *Server) Messages(callID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return nil
	}
	return append([]Message(nil), c.messages...)
}
