package ultravox

import (
	"encoding/json"
)

// Incoming is one item read from the call socket: Audio, or one of the
// typed data messages (CallStarted, State, Transcript, PlaybackClearBuffer,
// Pong, ClientToolInvocation, Debug, Unknown). Use a type switch.
type Incoming interface{ incoming() }

// Audio is one binary frame: s16le mono PCM at the call's outputSampleRate.
type Audio []byte

// CallStarted is {"type":"call_started","callId":...}.
type CallStarted struct {
	CallID string `json:"callId"`
}

// State is {"type":"state","state":"idle|listening|thinking|speaking"}.
type State struct {
	State string `json:"state"`
}

// Transcript is part of an utterance. Text (when set) replaces the
// utterance's text so far, Delta appends to it; a new Ordinal is a new
// utterance.
type Transcript struct {
	Role    string  `json:"role"`   // "user" or "agent"
	Medium  string  `json:"medium"` // "voice" or "text"
	Text    *string `json:"text"`
	Delta   *string `json:"delta"`
	Final   bool    `json:"final"`
	Ordinal int     `json:"ordinal"`
}

// PlaybackClearBuffer: drop all unplayed agent audio at once (barge-in).
type PlaybackClearBuffer struct{}

// Pong answers our Ping; Timestamp is the one we sent.
type Pong struct {
	Timestamp float64 `json:"timestamp"`
}

// ClientToolInvocation asks the client to run a client-side tool.
type ClientToolInvocation struct {
	ToolName     string          `json:"toolName"`
	InvocationID string          `json:"invocationId"`
	Parameters   json.RawMessage `json:"parameters"`
}

// Debug is a debug message from the server.
type Debug struct {
	Message string          `json:"message"`
	Raw     json.RawMessage `json:"-"`
}

// Unknown is a text frame of a type this client does not know, or one that
// did not decode (then Type may be empty). Never fatal.
type Unknown struct {
	Type string
	Raw  []byte
}

func (Audio) incoming()                {}
func (CallStarted) incoming()          {}
func (State) incoming()                {}
func (Transcript) incoming()           {}
func (PlaybackClearBuffer) incoming()  {}
func (Pong) incoming()                 {}
func (ClientToolInvocation) incoming() {}
func (Debug) incoming()                {}
func (Unknown) incoming()              {}

func (s *CallSocket) decode(data []byte) Incoming {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Unknown{Raw: data}
	}
	var (
		item Incoming
		err  error
	)
	switch head.Type {
	case "call_started":
		var m CallStarted
		err = json.Unmarshal(data, &m)
		item = m
	case "state":
		var m State
		err = json.Unmarshal(data, &m)
		item = m
	case "transcript":
		var m Transcript
		err = json.Unmarshal(data, &m)
		item = m
	case "playback_clear_buffer":
		item = PlaybackClearBuffer{}
	case "pong":
		var m Pong
		err = json.Unmarshal(data, &m)
		if err == nil {
			s.pong(m.Timestamp)
		}
		item = m
	case "client_tool_invocation":
		var m ClientToolInvocation
		err = json.Unmarshal(data, &m)
		item = m
	case "debug":
		var m Debug
		err = json.Unmarshal(data, &m)
		m.Raw = data
		item = m
	default:
		return Unknown{Type: head.Type, Raw: data}
	}
	if err != nil {
		s.log.Debug("ultravox call socket: undecodable message kept as unknown", "type", head.Type, "err", err)
		return Unknown{Type: head.Type, Raw: data}
	}
	return item
}
