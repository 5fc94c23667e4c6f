package model

import (
	"fmt"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// HistoryTitle is the call history window's title; AllAgents its filter
// that shows every call.
const (
	HistoryTitle = "Call history"
	AllAgents    = "All agents"
)

// HistoryRow is one finished call of the history window.
type HistoryRow struct {
	CallID string
	Cells  []string // agent, start, duration, cost, end reason
}

// HistoryView is the call history window: the last calls (up to 100),
// filtered by agent.
type HistoryView struct {
	Title   string
	Filters []string // AllAgents, then each agent name in the history
	Filter  string
	Headers []string
	Rows    []HistoryRow
	Empty   string // shown when Rows is empty
	Hint    string
}

// History is the history window of s showing the calls with agent filter
// (AllAgents or "" for all).
func History(s calls.Snapshot, filter string, loc *time.Location) HistoryView {
	if filter == "" {
		filter = AllAgents
	}
	v := HistoryView{Title: HistoryTitle, Filters: []string{AllAgents}, Filter: filter,
		Headers: []string{"Agent", "Started", "Billed", "Cost", "Ended"},
		Hint:    "Open a call to read its transcript, hear its recording or continue it."}
	seen := map[string]bool{}
	for _, h := range s.History {
		name := orDash(h.AgentName)
		if !seen[name] {
			seen[name] = true
			v.Filters = append(v.Filters, name)
		}
		if filter != AllAgents && name != filter {
			continue
		}
		when := "unknown"
		if !h.Started.IsZero() {
			when = h.Started.In(loc).Format("Jan 2 15:04")
		}
		v.Rows = append(v.Rows, HistoryRow{CallID: h.CallID, Cells: []string{
			name, when, words.Clock(h.BilledDuration), words.Money(h.Cost), words.Capitalize(endReasonWords(h.EndReason)),
		}})
	}
	switch {
	case len(s.History) == 0:
		v.Empty = "No finished calls yet."
	case len(v.Rows) == 0:
		v.Empty = fmt.Sprintf("No calls with %s in the last %d.", filter, len(s.History))
	}
	return v
}
