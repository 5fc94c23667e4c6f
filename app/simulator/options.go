package simulator

import (
	"net/http"
	"time"
)

// DefaultAPIKey is the key the simulator accepts unless Options.APIKey says
// otherwise. It cannot be mistaken for a real Ultravox key (those are 8
// alphanumerics, a dot and 32 alphanumerics).
const DefaultAPIKey = "sim-demo-key"

// End reasons (Call.endReason).
const (
	EndUnjoined        = "unjoined"
	EndHangup          = "hangup"
	EndAgentHangup     = "agent_hangup"
	EndTimeout         = "timeout"
	EndConnectionError = "connection_error"
	EndSystemError     = "system_error"
)

// Billing statuses (Call.billingStatus).
const (
	BillingPending           = "BILLING_STATUS_PENDING"
	BillingBilled            = "BILLING_STATUS_BILLED"
	BillingFreeMinutes       = "BILLING_STATUS_FREE_MINUTES"
	BillingFreeZeroEffective = "BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION"
	BillingFreeSystemError   = "BILLING_STATUS_FREE_SYSTEM_ERROR"
)

// BillingUnit is the billing granularity: 6-second units, rounded up.
const BillingUnit = 6 * time.Second

// AgentSeed describes an agent to create at start.
type AgentSeed struct {
	ID           string // a UUID; derived from Name when empty
	Name         string
	SystemPrompt string
	// Greeting is what the agent says first on join; a default sentence
	// naming the agent when empty.
	Greeting string
	// MaxDuration and JoinTimeout are the agent's call template values; zero
	// leaves them unset so the API defaults apply.
	MaxDuration time.Duration
	JoinTimeout time.Duration
	// TimeExceededMessage is spoken when maxDuration is reached.
	TimeExceededMessage string
	// ClientTool, when set, is a client tool the agent invokes on every call
	// as soon as it is joined (tools.go).
	ClientTool string
	// TemplateVariables are {{variables}} the agent's system prompt uses;
	// a create without a value for each is refused with 400 (templates.go).
	TemplateVariables []string
}

// Options configure a Server. The zero value is usable: every zero field
// takes the documented default.
type Options struct {
	// APIKey is the only key accepted in X-API-Key (default DefaultAPIKey).
	APIKey string
	// Agents to seed; default two agents, the first named "Support agent".
	Agents []AgentSeed
	// AccountName defaults to "Demo account".
	AccountName string
	// FreeTime is the account's free call time (default 30 min; negative
	// means none).
	FreeTime time.Duration
	// MaxConcurrent is the concurrency cap (default 5; negative: no cap).
	MaxConcurrent int
	// RetryAfter is the Retry-After sent with the concurrency 429 (default 1 s,
	// sent in whole seconds, at least 1).
	RetryAfter time.Duration
	// CreatesPerMinute limits call creation over any sliding minute, as the
	// small plans do (30); a create over it gets 429 with Retry-After until
	// the oldest create leaves the window. Zero: no limit.
	CreatesPerMinute int
	// HangupReason is the endReason of a REST or socket hang_up (default
	// "agent_hangup").
	HangupReason string
	// SettleDelay is how long billingStatus stays PENDING after a call ends
	// (default 2 s; negative: settles at the moment it ends).
	SettleDelay time.Duration
	// DefaultJoinTimeout applies when neither request nor agent sets one
	// (default 30 s, as the API).
	DefaultJoinTimeout time.Duration
	// DefaultMaxDuration applies when neither request nor agent sets one
	// (default 3600 s, as the API).
	DefaultMaxDuration time.Duration
	// MediaIdleFloor is the smallest mediaIdleTimeout honoured; shorter
	// values are raised to it (default 10 s as the API; negative: no floor,
	// for tests).
	MediaIdleFloor time.Duration
	// SpeakGreeting makes the agent speak a greeting on join (unless the call
	// says the user speaks first). DefaultOptions sets it.
	SpeakGreeting bool
	// SpeechThreshold is the RMS level (of 32767) above which received audio
	// counts as speech (default 500).
	SpeechThreshold float64
	// EndOfSpeech is the quiet time after which the user is taken to have
	// stopped talking (default 600 ms of received audio).
	EndOfSpeech time.Duration
	// SendAhead is how far agent audio may run ahead of real time (default
	// 40 ms, one chunk), never more than the call's clientBufferSizeMs
	// (60 ms when unset, as the API). A large value with a large client
	// buffer makes the agent burst its audio, as Ultravox does, so that
	// playback_clear_buffer has seconds of queued audio to drop.
	SendAhead time.Duration
	// Speech is the agent's voice (default SynthSpeech: speech-like,
	// unintelligible). EspeakSpeech says the words. When it fails, the agent
	// falls back to SynthSpeech.
	Speech SpeechFunc
	// AudioRecordLimit caps the PCM kept per call and direction (default
	// 32 MiB, about 5.8 minutes at 48 kHz); past it only each frame's time
	// and length are kept. It bounds memory in long demo sessions.
	AudioRecordLimit int
	// MaxRecordedRequests caps the request log, oldest dropped first
	// (default 100000).
	MaxRecordedRequests int
	// Clock drives the lifecycle; real UTC time when nil.
	Clock Clock
	// ControlAPI serves the test controls over HTTP under /sim/control/
	// (POST, with the API key), for the standalone simulator.
	ControlAPI bool
	// Middleware wraps the REST handler (not the call sockets); the contract
	// validator plugs in here.
	Middleware func(http.Handler) http.Handler
	// ClientTool is the client tool every agent without its own
	// AgentSeed.ClientTool invokes once joined ("": none).
	ClientTool string
	// Logf, when set, receives one line per notable event. It never sees the
	// API key or a join URL.
	Logf func(format string, args ...any)
}

// DefaultOptions are the options of a realistic simulator: all defaults, and
// an agent that greets.
func DefaultOptions() Options {
	return Options{SpeakGreeting: true}
}

func (o *Options) fill() {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if len(o.Agents) == 0 {
		o.Agents = []AgentSeed{
			{Name: "Support agent", SystemPrompt: "You are a friendly support agent.",
				TimeExceededMessage: "We have reached the time limit for this call. Goodbye!"},
			{Name: "Sales agent", SystemPrompt: "You are a concise sales agent.", MaxDuration: 300 * time.Second},
		}
	}
	if o.AccountName == "" {
		o.AccountName = "Demo account"
	}
	if o.FreeTime == 0 {
		o.FreeTime = 30 * time.Minute
	} else if o.FreeTime < 0 {
		o.FreeTime = 0
	}
	if o.MaxConcurrent == 0 {
		o.MaxConcurrent = 5
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.HangupReason == "" {
		o.HangupReason = EndAgentHangup
	}
	if o.SettleDelay == 0 {
		o.SettleDelay = 2 * time.Second
	} else if o.SettleDelay < 0 {
		o.SettleDelay = 0
	}
	if o.DefaultJoinTimeout <= 0 {
		o.DefaultJoinTimeout = 30 * time.Second
	}
	if o.DefaultMaxDuration <= 0 {
		o.DefaultMaxDuration = 3600 * time.Second
	}
	if o.MediaIdleFloor == 0 {
		o.MediaIdleFloor = 10 * time.Second
	} else if o.MediaIdleFloor < 0 {
		o.MediaIdleFloor = 0
	}
	if o.SpeechThreshold <= 0 {
		o.SpeechThreshold = 500
	}
	if o.EndOfSpeech <= 0 {
		o.EndOfSpeech = 600 * time.Millisecond
	}
	if o.AudioRecordLimit <= 0 {
		o.AudioRecordLimit = 32 << 20
	}
	if o.MaxRecordedRequests <= 0 {
		o.MaxRecordedRequests = 100000
	}
	if o.SendAhead <= 0 {
		o.SendAhead = chunkDur
	}
	if o.Speech == nil {
		o.Speech = SynthSpeech
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
}

// validEndReason reports whether r is one of the schema's end reasons.
func validEndReason(r string) bool {
	switch r {
	case EndUnjoined, EndHangup, EndAgentHangup, EndTimeout, EndConnectionError, EndSystemError:
		return true
	}
	return false
}
