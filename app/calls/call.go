package calls

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// maxTranscriptLines bounds the live transcript kept per call.
const maxTranscriptLines = 200

// ourCall is one call this app created (this session or, recovered from the
// journal, an earlier one) that the server has not confirmed ended. Every
// field is guarded by Manager.mu.
type ourCall struct {
	view   CallView
	entry  JournalEntry
	client *ultravox.Client // the client it was created with (nil: use the current one)

	sock     *ultravox.CallSocket
	audio    AudioSession
	audioSeq int // counts the audio sessions opened for the call (watchAudio's token)
	// textStop, while set, stops the call's silence sender (text mode: no
	// audio session; see sendSilence). teardownMedia closes it.
	textStop chan struct{}

	recovered        bool // from the journal of an earlier session
	createAmbiguous  bool // the create got no clear answer: find it by request id
	endRequested     bool // we want it ended (End, EndAll, EndEverything, a failed start, recovery)
	serverClosed     bool // the server closed our socket without us asking
	lostConnection   bool // our socket dropped while the call stayed live: we ended it
	notJoined        bool // ending was refused with 422: nobody joined, it expires for free
	flowRunning      bool // an endFlow goroutine works on it
	flowDeadline     time.Time
	endDone          chan struct{}
	startedNotified  bool
	soonNotified     bool
	unconfirmedNoted bool
	finalized        bool
}

func (oc *ourCall) copyView() CallView {
	v := oc.view
	v.Transcript = slices.Clone(v.Transcript)
	return v
}

func newID() string { return uuid.NewString() }

// viewFromCall is a server call as the UI sees it (ours or not).
func viewFromCall(c *ultravox.Call) CallView {
	v := CallView{
		ID:            c.CallID,
		RequestID:     c.RequestID(),
		Created:       c.Created,
		MaxDuration:   c.MaxDuration.Std(),
		EndReason:     c.EndReasonString(),
		BillingStatus: c.BillingStatus,
	}
	if c.Agent != nil {
		v.AgentID, v.AgentName = c.Agent.AgentID, c.Agent.Name
	}
	if v.AgentID == "" && c.AgentID != nil {
		v.AgentID = *c.AgentID
	}
	if c.Joined != nil {
		v.Joined = *c.Joined
	}
	if c.Ended != nil {
		v.Ended = *c.Ended
	}
	if c.BilledDuration != nil {
		v.BilledDuration = c.BilledDuration.Std()
	}
	v.Settled = ultravox.BillingSettled(c.BillingStatus)
	switch {
	case c.Ended != nil:
		v.State = CallEnded
	case c.Joined != nil:
		v.State = CallBilling
	default:
		v.State = CallJoining
	}
	return v
}

// applyServerLocked copies the server's truth about oc's call into its view
// and moves its state forward (joining -> billing, with EventCallStarted).
// It does not finalize an ended call; callers do. Reports whether the
// journal entry changed.
func (m *Manager) applyServerLocked(oc *ourCall, c *ultravox.Call) (journalChanged bool) {
	sv := viewFromCall(c)
	v := &oc.view
	if v.ID == "" {
		v.ID = sv.ID
	}
	if oc.entry.CallID == "" && sv.ID != "" {
		oc.entry.CallID = sv.ID
		journalChanged = true
	}
	v.Created = sv.Created
	if sv.MaxDuration > 0 {
		v.MaxDuration = sv.MaxDuration
	}
	if sv.AgentName != "" {
		v.AgentName = sv.AgentName
	}
	if sv.AgentID != "" {
		v.AgentID = sv.AgentID
	}
	v.EndReason, v.BillingStatus, v.BilledDuration, v.Settled = sv.EndReason, sv.BillingStatus, sv.BilledDuration, sv.Settled
	v.Ended = sv.Ended
	if !sv.Joined.IsZero() && !v.Joined.Equal(sv.Joined) {
		v.Joined = sv.Joined
		oc.entry.Joined = sv.Joined
		journalChanged = true
	}
	if !v.Joined.IsZero() && (v.State == CallCreating || v.State == CallJoining) && c.Ended == nil {
		v.State = CallBilling
		oc.entry.State = v.State.String()
		journalChanged = true
	}
	if !v.Joined.IsZero() && !oc.startedNotified && !oc.recovered && c.Ended == nil {
		oc.startedNotified = true
		m.emitLocked(Event{Kind: EventCallStarted, Call: oc.copyView(),
			Message: fmt.Sprintf("Call with %s started: billing runs until it ends (limit %s).", agentLabel(*v), fmtDur(v.MaxDuration))})
	}
	return journalChanged
}

// saveEntryLocked writes oc's journal entry; a failure is logged (the entry
// written before the create still finds the call by its request id).
func (m *Manager) saveEntryLocked(oc *ourCall) {
	if oc.finalized {
		return // removed on the confirmed end; never written back
	}
	oc.entry.State = oc.view.State.String()
	if oc.view.MaxDuration > 0 {
		oc.entry.MaxDurSec = oc.view.MaxDuration.Seconds()
	}
	if err := m.journal.Put(oc.entry); err != nil {
		m.log.Error("journal update failed", "call", shortID(oc.view.ID), "err", err)
	}
}

// finalizeLocked records the server-confirmed end of oc: it leaves the
// journal and the live list, goes to the settle watch, and the right event
// is emitted once.
func (m *Manager) finalizeLocked(oc *ourCall, c *ultravox.Call) {
	if oc.finalized {
		return
	}
	if c != nil {
		m.applyServerLocked(oc, c)
	}
	oc.finalized = true
	oc.view.State = CallEnded
	oc.view.Note = ""
	if oc.endDone != nil && !oc.flowRunning {
		close(oc.endDone)
		oc.endDone = nil
	}
	if err := m.journal.Remove(oc.entry); err != nil {
		// Keep it: the next start looks it up, sees it ended and drops it.
		m.log.Error("journal removal failed", "call", shortID(oc.view.ID), "err", err)
	}
	m.removeOurLocked(oc)
	v := oc.copyView()
	ev := Event{Kind: m.endEventKind(oc), Call: v}
	ev.Message = endMessage(ev.Kind, v, m.settings.PricePerMinute)
	m.emitLocked(ev)
	if !v.Joined.IsZero() && v.ID != "" {
		m.settling[v.ID] = &settleCall{view: v, since: m.now(), client: oc.client}
	}
	m.publishLocked()
}

// finalizeGoneLocked drops an entry whose call does not exist on the server
// (the create never reached it, or the call was deleted).
func (m *Manager) finalizeGoneLocked(oc *ourCall, why string) {
	if oc.finalized {
		return
	}
	oc.finalized = true
	oc.view.State = CallEnded
	if oc.endDone != nil && !oc.flowRunning {
		close(oc.endDone)
		oc.endDone = nil
	}
	if err := m.journal.Remove(oc.entry); err != nil {
		m.log.Error("journal removal failed", "request", oc.entry.RequestID, "err", err)
	}
	m.removeOurLocked(oc)
	if oc.recovered {
		m.emitLocked(Event{Kind: EventRecoveredEnded, Call: oc.copyView(),
			Message: "A call from an earlier session " + why + "; nothing is billing for it."})
	} else {
		m.log.Info("call start resolved: nothing to end", "request", oc.entry.RequestID, "why", why)
	}
	m.publishLocked()
}

func (m *Manager) endEventKind(oc *ourCall) EventKind {
	reason := oc.view.EndReason
	switch {
	case reason == ultravox.EndReasonUnjoined:
		if oc.recovered {
			return EventRecoveredEnded
		}
		return EventUnjoinedExpired
	case oc.recovered:
		return EventRecoveredEnded
	case oc.lostConnection:
		return EventConnectionLost
	case reason == ultravox.EndReasonTimeout:
		return EventTimedOut
	case reason == ultravox.EndReasonConnectionError || reason == ultravox.EndReasonSystemError:
		return EventConnectionLost
	case reason == ultravox.EndReasonAgentHangup:
		if oc.endRequested && !oc.serverClosed {
			return EventEnded // our REST or socket hang_up is reported as agent_hangup
		}
		return EventEndedByAgent
	case reason == ultravox.EndReasonHangup:
		if oc.endRequested && !oc.serverClosed {
			return EventEnded
		}
		// The server saw our client hang up, but we did not: the connection
		// dropped.
		return EventConnectionLost
	default:
		return EventEnded
	}
}

func endMessage(k EventKind, v CallView, price float64) string {
	who := agentLabel(v)
	dur := fmtDur(RoundToBillingUnit(v.Elapsed(v.Ended)))
	cost := fmtCost(v.Cost(v.Ended, price))
	switch k {
	case EventTimedOut:
		return fmt.Sprintf("Call with %s reached its %s limit and was ended by Ultravox (%s, about %s).", who, fmtDur(v.MaxDuration), dur, cost)
	case EventEndedByAgent:
		return fmt.Sprintf("%s hung up (%s, about %s).", who, dur, cost)
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
		return fmt.Sprintf("Call with %s ended (%s, about %s).", who, dur, cost)
	}
}

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

// fmtDur shows a duration as m:ss (or h:mm:ss).
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func fmtCost(c float64) string { return fmt.Sprintf("$%.2f", c) }

// applyTranscript folds one transcript message into the lines: a new
// ordinal is a new utterance, text replaces, delta appends.
func applyTranscript(lines []TranscriptLine, t ultravox.Transcript) []TranscriptLine {
	i := -1
	for j := len(lines) - 1; j >= 0; j-- {
		if lines[j].Ordinal == t.Ordinal {
			i = j
			break
		}
	}
	if i < 0 {
		lines = append(lines, TranscriptLine{Ordinal: t.Ordinal, Role: t.Role})
		i = len(lines) - 1
	}
	l := &lines[i]
	if t.Role != "" {
		l.Role = t.Role
	}
	switch {
	case t.Text != nil:
		l.Text = *t.Text
	case t.Delta != nil:
		l.Text += *t.Delta
	}
	l.Final = t.Final
	if len(lines) > maxTranscriptLines {
		lines = slices.Delete(lines, 0, len(lines)-maxTranscriptLines)
	}
	return lines
}
