package calls

import "time"

// deriveInput is what the overall state depends on.
type deriveInput struct {
	Now       time.Time
	Health    Health
	LastCheck time.Time
	// Grace is how old the last successful check may be for "idle": two poll
	// intervals.
	Grace     time.Duration
	Starting  bool
	Ours      []CallView
	Elsewhere []CallView
	// Unaccounted is the number of calls the account says are active that
	// no listing showed: they may be billing.
	Unaccounted int
}

// deriveOverall is the one state the icon shows. Billing beats everything
// (an end that could not be confirmed counts as billing); then ending; then
// connecting; "idle" only when a check succeeded within the grace period and
// the key is accepted; otherwise "unknown".
func deriveOverall(in deriveInput) Overall {
	ending, connecting := false, false
	for _, c := range in.Ours {
		switch c.State {
		case CallBilling, CallEndUnconfirmed:
			return OverallBilling
		case CallEnding:
			ending = true
		case CallCreating, CallJoining:
			connecting = true
		}
	}
	for _, c := range in.Elsewhere {
		if c.State == CallBilling || !c.Joined.IsZero() {
			return OverallBilling
		}
		connecting = true // created elsewhere, not joined yet: not billing yet
	}
	switch {
	case ending:
		return OverallEnding
	case connecting || in.Starting:
		return OverallConnecting
	}
	if in.Unaccounted > 0 {
		return OverallUnknown
	}
	switch in.Health {
	case HealthOK, HealthOffline, HealthRateLimited:
		// Offline or throttled: the last good check still counts until the
		// grace period runs out.
		if !in.LastCheck.IsZero() && in.Now.Sub(in.LastCheck) <= in.Grace {
			return OverallIdle
		}
	}
	return OverallUnknown
}
