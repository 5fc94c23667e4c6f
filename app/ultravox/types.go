package ultravox

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// Metadata keys this app writes on every call it creates. Ultravox reserves
// keys starting with "ultravox." (with the dot); "ultravoxTray." is ours.
const (
	// MetaRequestID is the idempotency id of a create request. Required on
	// every create; the client uses it to find a call whose create answer
	// was lost.
	MetaRequestID = "ultravoxTray.requestId"
	// MetaApp names the creating application ("ultravox-tray/<version>").
	MetaApp = "ultravoxTray.app"
	// MetaDevice identifies the machine that created the call.
	MetaDevice = "ultravoxTray.device"
	// MetaSession identifies the app session (one run) that created the call.
	MetaSession = "ultravoxTray.session"
)

// End reasons (Call.EndReason).
const (
	EndReasonUnjoined        = "unjoined"
	EndReasonHangup          = "hangup"
	EndReasonAgentHangup     = "agent_hangup"
	EndReasonTimeout         = "timeout"
	EndReasonConnectionError = "connection_error"
	EndReasonSystemError     = "system_error"
)

// Billing statuses (Call.BillingStatus).
const (
	BillingStatusPending                   = "BILLING_STATUS_PENDING"
	BillingStatusFreeConsole               = "BILLING_STATUS_FREE_CONSOLE"
	BillingStatusFreeZeroEffectiveDuration = "BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION"
	BillingStatusFreeMinutes               = "BILLING_STATUS_FREE_MINUTES"
	BillingStatusFreeSystemError           = "BILLING_STATUS_FREE_SYSTEM_ERROR"
	BillingStatusFreeOther                 = "BILLING_STATUS_FREE_OTHER"
	BillingStatusBilled                    = "BILLING_STATUS_BILLED"
	BillingStatusRefunded                  = "BILLING_STATUS_REFUNDED"
	BillingStatusUnspecified               = "BILLING_STATUS_UNSPECIFIED"
)

// BillingSettled reports whether a billing status is final (anything other
// than PENDING, UNSPECIFIED or empty).
func BillingSettled(status string) bool {
	switch status {
	case "", BillingStatusPending, BillingStatusUnspecified:
		return false
	}
	return true
}

// Message roles and media (Message.Role, Message.Medium).
const (
	MessageRoleUser       = "MESSAGE_ROLE_USER"
	MessageRoleAgent      = "MESSAGE_ROLE_AGENT"
	MessageRoleToolCall   = "MESSAGE_ROLE_TOOL_CALL"
	MessageRoleToolResult = "MESSAGE_ROLE_TOOL_RESULT"

	MessageMediumVoice = "MESSAGE_MEDIUM_VOICE"
	MessageMediumText  = "MESSAGE_MEDIUM_TEXT"
)

// Account is GET /api/accounts/me.
type Account struct {
	AccountID                   string     `json:"accountId"`
	Name                        string     `json:"name"`
	BillingURL                  string     `json:"billingUrl"`
	FreeTimeUsed                Duration   `json:"freeTimeUsed"`
	FreeTimeRemaining           Duration   `json:"freeTimeRemaining"`
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

// AgentStatistics is Agent.statistics.
type AgentStatistics struct {
	Calls int `json:"calls"`
}

// CallTemplate is the part of an agent's call template the app reads.
type CallTemplate struct {
	Name                 string                `json:"name,omitempty"`
	Created              *time.Time            `json:"created,omitempty"`
	Updated              *time.Time            `json:"updated,omitempty"`
	Medium               *CallMedium           `json:"medium,omitempty"`
	InitialOutputMedium  string                `json:"initialOutputMedium,omitempty"`
	JoinTimeout          *Duration             `json:"joinTimeout,omitempty"`
	MaxDuration          *Duration             `json:"maxDuration,omitempty"`
	RecordingEnabled     bool                  `json:"recordingEnabled,omitempty"`
	FirstSpeakerSettings *FirstSpeakerSettings `json:"firstSpeakerSettings,omitempty"`
	SystemPrompt         string                `json:"systemPrompt,omitempty"`
	Temperature          *float64              `json:"temperature,omitempty"`
	Model                string                `json:"model,omitempty"`
	Voice                string                `json:"voice,omitempty"`
	LanguageHint         string                `json:"languageHint,omitempty"`
	TimeExceededMessage  string                `json:"timeExceededMessage,omitempty"`
	InactivityMessages   []TimedMessage        `json:"inactivityMessages,omitempty"`
}

// Agent is one agent (GET /api/agents, /api/agents/{agent_id}).
type Agent struct {
	AgentID             string          `json:"agentId"`
	PublishedRevisionID *string         `json:"publishedRevisionId"`
	Name                string          `json:"name"`
	Created             time.Time       `json:"created"`
	CallTemplate        *CallTemplate   `json:"callTemplate"`
	Statistics          AgentStatistics `json:"statistics"`
}

// AgentBasic is the agent reference inside a Call.
type AgentBasic struct {
	AgentID string `json:"agentId"`
	Name    string `json:"name"`
}

// ServerWebSocketMedium is the serverWebSocket call medium: raw PCM (s16le
// mono) over a plain websocket. OutputSampleRate 0 means "same as input".
type ServerWebSocketMedium struct {
	InputSampleRate    int       `json:"inputSampleRate,omitempty"`
	OutputSampleRate   int       `json:"outputSampleRate,omitempty"`
	ClientBufferSizeMs int       `json:"clientBufferSizeMs,omitempty"`
	MediaIdleTimeout   *Duration `json:"mediaIdleTimeout,omitempty"`
}

// WebRTCMedium is the default medium (an empty object selects it).
type WebRTCMedium struct {
	DataMessages map[string]any `json:"dataMessages,omitempty"`
}

// CallMedium selects a call's protocol; at most one member is set. Media
// this app never uses (telephony, SIP) are kept raw so they survive a decode.
type CallMedium struct {
	WebRTC          *WebRTCMedium          `json:"webRtc,omitempty"`
	ServerWebSocket *ServerWebSocketMedium `json:"serverWebSocket,omitempty"`
	Twilio          json.RawMessage        `json:"twilio,omitempty"`
	Telnyx          json.RawMessage        `json:"telnyx,omitempty"`
	Plivo           json.RawMessage        `json:"plivo,omitempty"`
	Exotel          json.RawMessage        `json:"exotel,omitempty"`
	SIP             json.RawMessage        `json:"sip,omitempty"`
}

// AgentGreeting is FirstSpeakerSettings.agent.
type AgentGreeting struct {
	Uninterruptible bool      `json:"uninterruptible,omitempty"`
	Text            string    `json:"text,omitempty"`
	Prompt          string    `json:"prompt,omitempty"`
	Delay           *Duration `json:"delay,omitempty"`
}

// FallbackAgentGreeting is UserGreeting.fallback.
type FallbackAgentGreeting struct {
	Delay  *Duration `json:"delay,omitempty"`
	Text   string    `json:"text,omitempty"`
	Prompt string    `json:"prompt,omitempty"`
}

// UserGreeting is FirstSpeakerSettings.user.
type UserGreeting struct {
	Fallback *FallbackAgentGreeting `json:"fallback,omitempty"`
}

// FirstSpeakerSettings says who speaks first. Set exactly one member.
type FirstSpeakerSettings struct {
	User  *UserGreeting  `json:"user,omitempty"`
	Agent *AgentGreeting `json:"agent,omitempty"`
}

// TimedMessage is an inactivity message.
type TimedMessage struct {
	Duration    *Duration `json:"duration,omitempty"`
	Message     string    `json:"message,omitempty"`
	EndBehavior string    `json:"endBehavior,omitempty"`
}

// Call is one call (the schema's Call). Nullable fields are pointers; a nil
// Joined means nobody joined yet, a nil Ended means the call is live (or not
// joined yet).
type Call struct {
	CallID                 string                `json:"callId"`
	ClientVersion          *string               `json:"clientVersion"`
	Created                time.Time             `json:"created"`
	Joined                 *time.Time            `json:"joined"`
	Ended                  *time.Time            `json:"ended"`
	EndReason              *string               `json:"endReason"`
	BilledDuration         *Duration             `json:"billedDuration"`
	BilledSideInputTokens  *int                  `json:"billedSideInputTokens"`
	BilledSideOutputTokens *int                  `json:"billedSideOutputTokens"`
	BillingStatus          string                `json:"billingStatus"`
	FirstSpeakerSettings   *FirstSpeakerSettings `json:"firstSpeakerSettings"`
	InitialOutputMedium    string                `json:"initialOutputMedium,omitempty"`
	JoinTimeout            Duration              `json:"joinTimeout"`
	JoinURL                *string               `json:"joinUrl"`
	LanguageHint           *string               `json:"languageHint"`
	MaxDuration            Duration              `json:"maxDuration"`
	Medium                 *CallMedium           `json:"medium"`
	Model                  string                `json:"model,omitempty"`
	RecordingEnabled       bool                  `json:"recordingEnabled"`
	SystemPrompt           *string               `json:"systemPrompt"`
	Temperature            float64               `json:"temperature"`
	TimeExceededMessage    *string               `json:"timeExceededMessage"`
	Voice                  *string               `json:"voice"`
	ShortSummary           *string               `json:"shortSummary"`
	Summary                *string               `json:"summary"`
	Agent                  *AgentBasic           `json:"agent"`
	AgentID                *string               `json:"agentId"`
	Metadata               map[string]string     `json:"metadata"`
}

// Live reports whether the call has not ended (it may still be unjoined).
func (c *Call) Live() bool { return c.Ended == nil }

// Billing reports whether the call is joined and not ended: it costs money
// right now.
func (c *Call) Billing() bool { return c.Joined != nil && c.Ended == nil }

// RequestID is metadata[MetaRequestID], empty for calls this app did not
// create.
func (c *Call) RequestID() string { return c.Metadata[MetaRequestID] }

// EndReasonString is the end reason or "" while the call is live.
func (c *Call) EndReasonString() string {
	if c.EndReason == nil {
		return ""
	}
	return *c.EndReason
}

// InCallTimespan is a span relative to the call's start.
type InCallTimespan struct {
	Start *Duration `json:"start,omitempty"`
	End   *Duration `json:"end,omitempty"`
}

// Message is one message of a call (GET /api/calls/{id}/messages), also
// usable as an initial message of a create request.
type Message struct {
	Role                  string          `json:"role,omitempty"`
	Text                  string          `json:"text,omitempty"`
	InvocationID          string          `json:"invocationId,omitempty"`
	ToolName              string          `json:"toolName,omitempty"`
	ErrorDetails          string          `json:"errorDetails,omitempty"`
	Medium                string          `json:"medium,omitempty"`
	CallStageMessageIndex int             `json:"callStageMessageIndex,omitempty"`
	CallStageID           string          `json:"callStageId,omitempty"`
	CallState             map[string]any  `json:"callState,omitempty"`
	Timespan              *InCallTimespan `json:"timespan,omitempty"`
	WallClockTimespan     *InCallTimespan `json:"wallClockTimespan,omitempty"`
	Metadata              map[string]any  `json:"metadata,omitempty"`
}

// StartAgentCallRequest is the body of POST /api/agents/{agent_id}/calls.
// Metadata must hold MetaRequestID.
type StartAgentCallRequest struct {
	TemplateContext      map[string]any        `json:"templateContext,omitempty"`
	InitialMessages      []Message             `json:"initialMessages,omitempty"`
	Metadata             map[string]string     `json:"metadata,omitempty"`
	Medium               *CallMedium           `json:"medium,omitempty"`
	JoinTimeout          *Duration             `json:"joinTimeout,omitempty"`
	MaxDuration          *Duration             `json:"maxDuration,omitempty"`
	RecordingEnabled     *bool                 `json:"recordingEnabled,omitempty"`
	InitialOutputMedium  string                `json:"initialOutputMedium,omitempty"`
	FirstSpeakerSettings *FirstSpeakerSettings `json:"firstSpeakerSettings,omitempty"`
	ExperimentalSettings map[string]any        `json:"experimentalSettings,omitempty"`
	Voice                string                `json:"voice,omitempty"`
}

// StartCallRequest is the body of POST /api/calls (an ad-hoc call).
// Metadata must hold MetaRequestID.
type StartCallRequest struct {
	SystemPrompt         string                `json:"systemPrompt,omitempty"`
	Temperature          *float64              `json:"temperature,omitempty"`
	Model                string                `json:"model,omitempty"`
	Voice                string                `json:"voice,omitempty"`
	LanguageHint         string                `json:"languageHint,omitempty"`
	InitialMessages      []Message             `json:"initialMessages,omitempty"`
	JoinTimeout          *Duration             `json:"joinTimeout,omitempty"`
	MaxDuration          *Duration             `json:"maxDuration,omitempty"`
	TimeExceededMessage  string                `json:"timeExceededMessage,omitempty"`
	InactivityMessages   []TimedMessage        `json:"inactivityMessages,omitempty"`
	Medium               *CallMedium           `json:"medium,omitempty"`
	RecordingEnabled     *bool                 `json:"recordingEnabled,omitempty"`
	InitialOutputMedium  string                `json:"initialOutputMedium,omitempty"`
	FirstSpeakerSettings *FirstSpeakerSettings `json:"firstSpeakerSettings,omitempty"`
	ExperimentalSettings map[string]any        `json:"experimentalSettings,omitempty"`
	Metadata             map[string]string     `json:"metadata,omitempty"`
	InitialState         map[string]any        `json:"initialState,omitempty"`
}

// Page is one page of a cursor-paginated list. Next and Previous are full
// URLs or nil.
type Page[T any] struct {
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
	Total    *int    `json:"total"`
}

// NextCursor is the cursor query parameter of Next ("" on the last page, or
// when Next carries no cursor).
func (p *Page[T]) NextCursor() string {
	if p.Next == nil || *p.Next == "" {
		return ""
	}
	u, err := url.Parse(*p.Next)
	if err != nil {
		return ""
	}
	return u.Query().Get("cursor")
}

// BillingUsageDay is the billed usage of one UTC day.
type BillingUsageDay struct {
	Date       string  `json:"date"` // YYYY-MM-DD, UTC
	Minutes    float64 `json:"minutes"`
	SipMinutes float64 `json:"sipMinutes"`
}

// Day parses Date as a UTC day.
func (d BillingUsageDay) Day() (time.Time, error) {
	t, err := time.Parse(time.DateOnly, d.Date)
	if err != nil {
		return time.Time{}, fmt.Errorf("ultravox: usage day %q is not a YYYY-MM-DD date", d.Date)
	}
	return t, nil
}

// Usage is GET /api/accounts/me/billing/usage (the schema's UsageResponse).
type Usage struct {
	DailyUsage      []BillingUsageDay `json:"dailyUsage"`
	TotalMinutes    float64           `json:"totalMinutes"`
	TotalSipMinutes float64           `json:"totalSipMinutes"`
}

// UsageResponse is the schema's name for Usage.
type UsageResponse = Usage
