package model

import (
	"fmt"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// recentLabel is one history entry in the "Recent calls" submenu: agent,
// when, billed duration, cost, end reason.
func recentLabel(h calls.HistoryEntry, loc *time.Location) string {
	name := h.AgentName
	if name == "" {
		name = "Call"
	}
	when := "?"
	if !h.Started.IsZero() {
		when = h.Started.In(loc).Format("Jan 2 15:04")
	}
	return fmt.Sprintf("%s · %s · %s · %s · %s", name, when, words.Clock(h.BilledDuration), words.Money(h.Cost), endReasonWords(h.EndReason))
}

// endReasonWords turns the server's endReason into words.
func endReasonWords(r string) string {
	switch r {
	case "hangup":
		return "hung up"
	case "agent_hangup":
		return "agent hung up"
	case "timeout":
		return "timed out"
	case "unjoined":
		return "never joined"
	case "connection_error":
		return "connection lost"
	case "system_error":
		return "Ultravox error"
	case "":
		return "end reason unknown"
	}
	return r
}

// Row is one labelled line of a details window.
type Row struct {
	Label, Value string
	// Selectable values can be copied (IDs).
	Selectable bool
}

// RecentDetails is the window that shows one finished call.
type RecentDetails struct {
	Title string
	Rows  []Row
}

// GoneFromHistory is the notice for a recent call that left the history
// between the menu's rebuild and the click.
var GoneFromHistory = Notice{Title: "Recent call", Text: "That call is no longer in the history."}

// Recent is the details window of the finished call callID, or false when
// the history no longer holds it.
func Recent(s calls.Snapshot, callID string, loc *time.Location) (RecentDetails, bool) {
	h, ok := s.Finished(callID)
	if !ok {
		return RecentDetails{}, false
	}
	return recentDetails(h, loc), true
}

func recentDetails(h calls.HistoryEntry, loc *time.Location) RecentDetails {
	started := "unknown"
	if !h.Started.IsZero() {
		started = h.Started.In(loc).Format("Mon Jan 2 2006 15:04:05 MST")
	}
	// Words a user reads first; the call's id comes last, as a reference
	// to copy (support, the Ultravox console), never as a main line.
	return RecentDetails{
		Title: "Call with " + orDash(h.AgentName),
		Rows: []Row{
			{Label: "Agent", Value: orDash(h.AgentName)},
			{Label: "Started", Value: started},
			{Label: "Billed time", Value: words.Clock(h.BilledDuration)},
			{Label: "Cost", Value: words.Money(h.Cost)},
			{Label: "Ended", Value: words.Capitalize(endReasonWords(h.EndReason))},
			{Label: "Billing", Value: words.Capitalize(BillingWords(h.BillingStatus))},
			{Label: "Reference", Value: h.CallID, Selectable: true},
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
