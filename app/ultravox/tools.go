package ultravox

// Client tools: an agent may ask the client to run a tool
// (ClientToolInvocation); the client must answer every invocation with a
// client_tool_result, or the agent waits while the call keeps billing.

// Client tool error types (ClientToolResult.ErrorType), as Ultravox names
// them.
const (
	// ToolErrorUndefined: the client does not implement the tool.
	ToolErrorUndefined = "undefined"
	// ToolErrorImplementation: the tool exists but failed.
	ToolErrorImplementation = "implementation-error"
)

// ClientToolResult answers one ClientToolInvocation:
// {"type":"client_tool_result","invocationId":...}. Set Result for a
// success, or ErrorType and ErrorMessage for a failure.
type ClientToolResult struct {
	InvocationID string `json:"invocationId"`
	Result       string `json:"result,omitempty"`
	// ResponseType is "tool-response" (the default when Result is set).
	ResponseType string `json:"responseType,omitempty"`
	ErrorType    string `json:"errorType,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// SendToolResult sends r as a client_tool_result data message, ahead of
// queued audio, and waits until it is written.
func (s *CallSocket) SendToolResult(r ClientToolResult) error {
	if r.Result != "" && r.ResponseType == "" && r.ErrorType == "" {
		r.ResponseType = "tool-response"
	}
	return s.sendJSON(struct {
		Type string `json:"type"`
		ClientToolResult
	}{"client_tool_result", r})
}
