package simulator

// Wire structs: the simulator's own, independent reading of the Ultravox
// schema (app/ultravox/testdata/openapi.yaml). They are deliberately not
// shared with the client package so that the contract validator checks two
// independent implementations against the schema.

import (
	"encoding/json"
	"time"
)

// Call is the Ultravox Call resource as the simulator serves it. Every field
// the schema lists as required is always present (nullable ones as null).
type Call struct {
	CallID                 string            `json:"callId"`
	ClientVersion          *string           `json:"clientVersion"`
	Created                time.Time         `json:"created"`
	Joined                 *time.Time        `json:"joined"`
	Ended                  *time.Time        `json:"ended"`
	EndReason              *string           `json:"endReason"`
	BilledDuration         *string           `json:"billedDuration"`
	BilledSideInputTokens  *int              `json:"billedSideInputTokens"`
	BilledSideOutputTokens *int              `json:"billedSideOutputTokens"`
	BillingStatus          string            `json:"billingStatus"`
	FirstSpeaker           string            `json:"firstSpeaker"`
	FirstSpeakerSettings   json.RawMessage   `json:"firstSpeakerSettings"`
	InitialOutputMedium    string            `json:"initialOutputMedium"`
	JoinTimeout            string            `json:"joinTimeout"`
	JoinURL                *string           `json:"joinUrl"`
	MaxDuration            string            `json:"maxDuration"`
	Medium                 json.RawMessage   `json:"medium"`
	Model                  string            `json:"model"`
	RecordingEnabled       bool              `json:"recordingEnabled"`
	SystemPrompt           *string           `json:"systemPrompt"`
	Temperature            float64           `json:"temperature"`
	TimeExceededMessage    *string           `json:"timeExceededMessage"`
	Voice                  *string           `json:"voice"`
	ShortSummary           *string           `json:"shortSummary"`
	Summary                *string           `json:"summary"`
	Agent                  *AgentBasic       `json:"agent"`
	AgentID                *string           `json:"agentId"`
	ExperimentalSettings   json.RawMessage   `json:"experimentalSettings"`
	Metadata               map[string]string `json:"metadata"`
	InitialState           json.RawMessage   `json:"initialState"`
	RequestContext         json.RawMessage   `json:"requestContext"`
	SipDetails             json.RawMessage   `json:"sipDetails"`
}

// AgentBasic is the short agent reference inside a Call.
type AgentBasic struct {
	AgentID string `json:"agentId"`
	Name    string `json:"name"`
}

// Agent is the Ultravox Agent resource.
type Agent struct {
	AgentID             string          `json:"agentId"`
	PublishedRevisionID *string         `json:"publishedRevisionId"`
	Name                string          `json:"name"`
	Created             time.Time       `json:"created"`
	CallTemplate        *CallTemplate   `json:"callTemplate"`
	Statistics          AgentStatistics `json:"statistics"`
}

// AgentStatistics counts an agent's calls.
type AgentStatistics struct {
	Calls int `json:"calls"`
}

// CallTemplate is the part of an agent's call template the simulator uses.
type CallTemplate struct {
	Name                string          `json:"name,omitempty"`
	SystemPrompt        string          `json:"systemPrompt,omitempty"`
	JoinTimeout         string          `json:"joinTimeout,omitempty"`
	MaxDuration         string          `json:"maxDuration,omitempty"`
	TimeExceededMessage string          `json:"timeExceededMessage,omitempty"`
	Voice               string          `json:"voice,omitempty"`
	Medium              json.RawMessage `json:"medium,omitempty"`
}

// Account is the Ultravox Account resource (GET /api/accounts/me).
type Account struct {
	AccountID                   string     `json:"accountId"`
	Name                        string     `json:"name"`
	BillingURL                  string     `json:"billingUrl"`
	FreeTimeUsed                string     `json:"freeTimeUsed"`
	FreeTimeRemaining           string     `json:"freeTimeRemaining"`
	HasActiveSubscription       bool       `json:"hasActiveSubscription"`
	SubscriptionTier            *string    `json:"subscriptionTier"`
	SubscriptionCadence         *string    `json:"subscriptionCadence"`
	SubscriptionExpiration      *time.Time `json:"subscriptionExpiration"`
	SubscriptionScheduledUpdate *time.Time `json:"subscriptionScheduledUpdate"`
	SubscriptionRenewal         *time.Time `json:"subscriptionRenewal"`
	ActiveCalls                 int        `json:"activeCalls"`
	AllowedConcurrentCalls      *int       `json:"allowedConcurrentCalls"`
	AllowedVoices               *int       `json:"allowedVoices"`
	AllowedCorpora              *int       `json:"allowedCorpora"`
}

// CallTombstone is what remains of a deleted call.
type CallTombstone struct {
	CallID           string     `json:"callId"`
	AccountID        string     `json:"accountId"`
	Created          time.Time  `json:"created"`
	DeletionTime     time.Time  `json:"deletionTime"`
	Joined           *time.Time `json:"joined"`
	Ended            *time.Time `json:"ended"`
	MaxDuration      string     `json:"maxDuration"`
	EndReason        *string    `json:"endReason"`
	RecordingEnabled bool       `json:"recordingEnabled"`
	HadSummary       bool       `json:"hadSummary"`
}

// Message is one ultravox.v1.Message of a call's transcript.
type Message struct {
	Role                  string `json:"role"`
	Text                  string `json:"text"`
	InvocationID          string `json:"invocationId,omitempty"`
	ToolName              string `json:"toolName,omitempty"`
	ErrorDetails          string `json:"errorDetails,omitempty"`
	Medium                string `json:"medium"`
	CallStageMessageIndex int    `json:"callStageMessageIndex"`
	CallStageID           string `json:"callStageId"`
}

// UsageResponse is GET /api/accounts/me/billing/usage.
type UsageResponse struct {
	DailyUsage      []BillingUsageDay `json:"dailyUsage"`
	TotalMinutes    float64           `json:"totalMinutes"`
	TotalSipMinutes float64           `json:"totalSipMinutes"`
}

// BillingUsageDay is one UTC day of billed minutes.
type BillingUsageDay struct {
	Date       string  `json:"date"`
	Minutes    float64 `json:"minutes"`
	SipMinutes float64 `json:"sipMinutes"`
}

// Page is a cursor-paginated list.
type Page[T any] struct {
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
	Total    int     `json:"total"`
}

// startCallRequest is the union of the StartCallRequest and
// StartAgentCallRequest fields the simulator reads. Unknown fields are
// ignored, as a protobuf-JSON server configured to discard them would.
type startCallRequest struct {
	SystemPrompt         *string           `json:"systemPrompt"`
	Temperature          *float64          `json:"temperature"`
	Model                *string           `json:"model"`
	Voice                *string           `json:"voice"`
	JoinTimeout          *string           `json:"joinTimeout"`
	MaxDuration          *string           `json:"maxDuration"`
	TimeExceededMessage  *string           `json:"timeExceededMessage"`
	Medium               json.RawMessage   `json:"medium"`
	RecordingEnabled     *bool             `json:"recordingEnabled"`
	FirstSpeaker         *string           `json:"firstSpeaker"`
	FirstSpeakerSettings json.RawMessage   `json:"firstSpeakerSettings"`
	InitialOutputMedium  *string           `json:"initialOutputMedium"`
	Metadata             map[string]string `json:"metadata"`
	InitialState         json.RawMessage   `json:"initialState"`
	ExperimentalSettings json.RawMessage   `json:"experimentalSettings"`
	TemplateContext      json.RawMessage   `json:"templateContext"`
}

// callMedium is the part of ultravox.v1.CallMedium the simulator reads.
type callMedium struct {
	WebRTC          json.RawMessage  `json:"webRtc"`
	ServerWebSocket *webSocketMedium `json:"serverWebSocket"`
	Twilio          json.RawMessage  `json:"twilio"`
	Telnyx          json.RawMessage  `json:"telnyx"`
	Plivo           json.RawMessage  `json:"plivo"`
	Exotel          json.RawMessage  `json:"exotel"`
	Sip             json.RawMessage  `json:"sip"`
}

type webSocketMedium struct {
	InputSampleRate    int     `json:"inputSampleRate"`
	OutputSampleRate   int     `json:"outputSampleRate,omitempty"`
	ClientBufferSizeMs int     `json:"clientBufferSizeMs,omitempty"`
	MediaIdleTimeout   *string `json:"mediaIdleTimeout,omitempty"`
}

// dataMessage is a data message, from REST (SendCallDataMessage) or the
// socket.
type dataMessage struct {
	Type      string          `json:"type"`
	Message   string          `json:"message,omitempty"`
	Text      string          `json:"text,omitempty"`
	Timestamp json.RawMessage `json:"timestamp,omitempty"`
	Medium    string          `json:"medium,omitempty"`
	// client_tool_result
	InvocationID string `json:"invocationId,omitempty"`
	Result       string `json:"result,omitempty"`
	ResponseType string `json:"responseType,omitempty"`
	ErrorType    string `json:"errorType,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}
