package model

import (
	"fmt"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// CallWindow is what the call window shows of one of our calls at one
// instant.
type CallWindow struct {
	// Ended is set once the snapshot no longer holds the call: the window
	// says so, disables everything and keeps its title, mute ticks and
	// transcript as they were; the fields below are then empty.
	Ended bool
	Title string
	// Header is the call's name and state, ticking while it bills.
	Header     string
	AgentState string
	// Note and AudioError are hidden when empty.
	Note        string
	AudioError  string
	MicMuted    bool
	SpeakerMute bool
	// Talk enables the mute boxes, the text entry and Send: only a joined
	// call has media to mute and a socket to type into.
	Talk bool
	// CanEnd enables End call.
	CanEnd bool
	// Transcript is the whole transcript text; Lines counts its utterances,
	// so that the window scrolls down only when one is added.
	Transcript string
	Lines      int
}

// Call window texts.
const (
	callEndedHeader  = "This call has ended."
	TextPlaceholder  = "Type a message to the agent"
	LabelMuteSpeaker = "Mute speaker"
	LabelSend        = "Send"
	CallWindowTitle  = "Call" // until the snapshot names the agent
)

// CallWindowView is the call window of our call callID in s at now.
func CallWindowView(s calls.Snapshot, callID string, now time.Time) CallWindow {
	c, ok := s.Call(callID)
	if !ok {
		return CallWindow{Ended: true, Header: callEndedHeader}
	}
	name := c.AgentName
	if name == "" {
		name = c.AgentID
	}
	v := CallWindow{
		Title:       "Call with " + name,
		AgentState:  "Agent: " + orDash(c.AgentState),
		Note:        callNoteText(c),
		MicMuted:    c.MicMuted,
		SpeakerMute: c.SpeakerMute,
		Talk:        c.State == calls.CallBilling,
		CanEnd:      c.CanEnd(),
		Transcript:  transcriptText(c.Transcript),
		Lines:       len(c.Transcript),
	}
	if c.Recovered {
		name += " (earlier session)"
	}
	v.Header = fmt.Sprintf("%s: %s", name, callState(c, now, s.PricePerMinute))
	if c.AudioError != "" {
		v.AudioError = "Audio: " + c.AudioError + " (you can still type)"
	}
	return v
}

// callState is the header's state: while billing, the time, cost and time
// left.
func callState(c calls.CallView, now time.Time, price float64) string {
	switch c.State {
	case calls.CallBilling:
		st := fmt.Sprintf("billing %s, %s", words.Clock(c.Elapsed(now)), words.Money(c.Cost(now, price)))
		if r := c.Remaining(now); r > 0 {
			st += fmt.Sprintf(" (ends in %s)", words.Clock(r))
		}
		return st
	case calls.CallEndUnconfirmed:
		return "end not confirmed: may still be billing"
	}
	return c.State.String()
}

// callNoteText is what the call window says about a call beyond its state:
// where it came from when an earlier session left it live, and the
// manager's note.
func callNoteText(c calls.CallView) string {
	var parts []string
	if c.Recovered {
		parts = append(parts, "An earlier session of Ultravox Tray left this call live (it was in the call journal); it is being ended.")
	}
	if n := words.Sentence(c.Note); n != "" {
		parts = append(parts, n)
	}
	return strings.Join(parts, " ")
}

// transcriptText renders transcript lines as "Agent: ..." / "You: ...".
func transcriptText(lines []calls.TranscriptLine) string {
	var b strings.Builder
	for _, l := range lines {
		who := "Agent"
		switch l.Role {
		case "user":
			who = "You"
		case calls.RoleTool:
			who = "Tool"
		}
		b.WriteString(who + ": " + l.Text)
		if !l.Final {
			b.WriteString(" …")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
