package calls

import (
	"fmt"
	"time"
)

// Settings are the user-tunable limits of the calls this app creates. The
// zero value is not useful; start from DefaultSettings.
type Settings struct {
	// MaxDuration is sent as the call's maxDuration: the server ends the call
	// (endReason "timeout") when it is reached. The API default is one hour,
	// so it is always sent explicitly.
	MaxDuration time.Duration
	// JoinTimeout is sent as joinTimeout: an unjoined call expires (free)
	// after it.
	JoinTimeout time.Duration
	// MediaIdleTimeout is sent as the serverWebSocket mediaIdleTimeout: the
	// server ends a call that receives no audio for this long.
	MediaIdleTimeout time.Duration
	// PricePerMinute is the price used for cost estimates, in dollars.
	PricePerMinute float64
	// DailyBudget refuses new calls once today's (UTC) spend reaches it, in
	// dollars. 0 disables the cap.
	DailyBudget float64
	// InputRate and OutputRate are the PCM sample rates (Hz) the call is
	// created with: microphone to server and server to speaker.
	InputRate, OutputRate int
	// DefaultAgentID is the agent Start("") calls.
	DefaultAgentID string
	// DeleteAfterEnd deletes a call's data on the server (DELETE) once it has
	// ended and settled.
	DeleteAfterEnd bool
	// EndingSoonLead is how long before maxDuration EventEndingSoon fires.
	// Calls whose maxDuration is not longer than the lead get no warning
	// (see soonDeadlineLocked); 0 turns the warning off.
	EndingSoonLead time.Duration
	// RecordCalls lists the agents (by ID) whose calls are created with
	// recordingEnabled; every other call is not recorded.
	RecordCalls map[string]bool
	// TemplateValues are the user's values for agents' {{variables}}, by
	// agent id then variable name; a create sends the agent's values as
	// templateContext (templates.go).
	TemplateValues map[string]map[string]string
}

// DefaultSettings are the limits a new user gets: a 4-minute call, a short
// join timeout, and the published price of $0.05 a minute.
func DefaultSettings() Settings {
	return Settings{
		MaxDuration:      240 * time.Second,
		JoinTimeout:      15 * time.Second,
		MediaIdleTimeout: 30 * time.Second,
		PricePerMinute:   0.05,
		DailyBudget:      0,
		InputRate:        16000,
		OutputRate:       16000,
		DefaultAgentID:   "",
		DeleteAfterEnd:   false,
		EndingSoonLead:   30 * time.Second,
	}
}

// Validate says, in words a user understands, what is wrong with s.
func (s Settings) Validate() error {
	switch {
	case s.MaxDuration < time.Second:
		return fmt.Errorf("maximum call duration must be at least 1 second, got %s", s.MaxDuration)
	case s.MaxDuration > 24*time.Hour:
		return fmt.Errorf("maximum call duration must be at most 24 hours, got %s", s.MaxDuration)
	case s.JoinTimeout < time.Second:
		return fmt.Errorf("join timeout must be at least 1 second, got %s", s.JoinTimeout)
	case s.MediaIdleTimeout < 0:
		return fmt.Errorf("media idle timeout must not be negative, got %s", s.MediaIdleTimeout)
	case s.PricePerMinute < 0:
		return fmt.Errorf("price per minute must not be negative, got %g", s.PricePerMinute)
	case s.DailyBudget < 0:
		return fmt.Errorf("daily budget must not be negative (0 turns it off), got %g", s.DailyBudget)
	case !validRate(s.InputRate):
		return fmt.Errorf("input sample rate must be between 8000 and 48000 Hz, got %d", s.InputRate)
	case !validRate(s.OutputRate):
		return fmt.Errorf("output sample rate must be between 8000 and 48000 Hz, got %d", s.OutputRate)
	case s.EndingSoonLead < 0:
		return fmt.Errorf("ending-soon warning lead must not be negative, got %s", s.EndingSoonLead)
	}
	return validateTemplateValues(s.TemplateValues)
}

func validRate(r int) bool { return r >= 8000 && r <= 48000 }
