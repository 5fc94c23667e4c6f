// Package calls is the call manager: the one owner of what is billing, the
// journal of calls this app created, and the code that ends them. The UI only
// renders the Snapshots it publishes and calls the Manager's methods.
//
// This file is the contract between the manager and its consumers (ui/,
// app/power, cmd/). It holds plain data only.
package calls

import (
	"math"
	"time"
)

// Overall is the one state the tray icon shows.
type Overall int

const (
	// OverallUnknown: the app cannot verify that nothing is billing (never
	// checked, offline, key rejected, rate-limited past the grace period).
	OverallUnknown Overall = iota
	// OverallIdle: a check succeeded recently and nothing is live.
	OverallIdle
	// OverallConnecting: one of our calls is created but not joined yet.
	OverallConnecting
	// OverallBilling: a call (ours or elsewhere) is joined and not ended, or an
	// end could not be confirmed. Billing beats everything else.
	OverallBilling
	// OverallEnding: we sent the end and wait for the server to confirm.
	OverallEnding
)

func (o Overall) String() string {
	switch o {
	case OverallIdle:
		return "idle"
	case OverallConnecting:
		return "connecting"
	case OverallBilling:
		return "billing"
	case OverallEnding:
		return "ending"
	default:
		return "unknown"
	}
}

// Health says whether the last check of the account worked.
type Health int

const (
	HealthUnchecked   Health = iota // nothing checked yet
	HealthOK                        // last check succeeded
	HealthOffline                   // network error, timeout, 5xx
	HealthKeyRejected               // 401/403
	HealthRateLimited               // 429
	HealthNoKey                     // no API key configured
)

func (h Health) String() string {
	switch h {
	case HealthOK:
		return "ok"
	case HealthOffline:
		return "offline"
	case HealthKeyRejected:
		return "key rejected"
	case HealthRateLimited:
		return "rate limited"
	case HealthNoKey:
		return "no API key"
	default:
		return "not checked yet"
	}
}

// CallState is where one call is in its life, as far as this app knows.
type CallState int

const (
	CallCreating       CallState = iota // journaled, create request in flight
	CallJoining                         // created, not joined yet
	CallBilling                         // joined, not ended
	CallEnding                          // end sent, waiting for the server
	CallEnded                           // server confirmed `ended`
	CallEndUnconfirmed                  // end tried, server never confirmed: billing risk
)

func (s CallState) String() string {
	return [...]string{"creating", "joining", "billing", "ending", "ended", "end unconfirmed"}[s]
}

// Live reports whether the call may still cost money or still needs ending.
func (s CallState) Live() bool { return s != CallEnded }

// TranscriptLine is one utterance (one ordinal) of the live transcript.
type TranscriptLine struct {
	Ordinal int
	Role    string // "user" or "agent"
	Text    string
	Final   bool
}

// CallView is one call as the UI sees it. Times are the server's; a zero time
// means the server has not set it.
type CallView struct {
	ID        string
	RequestID string // our idempotency id (metadata), empty for calls elsewhere
	Ours      bool   // created by this app (this or an earlier session)

	AgentID   string
	AgentName string

	State       CallState
	Created     time.Time
	Joined      time.Time
	Ended       time.Time
	MaxDuration time.Duration

	EndReason      string // server's endReason once ended
	BillingStatus  string // server's billingStatus
	BilledDuration time.Duration
	Settled        bool // billingStatus left PENDING

	// Live media, ours only.
	AgentState  string // idle, listening, thinking, speaking
	Transcript  []TranscriptLine
	MicMuted    bool
	SpeakerMute bool
	AudioError  string // e.g. "no microphone"; the call still runs (text fallback)

	// Recovered marks a call from an earlier session found in the journal.
	Recovered bool
	// Note is a short human sentence about the call's state when there is
	// something to say, e.g. "not joined: costs nothing, expires by itself"
	// or the reason its end could not be confirmed.
	Note string
}

// BillingUnit is Ultravox's billing granularity: time is billed in 6-second
// units, rounded up.
const BillingUnit = 6 * time.Second

// Elapsed is the billed wall time so far: from the server's joined time to its
// ended time, or to now while the call is live. Zero before joining.
func (c CallView) Elapsed(now time.Time) time.Duration {
	if c.Joined.IsZero() {
		return 0
	}
	end := now
	if !c.Ended.IsZero() {
		end = c.Ended
	}
	if end.Before(c.Joined) {
		return 0
	}
	return end.Sub(c.Joined)
}

// RoundToBillingUnit rounds d up to whole 6-second units (37 s -> 42 s).
func RoundToBillingUnit(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	units := (d + BillingUnit - 1) / BillingUnit
	return units * BillingUnit
}

// Billed is the duration billed for the call at now: the server's
// billedDuration once it settled the call, else the elapsed time rounded up
// to whole billing units.
func (c CallView) Billed(now time.Time) time.Duration {
	if c.Settled {
		return c.BilledDuration
	}
	return RoundToBillingUnit(c.Elapsed(now))
}

// Cost is the estimated cost in dollars at pricePerMinute of the Billed
// duration.
func (c CallView) Cost(now time.Time, pricePerMinute float64) float64 {
	return math.Round(c.Billed(now).Minutes()*pricePerMinute*10000) / 10000
}

// MayBill reports whether a live call may be costing money: it joined, or it
// is in a state where only the server can say it stopped.
func (c CallView) MayBill() bool {
	return c.State == CallBilling || c.State == CallEndUnconfirmed || c.State == CallEnding || !c.Joined.IsZero()
}

// CanEnd reports whether asking to end the call makes sense: it is live and
// no end is in flight (an unconfirmed end may be tried again).
func (c CallView) CanEnd() bool {
	return c.State != CallEnding && c.State != CallEnded
}

// Remaining is the time left before maxDuration ends the call; 0 if unknown.
func (c CallView) Remaining(now time.Time) time.Duration {
	if c.MaxDuration <= 0 || c.Joined.IsZero() {
		return 0
	}
	r := c.MaxDuration - c.Elapsed(now)
	if r < 0 {
		return 0
	}
	return r
}

// AgentView is an agent that can be called.
type AgentView struct {
	ID   string
	Name string
}

// AccountView is what the tray shows of the account.
type AccountView struct {
	Name                   string
	ActiveCalls            int
	AllowedConcurrentCalls int
	FreeTimeRemaining      time.Duration
}

// HistoryEntry is a finished call in the local history (last 100).
type HistoryEntry struct {
	CallID         string
	AgentName      string
	Started        time.Time // joined, or created when never joined
	BilledDuration time.Duration
	Cost           float64
	EndReason      string
	BillingStatus  string
}

// Snapshot is everything the UI renders, taken at one instant. Subscribers
// always get whole snapshots, never a half-updated one. Slices are copies.
type Snapshot struct {
	Taken   time.Time
	Overall Overall

	Health       Health
	HealthDetail string    // human words, e.g. "API key rejected (401)"
	LastCheck    time.Time // last successful account check; zero if none

	Starting  bool       // a Start is in progress (menu disables Start)
	Ours      []CallView // our calls not yet confirmed ended, newest first
	Elsewhere []CallView // live calls on the account we did not start

	Account        AccountView
	Agents         []AgentView // default agent first
	DefaultAgentID string

	TodayMinutes   float64 // billed + live minutes today (UTC day)
	TodayCost      float64
	DailyBudget    float64 // 0 = no cap
	PricePerMinute float64

	History []HistoryEntry // newest first
	Demo    bool

	// Unaccounted is how many calls the account reports as active that no
	// listing showed: they may be billing, so the state cannot be "idle".
	Unaccounted int
}

// LiveCount is the number of calls that may be billing, ours and elsewhere.
func (s Snapshot) LiveCount() int {
	return len(s.OursLive()) + len(s.Elsewhere)
}

// OursLive are our calls not confirmed ended, newest first.
func (s Snapshot) OursLive() []CallView {
	var out []CallView
	for _, c := range s.Ours {
		if c.State.Live() {
			out = append(out, c)
		}
	}
	return out
}

// LiveCalls are the calls that may be billing: ours first, then those
// elsewhere.
func (s Snapshot) LiveCalls() []CallView {
	return append(s.OursLive(), s.Elsewhere...)
}

// Billing are the live calls that may be costing money now (CallView.MayBill).
func (s Snapshot) Billing() []CallView {
	var out []CallView
	for _, c := range s.LiveCalls() {
		if c.MayBill() {
			out = append(out, c)
		}
	}
	return out
}

// AccountLiveCount is how many calls End all would reach: the live calls we
// know of, or the account's own count when it reports more.
func (s Snapshot) AccountLiveCount() int {
	return max(s.LiveCount(), s.Account.ActiveCalls)
}

// Call is our call with the given ID, ended or not.
func (s Snapshot) Call(id string) (CallView, bool) {
	for _, c := range s.Ours {
		if c.ID == id {
			return c, true
		}
	}
	return CallView{}, false
}

// Finished is the history entry of the call with the given ID.
func (s Snapshot) Finished(id string) (HistoryEntry, bool) {
	for _, h := range s.History {
		if h.CallID == id {
			return h, true
		}
	}
	return HistoryEntry{}, false
}

// SettledToday sums the history of now's UTC day: the billed minutes and
// cost of calls that ended, without the ticking share of live calls that
// TodayMinutes and TodayCost include.
func (s Snapshot) SettledToday(now time.Time) (minutes, cost float64) {
	y, m, d := now.UTC().Date()
	for _, h := range s.History {
		hy, hm, hd := h.Started.UTC().Date()
		if hy == y && hm == m && hd == d {
			minutes += h.BilledDuration.Minutes()
			cost += h.Cost
		}
	}
	return minutes, cost
}

// EventKind says what a notification is about.
type EventKind int

const (
	EventCallStarted      EventKind = iota // our call joined: billing begins
	EventEndingSoon                        // EndingSoonLead (30 s) before maxDuration; none when maxDuration <= the lead
	EventTimedOut                          // server ended it: maxDuration reached
	EventEndedByAgent                      // agent_hangup
	EventConnectionLost                    // connection_error / socket dropped
	EventEnded                             // ended normally (hangup by us)
	EventEndUnconfirmed                    // could not confirm the end: urgent
	EventBillingElsewhere                  // a live call we did not start appeared
	EventRecoveredEnded                    // a call from an earlier session was ended
	EventBilledSummary                     // billing settled: duration and cost
	EventBudgetReached                     // daily budget cap reached
	EventKeyRejected                       // 401/403
	EventBackOnline                        // checks work again after failing
	EventUnjoinedExpired                   // our call was never joined and expired (free)
	EventJournalProblem                    // the journal was corrupt or unreadable (AtRisk: unreadable)
	EventAudioLost                         // our call's microphone or speaker stopped mid-call; the call still bills
	EventAudioUnavailable                  // our call started without audio (the devices failed to open): text mode, still billing
	EventHistoryProblem                    // the local call history was corrupt or unreadable: billing is not affected
)

func (k EventKind) String() string {
	names := [...]string{"call started", "ending soon", "timed out", "ended by agent", "connection lost",
		"ended", "end unconfirmed", "billing elsewhere", "recovered call ended", "billed summary",
		"budget reached", "key rejected", "back online", "unjoined call expired", "journal problem", "audio lost",
		"audio unavailable", "history problem"}
	if k < 0 || int(k) >= len(names) {
		return "unknown event"
	}
	return names[k]
}

// Event is one thing worth telling the user about. Call is set when the event
// is about one call.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Call    CallView
	Message string // complete human sentence, e.g. "Call timed out after 4:00, billed $0.20"
	// AtRisk says money may be at risk now (EventJournalProblem: the
	// journal cannot be read, so calls it lists may be billing unseen and
	// no call can be started). Events whose kind says so (EventEndUnconfirmed)
	// need not set it.
	AtRisk bool
}
