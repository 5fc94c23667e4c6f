package calls

import (
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// ourCall is one call this app created (this session or, recovered from the
// journal, an earlier one) that the server has not confirmed ended. Every
// field is guarded by Manager.mu.
type ourCall struct {
	view   CallView
	entry  journalEntry
	client *ultravox.Client // the client it was created with (nil: use the current one)

	sock     *ultravox.CallSocket
	audio    AudioSession
	audioSeq int // counts the audio sessions opened for the call (watchAudio's token)
	// textStop, while set, stops the call's silence sender (text mode: no
	// audio session; see sendSilence). teardownMedia closes it.
	textStop chan struct{}

	recovered bool // from the journal of an earlier session

	// end is where the call is in its end (endphase.go), cause who started
	// it. endDone is closed by releaseEndWaitersLocked alone, when no
	// attempt runs; flowDeadline bounds the next attempt.
	end          endPhase
	cause        endCause
	endDone      chan struct{}
	flowDeadline time.Time
	// hangupAck, while set, is closed when the server accepts the REST
	// hang_up or the end is confirmed (EndForSleep waits for it).
	hangupAck chan struct{}

	// Each of these events is told once per call.
	startedNotified  bool
	soonNotified     bool
	unconfirmedNoted bool
}

// endAsked: someone asked for this call to be ended (a cause is recorded).
func (oc *ourCall) endAsked() bool { return oc.cause != causeNone }

// requestEnd records that oc is to be ended; the first cause given is kept.
func (oc *ourCall) requestEnd(cause endCause) {
	if oc.cause == causeNone {
		oc.cause = cause
	}
	oc.end.advance(endRequested) // only from endNone; later phases already want the end
}

func (oc *ourCall) copyView() CallView {
	v := oc.view
	v.Transcript = slices.Clone(v.Transcript)
	return v
}

func (oc *ourCall) snapshotView(m *Manager) CallView {
	m.mu.Lock()
	defer m.mu.Unlock()
	return oc.copyView()
}

func newID() string { return uuid.NewString() }

func shortID(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:8]
}

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
		m.emitLocked(Event{Kind: EventCallStarted, Call: oc.copyView(), Message: msgCallStarted(*v)})
	}
	return journalChanged
}

// saveEntryLocked writes oc's journal entry; a failure is logged (the entry
// written before the create still finds the call by its request id).
func (m *Manager) saveEntryLocked(oc *ourCall) {
	if oc.end.confirmed() {
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

func (m *Manager) clientForLocked(oc *ourCall) *ultravox.Client {
	if oc.client != nil {
		return oc.client
	}
	return m.client
}

func (m *Manager) findByIDLocked(callID string) *ourCall {
	for _, oc := range m.ours {
		if oc.view.ID == callID && callID != "" {
			return oc
		}
	}
	return nil
}

func (m *Manager) findByRequestLocked(rid string) *ourCall {
	for _, oc := range m.ours {
		if oc.view.RequestID == rid && rid != "" {
			return oc
		}
	}
	return nil
}

func (m *Manager) removeOurLocked(oc *ourCall) {
	m.ours = slices.DeleteFunc(m.ours, func(x *ourCall) bool { return x == oc })
}
