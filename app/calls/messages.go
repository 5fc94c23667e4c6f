package calls

import (
	"fmt"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// The words the manager says: every Event.Message, one complete sentence
// each, built here so the menu and the notifications never re-word them.

const (
	msgBackOnline  = "Ultravox answers again: the billing state is verified."
	msgKeyRejected = "Ultravox rejected the API key: the billing state cannot be checked until a valid key is set."
)

func agentLabel(v CallView) string {
	switch {
	case v.AgentName != "":
		return v.AgentName
	case v.AgentID != "":
		return "agent " + shortID(v.AgentID)
	default:
		return "the agent"
	}
}

func msgCallStarted(v CallView) string {
	return fmt.Sprintf("Call with %s started: billing runs until it ends (limit %s).", agentLabel(v), words.Clock(v.MaxDuration))
}

func msgEndingSoon(v CallView, left time.Duration) string {
	return fmt.Sprintf("Call with %s ends in %s: it reaches its %s limit.", agentLabel(v), words.Clock(left), words.Clock(v.MaxDuration))
}

// endMessage tells how a call of ours ended (k from endEventKind).
func endMessage(k EventKind, v CallView, price float64) string {
	who := agentLabel(v)
	dur := words.Clock(RoundToBillingUnit(v.Elapsed(v.Ended)))
	cost := words.Money(v.Cost(v.Ended, price))
	switch k {
	case EventTimedOut:
		return fmt.Sprintf("Call with %s reached its %s limit and was ended by Ultravox (%s, about %s).", who, words.Clock(v.MaxDuration), dur, cost)
	case EventEndedByAgent:
		return words.Capitalize(fmt.Sprintf("%s hung up (%s, about %s).", who, dur, cost))
	case EventConnectionLost:
		switch v.EndReason {
		case ultravox.EndReasonSystemError:
			return fmt.Sprintf("Call with %s was ended by an Ultravox system error (%s, about %s).", who, dur, cost)
		case ultravox.EndReasonConnectionError:
			return fmt.Sprintf("Call with %s ended: no audio reached Ultravox or the connection failed (%s, about %s).", who, dur, cost)
		}
		return fmt.Sprintf("The connection to the call with %s was lost; the call has ended (%s, about %s).", who, dur, cost)
	case EventUnjoinedExpired:
		return fmt.Sprintf("Call with %s was never joined and expired; it cost nothing.", who)
	case EventRecoveredEnded:
		if v.EndReason == ultravox.EndReasonUnjoined || v.Joined.IsZero() {
			return fmt.Sprintf("A call with %s from an earlier session was never joined and has ended; it cost nothing.", who)
		}
		return fmt.Sprintf("A call with %s left over from an earlier session has ended (%s, about %s).", who, dur, cost)
	default:
		return fmt.Sprintf("Call with %s ended (%s, about %s).", who, dur, cost) + unknownEndReasonNote(v) // enums.go
	}
}

// msgRecoveredGone: a journaled call from an earlier session turned out not
// to exist on the server (why says how).
func msgRecoveredGone(why string) string {
	return "A call from an earlier session " + why + "; nothing is billing for it."
}

func msgEndUnconfirmed(v CallView, why string) string {
	return fmt.Sprintf("Could not confirm that the call with %s ended (%s). It may still be billing; the app keeps checking.", agentLabel(v), why)
}

func msgEndUnconfirmedAtQuit(v CallView) string {
	return fmt.Sprintf("Could not confirm in time that the call with %s ended. It may still be billing; it will be checked and ended on the next start.", agentLabel(v))
}

// noteNeverJoined is the call's note while a never-joined call waits to
// expire.
func noteNeverJoined(joinTimeout time.Duration) string {
	return fmt.Sprintf("not joined: it costs nothing and expires by itself within %s", words.Clock(joinTimeout))
}

// noteUnconfirmedPrefix starts the note of a call whose end is unconfirmed;
// End's error repeats the rest.
const noteUnconfirmedPrefix = "the end is not confirmed yet: "

func msgAudioUnavailable(v CallView, err error) string {
	return fmt.Sprintf("No microphone or speaker for the call with %s (%s): the call is billing in text mode. Type in Show call… or end it.",
		agentLabel(v), audioErrText(err))
}

func msgAudioLost(v CallView, why string) string {
	return fmt.Sprintf("The audio of the call with %s stopped (%s). The call is still billing: type messages or end it.", agentLabel(v), why)
}

// audioErrText is err in words for the user: without the Go package
// prefix the voice layer puts on its errors.
func audioErrText(err error) string {
	s := strings.TrimSpace(err.Error())
	s = strings.TrimPrefix(s, "voice: ")
	if s == "" {
		s = "the audio device stopped"
	}
	return s
}

func msgBillingElsewhere(v CallView, now time.Time, price float64) string {
	return fmt.Sprintf("A call with %s is billing on your account from elsewhere (for %s so far, about %s).",
		agentLabel(v), words.Clock(v.Elapsed(now)), words.Money(v.Cost(now, price)))
}

// msgSettled sums up a call whose billing settled (or gave up settling).
func msgSettled(v CallView, billed time.Duration, cost float64) string {
	switch {
	case !v.Settled:
		return fmt.Sprintf("Call with %s: billing has not settled after %s; estimated %s, about %s.", agentLabel(v), words.Clock(settleLimit), words.Clock(billed), words.Money(cost))
	case v.BillingStatus == ultravox.BillingStatusBilled:
		return fmt.Sprintf("Call with %s billed: %s, %s.", agentLabel(v), words.Clock(billed), words.Money(cost))
	case !knownBillingStatus(v.BillingStatus): // enums.go: say what Ultravox said, claim nothing
		return fmt.Sprintf("Call with %s settled with billing status %s, which this version of the app does not know: %s, about %s if it is billed.",
			agentLabel(v), v.BillingStatus, words.Clock(billed), words.Money(cost))
	default:
		return fmt.Sprintf("Call with %s settled: %s, free (%s).", agentLabel(v), words.Clock(billed), billingWords(v.BillingStatus))
	}
}

func billingWords(status string) string {
	switch status {
	case ultravox.BillingStatusFreeMinutes:
		return "paid from free minutes"
	case ultravox.BillingStatusFreeZeroEffectiveDuration:
		return "no billable time"
	case ultravox.BillingStatusFreeSystemError:
		return "ended by a system error"
	case ultravox.BillingStatusFreeConsole:
		return "console call"
	case ultravox.BillingStatusRefunded:
		return "refunded"
	default:
		return status
	}
}

func msgBudgetReached(spent, budget float64) string {
	return fmt.Sprintf("Today's spend %s has reached the daily budget of %s: new calls are refused until tomorrow (UTC).", words.Money(spent), words.Money(budget))
}
