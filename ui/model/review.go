package model

import (
	"fmt"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// Labels of the review window (tests and the README use them).
const (
	LabelContinue      = "Continue this call"
	LabelPlayRecording = "Play recording"
	LabelStopRecording = "Stop"
	LabelSaveRecording = "Save recording…"
)

// Speaker says who said a transcript line.
type Speaker int

const (
	SpeakerUser Speaker = iota
	SpeakerAgent
	SpeakerTool
)

// ReviewLine is one line of a call's transcript.
type ReviewLine struct {
	Speaker Speaker
	Who     string // "You", the agent's name, "Tool lookup"
	Text    string
}

// ReviewView is the review window of one call: what it cost, how it ended,
// what was said, and what can be done with it now.
type ReviewView struct {
	Title string
	Rows  []Row
	// Status is "Loading the transcript…" or what went wrong; "" once
	// loaded.
	Status       string
	ShortSummary string
	Summary      string
	// WhyEnded quotes the agent's last line when the agent or a timeout
	// ended the call ("" otherwise).
	WhyEnded string
	Lines    []ReviewLine
	// Empty is shown instead of Lines when there are none.
	Empty string

	HasRecording  bool
	RecordingNote string // why there is none, or how to get it

	ContinueEnabled bool
	ContinueNote    string // why Continue is off, or what it does
	// CallID is the call's id, for Continue and the recording; shown last as
	// a reference, never as a main line.
	CallID string
}

// PlayLabel is the recording's play/stop button while it plays or not.
func PlayLabel(playing bool) string {
	if playing {
		return LabelStopRecording
	}
	return LabelPlayRecording
}

// ReviewLoading is the review window of history entry h while the service's
// records are fetched.
func ReviewLoading(h calls.HistoryEntry, loc *time.Location) ReviewView {
	d := recentDetails(h, loc)
	return ReviewView{Title: d.Title, Rows: d.Rows, Status: "Loading the transcript from Ultravox…", CallID: h.CallID,
		RecordingNote: "Checking for a recording…", ContinueNote: "Loading…"}
}

// ReviewFailed is the review window of h when the records could not be
// fetched: what is known locally, and the error in words.
func ReviewFailed(h calls.HistoryEntry, loc *time.Location, err error) ReviewView {
	v := ReviewLoading(h, loc)
	v.Status = "Could not load the call from Ultravox: " + err.Error()
	v.RecordingNote = ""
	v.ContinueNote = "Continuing needs the call's records from Ultravox."
	return v
}

// Review is the review window of r. s decides whether Continue is possible
// now; agentName names the agent when the call does not.
func Review(r calls.Review, s calls.Snapshot, loc *time.Location, now time.Time) ReviewView {
	c := r.Call
	agent := ""
	if c.Agent != nil {
		agent = c.Agent.Name
	}
	if agent == "" {
		if h, ok := s.Finished(c.CallID); ok {
			agent = h.AgentName
		}
	}
	v := ReviewView{Title: "Call with " + orDash(agent), CallID: c.CallID}
	started := c.Created
	if c.Joined != nil {
		started = *c.Joined
	}
	var billed time.Duration
	if c.BilledDuration != nil {
		billed = c.BilledDuration.Std()
	}
	cost := "not known yet"
	if c.BillingStatus == ultravox.BillingStatusBilled {
		cost = words.Money(billed.Minutes() * r.PricePerMinute)
	} else if ultravox.BillingSettled(c.BillingStatus) {
		cost = words.Money(0)
	}
	v.Rows = []Row{
		{Label: "Agent", Value: orDash(agent)},
		{Label: "Started", Value: started.In(loc).Format("Mon Jan 2 2006 15:04:05")},
		{Label: "Billed time", Value: words.Clock(billed)},
		{Label: "Cost", Value: cost},
		{Label: "Ended", Value: words.Capitalize(endReasonWords(c.EndReasonString()))},
		{Label: "Billing", Value: words.Capitalize(BillingWords(c.BillingStatus))},
		{Label: "Reference", Value: c.CallID, Selectable: true},
	}
	v.ShortSummary, v.Summary = summaries(c, now)
	for _, m := range r.Messages {
		if l, ok := reviewLine(m, agent); ok {
			v.Lines = append(v.Lines, l)
		}
	}
	if len(v.Lines) == 0 {
		v.Empty = "Nothing was said in this call."
	}
	v.WhyEnded = whyEnded(c.EndReasonString(), v.Lines)
	switch {
	case c.RecordingEnabled && c.Joined != nil && c.Ended != nil:
		v.HasRecording = true
		v.RecordingNote = "Recorded by Ultravox."
	case c.RecordingEnabled:
		v.RecordingNote = "Recording was on, but the call was never joined: there is nothing to hear."
	default:
		v.RecordingNote = "Not recorded. Turn on \"Record calls\" for this agent in Settings to record the next calls."
	}
	v.ContinueEnabled, v.ContinueNote = continueState(c, s)
	return v
}

// summaries are the call's short and full summary, or words that say why
// there is none.
func summaries(c ultravox.Call, now time.Time) (short, full string) {
	if c.ShortSummary != nil && *c.ShortSummary != "" {
		short = *c.ShortSummary
	}
	if c.Summary != nil && *c.Summary != "" {
		full = *c.Summary
	}
	if short != "" || full != "" {
		if full == short {
			full = ""
		}
		return short, full
	}
	if c.Joined == nil {
		return "No summary: the call was never joined.", ""
	}
	if c.Ended == nil || now.Sub(*c.Ended) < 10*time.Minute {
		return "Not available yet: Ultravox writes the summary shortly after the call ends.", ""
	}
	return "No summary: Ultravox did not write one for this call.", ""
}

func reviewLine(m ultravox.Message, agent string) (ReviewLine, bool) {
	text := strings.TrimSpace(m.Text)
	switch m.Role {
	case ultravox.MessageRoleUser:
		return ReviewLine{Speaker: SpeakerUser, Who: "You", Text: text}, text != ""
	case ultravox.MessageRoleAgent:
		who := agent
		if who == "" {
			who = "Agent"
		}
		return ReviewLine{Speaker: SpeakerAgent, Who: who, Text: text}, text != ""
	case ultravox.MessageRoleToolCall:
		return ReviewLine{Speaker: SpeakerTool, Who: "Tool " + orDash(m.ToolName), Text: "called " + orDash(text)}, true
	case ultravox.MessageRoleToolResult:
		if m.ErrorDetails != "" {
			text = "failed: " + m.ErrorDetails
		}
		return ReviewLine{Speaker: SpeakerTool, Who: "Tool " + orDash(m.ToolName), Text: "answered " + orDash(text)}, true
	}
	return ReviewLine{}, false
}

// whyEnded quotes the agent's last line when the agent or a time limit
// ended the call, so the user sees why.
func whyEnded(reason string, lines []ReviewLine) string {
	var what string
	switch reason {
	case ultravox.EndReasonAgentHangup:
		what = "Ultravox says the agent hung up"
	case ultravox.EndReasonTimeout:
		what = "The call reached its time limit"
	default:
		return ""
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Speaker == SpeakerAgent {
			return fmt.Sprintf("%s. The agent's last words: “%s”", what, lines[i].Text)
		}
	}
	return what + "."
}

// continueState says whether "Continue this call" can start now, and why
// not.
func continueState(c ultravox.Call, s calls.Snapshot) (bool, string) {
	switch {
	case c.Ended == nil:
		return false, "The call has not ended yet."
	case !hasKey(s):
		return false, "Set an API key to continue the call."
	case s.Starting:
		return false, "A call is being started."
	case len(s.OursLive()) > 0:
		return false, "End the current call first."
	}
	return true, "Starts a new call that remembers this conversation (it bills like any call)."
}

// BillingWords is a call's billing status in words.
func BillingWords(status string) string {
	switch status {
	case ultravox.BillingStatusBilled:
		return "billed"
	case ultravox.BillingStatusPending, ultravox.BillingStatusUnspecified, "":
		return "not settled yet"
	case ultravox.BillingStatusFreeMinutes:
		return "free (paid from free minutes)"
	case ultravox.BillingStatusFreeZeroEffectiveDuration:
		return "free (no billable time)"
	case ultravox.BillingStatusFreeSystemError:
		return "free (ended by an Ultravox error)"
	case ultravox.BillingStatusFreeConsole:
		return "free (console call)"
	case ultravox.BillingStatusFreeOther:
		return "free"
	case ultravox.BillingStatusRefunded:
		return "refunded"
	}
	return "unknown (" + status + ")"
}

// Menu labels of the review features.
const (
	LabelStartText = "Start text call with"
	LabelHistory   = "Call history…"
	LabelUsage     = "Usage…"
)

// textCallItem is "Start text call with" and its agents, default first.
func textCallItem(s calls.Snapshot) Item {
	it := Item{Label: LabelStartText, Enabled: !s.Starting && len(s.Agents) > 0}
	add := func(a calls.AgentView, suffix string) {
		it.Children = append(it.Children, Item{Label: agentLabel(a) + suffix, Enabled: it.Enabled, Action: Action{Kind: ActTextCall, Arg: a.ID}})
	}
	for _, a := range s.Agents {
		if a.ID == s.DefaultAgentID {
			add(a, " (default)")
		}
	}
	for _, a := range s.Agents {
		if a.ID != s.DefaultAgentID {
			add(a, "")
		}
	}
	return it
}

// reviewItems open the call history and the usage windows.
func reviewItems(s calls.Snapshot) []Item {
	return []Item{
		{Label: LabelHistory, Enabled: len(s.History) > 0, Action: Action{Kind: ActHistory}},
		{Label: LabelUsage, Enabled: hasKey(s), Action: Action{Kind: ActUsage}},
	}
}
