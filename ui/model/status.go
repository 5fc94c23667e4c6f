package model

import (
	"fmt"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// callName is how a call is named to the user.
func callName(c calls.CallView) string {
	name := c.AgentName
	if name == "" {
		name = c.AgentID
	}
	if !c.Ours {
		if name == "" {
			return "a call elsewhere"
		}
		return name + ", elsewhere"
	}
	if c.Recovered {
		if name == "" || name == c.AgentID {
			return "a call from an earlier session"
		}
		return name + " (earlier session)"
	}
	if name == "" {
		return "your call"
	}
	return name
}

func names(cs []calls.CallView) string {
	var n []string
	for _, c := range cs {
		n = append(n, callName(c))
	}
	if len(n) > 3 {
		n = append(n[:3], fmt.Sprintf("%d more", len(n)-3))
	}
	return strings.Join(n, "; ")
}

// unaccountedWords says that the account reports n active calls that no
// listing showed ("Account reports 1 active call not listed").
func unaccountedWords(n int) string {
	if n == 1 {
		return "Account reports 1 active call not listed"
	}
	return fmt.Sprintf("Account reports %d active calls not listed", n)
}

// lowerFirst lower-cases the first letter of one of our own (ASCII)
// sentences so that it can follow a semicolon.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// maxInfoLen bounds an information line in the menu; the call window shows
// the whole text.
const maxInfoLen = 90

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxInfoLen {
		return s
	}
	return strings.TrimSpace(string(r[:maxInfoLen-1])) + "…"
}

// callNotes are the manager's words about one call, one sentence each, for
// the menu: its note and its audio problem (a call from an earlier session
// says so in its name). No ticking numbers.
func callNotes(c calls.CallView) []string {
	var out []string
	if c.Note != "" {
		out = append(out, words.Capitalize(c.Note))
	}
	if c.AudioError != "" && c.State.Live() {
		l := "Audio: " + c.AudioError
		if !strings.Contains(c.AudioError, "text") && !strings.Contains(c.AudioError, "type") {
			l += " (type to the agent in Show call…)"
		}
		out = append(out, l)
	}
	return out
}

// infoItems are disabled lines under the status that tell what the manager
// knows beyond the state: calls the account reports but no listing shows,
// and each live call's notes. They change only with the snapshot.
func infoItems(s calls.Snapshot, status string) []Item {
	var items []Item
	if s.Unaccounted > 0 && !strings.Contains(status, "not listed") {
		items = append(items, Item{Label: unaccountedWords(s.Unaccounted)})
	}
	ours := s.OursLive()
	for _, c := range ours {
		for _, n := range callNotes(c) {
			l := n
			if len(ours) > 1 || !strings.Contains(status, callName(c)) {
				l = callName(c) + ": " + n
			}
			items = append(items, Item{Label: shorten(words.Capitalize(l))})
		}
	}
	return items
}

// ago says how long ago t was, in whole seconds or minutes.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	default:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
}

// healthWords says why the state is unknown.
func healthWords(s calls.Snapshot) string {
	switch s.Health {
	case calls.HealthKeyRejected:
		return "API key rejected"
	case calls.HealthNoKey:
		return "no API key set"
	case calls.HealthOffline:
		if s.HealthDetail != "" {
			return "offline (" + s.HealthDetail + ")"
		}
		return "offline"
	case calls.HealthRateLimited:
		return "rate limited by Ultravox"
	case calls.HealthUnchecked:
		return "not checked yet"
	}
	if s.Unaccounted > 0 {
		return lowerFirst(unaccountedWords(s.Unaccounted))
	}
	if s.HealthDetail != "" {
		return s.HealthDetail
	}
	return "cannot verify that nothing is billing"
}

// trayWords returns tooltip, title and the status line (the tooltip without
// the ticking numbers).
func trayWords(s calls.Snapshot, now time.Time) (tooltip, title, status string) {
	switch s.Overall {
	case calls.OverallBilling:
		tooltip, title, status = billingWords(s, now)
	case calls.OverallConnecting:
		who := names(s.LiveCalls())
		if who == "" {
			who = "starting a call"
		}
		tooltip = "Connecting: " + who
		title = "Connecting"
		status = tooltip
	case calls.OverallEnding:
		live := s.LiveCalls()
		tooltip = "Ending: " + names(live)
		if len(live) == 0 {
			tooltip = "Ending: waiting for Ultravox to confirm"
		}
		title = "Ending"
		status = tooltip
	case calls.OverallIdle:
		status = "Idle: no calls billing"
		if s.LastCheck.IsZero() {
			tooltip = status
		} else {
			tooltip = fmt.Sprintf("%s (checked %s)", status, ago(now, s.LastCheck))
		}
		title = "Idle"
	default:
		status = "Unknown: " + healthWords(s)
		tooltip = status
		if !s.LastCheck.IsZero() && s.Health != calls.HealthKeyRejected && s.Health != calls.HealthNoKey {
			tooltip = fmt.Sprintf("%s (last good check %s)", status, ago(now, s.LastCheck))
		}
		title = "Unknown"
	}
	if s.Unaccounted > 0 && !strings.Contains(tooltip, "not listed") {
		tooltip += "; " + lowerFirst(unaccountedWords(s.Unaccounted))
	}
	return tooltip, title, status
}

// billingWords are trayWords while something bills: the longest elapsed
// time and the summed cost of the calls that may be billing.
func billingWords(s calls.Snapshot, now time.Time) (tooltip, title, status string) {
	bill := s.Billing()
	if len(bill) == 0 { // the manager says billing: trust it, name what is live
		bill = s.LiveCalls()
	}
	var elapsed time.Duration
	var cost float64
	warn := ""
	for _, c := range bill {
		elapsed = max(elapsed, c.Elapsed(now))
		cost += c.Cost(now, s.PricePerMinute)
		if c.State == calls.CallEndUnconfirmed {
			warn = " – end not confirmed"
		}
	}
	count := ""
	if len(bill) > 1 {
		count = fmt.Sprintf("%d calls, ", len(bill))
	}
	who := names(bill)
	if who == "" {
		who = "calls on your account"
	}
	tooltip = fmt.Sprintf("Billing: %s%s, %s (%s)%s", count, words.Clock(elapsed), words.Money(cost), who, warn)
	title = fmt.Sprintf("Billing %s %s", words.Clock(elapsed), words.Money(cost))
	if len(bill) > 1 {
		status = fmt.Sprintf("Billing: %d calls (%s)%s", len(bill), who, warn)
	} else {
		status = fmt.Sprintf("Billing: %s%s", who, warn)
	}
	if s.Health != calls.HealthOK && s.Health != calls.HealthUnchecked {
		tooltip += "; " + healthWords(s)
	}
	return tooltip, title, status
}
