package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// Client tools: the agent can ask the client to run a tool over the call
// socket ({"type":"client_tool_invocation","toolName","invocationId",
// "parameters"}) and records the client's client_tool_result. Tests tell it
// to with InvokeClientTool, AgentSeed.ClientTool (every call with that
// agent invokes the tool once joined), Options.ClientTool (every agent
// without its own), or POST /sim/control/invoke-tool.

// ToolInvocation is one client tool invocation the agent sent, and the
// client's reply once it came.
type ToolInvocation struct {
	CallID       string
	InvocationID string
	ToolName     string
	Parameters   json.RawMessage
	Sent         time.Time // when the invocation was written to the socket
	// Replied is zero until a client_tool_result with this invocationId came.
	Replied      time.Time
	Result       string
	ResponseType string
	ErrorType    string
	ErrorMessage string
}

// Answered reports whether the client replied.
func (t ToolInvocation) Answered() bool { return !t.Replied.IsZero() }

// Latency is how long the reply took (0 before it came).
func (t ToolInvocation) Latency() time.Duration {
	if t.Replied.IsZero() {
		return 0
	}
	return t.Replied.Sub(t.Sent)
}

// toolAsk is an invocation handed to the agent.
type toolAsk struct {
	id     string
	name   string
	params json.RawMessage
}

// InvokeClientTool makes the agent of the joined call callID invoke the
// client tool name with params (nil: {}). It returns the invocationId; the
// client's reply shows in ToolInvocations.
func (s *Server) InvokeClientTool(callID, name string, params any) (string, error) {
	if name == "" {
		return "", fmt.Errorf("simulator: a client tool needs a name")
	}
	raw := json.RawMessage(`{}`)
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return "", fmt.Errorf("simulator: tool parameters: %v", err)
		}
		raw = b
	}
	s.mu.Lock()
	c := s.calls[callID]
	var x *session
	if c != nil {
		x = c.sess
	}
	s.mu.Unlock()
	switch {
	case c == nil:
		return "", fmt.Errorf("simulator: no call %s", callID)
	case x == nil || x.conn == nil:
		return "", fmt.Errorf("simulator: call %s has no joined socket to invoke a client tool on", callID)
	}
	ask := toolAsk{id: uuid.NewString(), name: name, params: raw}
	if !x.post(sessEvent{kind: evTool, tool: ask}) {
		return "", fmt.Errorf("simulator: call %s is ending", callID)
	}
	return ask.id, nil
}

// ToolInvocations returns the client tool invocations of callID ("" for
// every call) in the order they were sent.
func (s *Server) ToolInvocations(callID string) []ToolInvocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ToolInvocation
	for _, t := range s.tools {
		if callID == "" || t.CallID == callID {
			out = append(out, *t)
		}
	}
	return out
}

// WaitToolReply waits until the invocation invocationID was answered and
// returns it, or ctx's error.
func (s *Server) WaitToolReply(ctx context.Context, invocationID string) (ToolInvocation, error) {
	for {
		s.mu.Lock()
		for _, t := range s.tools {
			if t.InvocationID == invocationID && t.Answered() {
				out := *t
				s.mu.Unlock()
				return out, nil
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ToolInvocation{}, fmt.Errorf("simulator: no reply to tool invocation %s: %w", invocationID, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// clientToolFor is the tool the agent of callID invokes once joined ("":
// none): its seed's ClientTool, else Options.ClientTool.
func (s *Server) clientToolFor(callID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	if c == nil || c.agent == nil {
		return s.opts.ClientTool
	}
	if t := s.seeds[c.agent.AgentID].ClientTool; t != "" {
		return t
	}
	return s.opts.ClientTool
}

// invokeTool sends the invocation on the socket and records it.
func (a *agent) invokeTool(ask toolAsk) {
	x := a.x
	x.s.mu.Lock()
	t := &ToolInvocation{CallID: x.callID, InvocationID: ask.id, ToolName: ask.name, Parameters: ask.params, Sent: time.Now()}
	x.s.tools = append(x.s.tools, t)
	if c := x.s.calls[x.callID]; c != nil {
		b, _ := json.Marshal(map[string]any{"toolName": ask.name, "parameters": ask.params})
		c.messages = append(c.messages, Message{Role: "MESSAGE_ROLE_TOOL_CALL", Text: string(b), Medium: "MESSAGE_MEDIUM_UNSPECIFIED", InvocationID: ask.id, ToolName: ask.name,
			CallStageMessageIndex: len(c.messages), CallStageID: c.id})
	}
	x.s.mu.Unlock()
	a.setState("thinking")
	x.sendJSON(map[string]any{"type": "client_tool_invocation", "toolName": ask.name, "invocationId": ask.id, "parameters": ask.params})
	x.s.logf("simulator: call %s: agent invoked client tool %s", x.callID, ask.name)
}

// toolResult records the client's client_tool_result and lets the agent
// say what came back.
func (a *agent) toolResult(msg dataMessage, at time.Time) {
	x := a.x
	x.s.mu.Lock()
	var t *ToolInvocation
	for _, ti := range x.s.tools {
		if ti.CallID == x.callID && ti.InvocationID == msg.InvocationID && !ti.Answered() {
			t = ti
		}
	}
	if t != nil {
		t.Replied, t.Result, t.ResponseType, t.ErrorType, t.ErrorMessage = at, msg.Result, msg.ResponseType, msg.ErrorType, msg.ErrorMessage
		if c := x.s.calls[x.callID]; c != nil {
			text := msg.Result
			if msg.ErrorType != "" {
				text = ""
			}
			c.messages = append(c.messages, Message{Role: "MESSAGE_ROLE_TOOL_RESULT", Text: text, Medium: "MESSAGE_MEDIUM_UNSPECIFIED", InvocationID: t.InvocationID, ToolName: t.ToolName,
				ErrorDetails: msg.ErrorMessage, CallStageMessageIndex: len(c.messages), CallStageID: c.id})
		}
	}
	x.s.mu.Unlock()
	if t == nil {
		x.sendJSON(map[string]any{"type": "debug", "message": fmt.Sprintf("client_tool_result for unknown invocationId %q ignored", msg.InvocationID)})
		return
	}
	if msg.ErrorType != "" {
		a.say(fmt.Sprintf("I could not use %s.", t.ToolName), true, "")
		return
	}
	a.say(fmt.Sprintf("%s answered.", t.ToolName), true, "")
}

func newInvocationID() string { return uuid.NewString() }

// controlInvokeTool: POST /sim/control/invoke-tool?call=ID&tool=NAME
// [&parameters=JSON] answers {"invocationId": ...}.
func (s *Server) controlInvokeTool(r *http.Request) (any, error) {
	q := r.URL.Query()
	var params any
	if p := q.Get("parameters"); p != "" {
		if !json.Valid([]byte(p)) {
			return nil, fmt.Errorf("parameters %q: want a JSON object", p)
		}
		params = json.RawMessage(p)
	}
	id, err := s.InvokeClientTool(q.Get("call"), q.Get("tool"), params)
	if err != nil {
		return nil, err
	}
	return map[string]string{"invocationId": id}, nil
}

// controlToolReplies: POST /sim/control/tool-replies[?call=ID] answers the
// invocations and their replies.
func (s *Server) controlToolReplies(r *http.Request) (any, error) {
	type reply struct {
		CallID       string          `json:"callId"`
		InvocationID string          `json:"invocationId"`
		ToolName     string          `json:"toolName"`
		Parameters   json.RawMessage `json:"parameters"`
		Answered     bool            `json:"answered"`
		LatencyMs    float64         `json:"latencyMs"`
		Result       string          `json:"result,omitempty"`
		ErrorType    string          `json:"errorType,omitempty"`
		ErrorMessage string          `json:"errorMessage,omitempty"`
	}
	out := []reply{}
	for _, t := range s.ToolInvocations(r.URL.Query().Get("call")) {
		out = append(out, reply{t.CallID, t.InvocationID, t.ToolName, t.Parameters, t.Answered(),
			float64(t.Latency().Microseconds()) / 1000, t.Result, t.ErrorType, t.ErrorMessage})
	}
	return out, nil
}
