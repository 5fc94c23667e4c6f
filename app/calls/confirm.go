package calls

import (
	"context"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// endCheck is what one confirmation has learnt so far.
type endCheck struct {
	client        *ultravox.Client
	id            string
	socketWasOpen bool // our socket was open until just now: its close most likely ends the call
	knownUnjoined bool // an earlier attempt found the call never joined
	needREST      bool // the REST hang_up must be sent
	restSent      bool
	closedAt      time.Time
	why           string // why the end is not confirmed yet
}

// confirmEnd makes sure the server ends oc and says so: the REST hang_up
// (unless an earlier attempt found the call never joined), then GETs until
// ended, the first without any wait (fastend.go). socketWasOpen: our call
// socket was open until just now (we closed it, or the server did).
func (m *Manager) confirmEnd(ctx context.Context, oc *ourCall, socketWasOpen, knownUnjoined bool) (endOutcome, string) {
	m.mu.Lock()
	client := m.clientForLocked(oc)
	id := oc.view.ID
	m.mu.Unlock()
	if client == nil {
		return outcomeUnconfirmed, "no API key is set to check it with"
	}
	if id == "" {
		var out endOutcome
		var why string
		if id, out, why = m.findCreated(ctx, client, oc); id == "" {
			return out, why
		}
	}
	// The REST hang_up goes out at once, beside the socket close (both end
	// the call; whichever arrives first does): its 204 is a round trip
	// away, where waiting for the close to show first cost seconds.
	ec := &endCheck{client: client, id: id, socketWasOpen: socketWasOpen, knownUnjoined: knownUnjoined,
		needREST: !knownUnjoined, closedAt: time.Now()}
	g := m.newGetter(ctx, client, id)
	defer g.stop()
	rtt := m.rtt.get()
	if ec.needREST && rtt > 0 {
		// One GET 0.3 round trips after the hang_up (and the socket close
		// before it) reaches the server 0.3 round trips after they did:
		// back at 1.3 round trips instead of 2 after the 204. Another GET
		// follows the 204 anyway.
		g.fire(rtt * 3 / 10)
	}
	delay := max(rtt/2, minConfirmDelay)
	for {
		if ec.needREST && !ec.restSent {
			if m.sendRESTHangUp(ctx, oc, ec) {
				return outcomeConfirmed, ""
			}
			m.hangupAcked(oc, ec)
		}
		if g.inflight == 0 {
			g.fire(0) // right after the 204: no sleep first
		}
		out, done, ok := m.nextGet(ctx, oc, ec, g)
		if done {
			return out, ""
		}
		if !ok {
			return m.abortedOr(ctx, outcomeUnconfirmed), ec.why
		}
		if g.inflight > 0 {
			continue // an earlier GET is still on its way
		}
		// Still live: ask again after a wait that grows from half a round
		// trip, not a fixed interval.
		if !sleepCtx(ctx, delay) {
			return m.abortedOr(ctx, outcomeUnconfirmed), ec.why
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// findCreated looks up, by its request id, a call whose create never
// answered. It returns the call's id, or "" when this attempt is over (the
// outcome and why say how).
func (m *Manager) findCreated(ctx context.Context, client *ultravox.Client, oc *ourCall) (string, endOutcome, string) {
	m.mu.Lock()
	rid, since := oc.entry.RequestID, oc.entry.Started
	m.mu.Unlock()
	c, err := client.FindCallByMetadata(ctx, ultravox.MetaRequestID, rid, since.Add(-10*time.Minute))
	if err != nil {
		return "", m.abortedOr(ctx, outcomeUnconfirmed), "could not look the call up: " + err.Error()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c == nil {
		m.finalizeGoneLocked(oc, "never reached Ultravox")
		return "", outcomeConfirmed, ""
	}
	if m.applyServerLocked(oc, c) {
		m.saveEntryLocked(oc)
	}
	if c.Ended != nil {
		m.finalizeLocked(oc, c)
		return "", outcomeConfirmed, ""
	}
	return c.CallID, 0, ""
}

// sendRESTHangUp asks the server to end the call; it reports true when the
// call turned out not to exist (its end is then recorded).
func (m *Manager) sendRESTHangUp(ctx context.Context, oc *ourCall, ec *endCheck) (gone bool) {
	err := ec.client.HangUp(ctx, ec.id, restHangupMessage)
	switch {
	case err == nil, ultravox.IsNotActive(err):
		ec.restSent = true // the GET tells ended from not joined
	case ultravox.IsNotFound(err):
		m.mu.Lock()
		m.finalizeGoneLocked(oc, "no longer exists on the server")
		m.mu.Unlock()
		return true
	default:
		ec.why = "hang-up failed: " + err.Error()
	}
	return false
}

// nextGet waits for the next GET of the call and folds it in. done
// reports that this attempt is over; ok false that ctx ended first.
func (m *Manager) nextGet(ctx context.Context, oc *ourCall, ec *endCheck, g *getter) (out endOutcome, done, ok bool) {
	var r getResult
	select {
	case r = <-g.results:
		g.inflight--
	case <-ctx.Done():
		return 0, false, false
	}
	out, done = m.checkEnded(oc, ec, r.c, r.err)
	return out, done, true
}

// checkEnded folds one GET of the call in. done reports that this attempt
// is over (confirmed, or not joined); otherwise ec says what to do next.
func (m *Manager) checkEnded(oc *ourCall, ec *endCheck, c *ultravox.Call, err error) (out endOutcome, done bool) {
	switch {
	case err == nil:
	case ultravox.IsNotFound(err):
		m.mu.Lock()
		m.finalizeGoneLocked(oc, "no longer exists on the server")
		m.mu.Unlock()
		return outcomeConfirmed, true
	default:
		ec.why = err.Error()
		m.noteOffline(ec.client, err)
		return 0, false
	}
	m.mu.Lock()
	if oc.end.confirmed() {
		m.mu.Unlock()
		return outcomeConfirmed, true
	}
	if c.Ended != nil {
		m.finalizeLocked(oc, c)
		m.mu.Unlock()
		return outcomeConfirmed, true
	}
	if m.applyServerLocked(oc, c) {
		m.saveEntryLocked(oc)
	}
	m.publishLocked()
	m.mu.Unlock()
	return m.judgeStillLive(oc, ec, c)
}

// judgeStillLive decides what a call the server still shows live needs: a
// never-joined call is done (free, it expires); a socket close that did not
// end it within closeGrace needs the REST hang_up.
func (m *Manager) judgeStillLive(oc *ourCall, ec *endCheck, c *ultravox.Call) (endOutcome, bool) {
	if c.Joined == nil && (ec.restSent || ec.knownUnjoined) {
		return outcomeNotJoined, true
	}
	graceOver := time.Since(ec.closedAt) > closeGrace
	if c.Joined == nil && ec.socketWasOpen && graceOver {
		ec.needREST = true // our socket never counted as a join
	}
	if c.Joined != nil && !ec.needREST && graceOver {
		ec.needREST = true // the socket close did not end it: hang up over REST
		m.mu.Lock()
		if oc.cause == causeSocketDropped {
			oc.cause = causeConnectionLost // our socket dropped, the call billed on
		}
		m.mu.Unlock()
	}
	ec.why = "Ultravox still shows the call as live"
	return 0, false
}

func (m *Manager) abortedOr(ctx context.Context, o endOutcome) endOutcome {
	if m.ctx.Err() != nil {
		return outcomeAborted
	}
	return o
}

// finalizeLocked records the server-confirmed end of oc: it leaves the
// journal and the live list, goes to the settle watch, and the right event
// is emitted once.
func (m *Manager) finalizeLocked(oc *ourCall, c *ultravox.Call) {
	if oc.end.confirmed() {
		return
	}
	if c != nil {
		m.applyServerLocked(oc, c)
	}
	m.recordEndLocked(oc)
	oc.view.Note = ""
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
	if oc.end.confirmed() {
		return
	}
	m.recordEndLocked(oc)
	if oc.recovered {
		m.emitLocked(Event{Kind: EventRecoveredEnded, Call: oc.copyView(), Message: msgRecoveredGone(why)})
	} else {
		m.log.Info("call start resolved: nothing to end", "request", oc.entry.RequestID, "why", why)
	}
	m.publishLocked()
}

// recordEndLocked moves oc to endConfirmed and out of the journal and the
// live list; waiters are released unless an attempt still runs (it releases
// them when it returns).
func (m *Manager) recordEndLocked(oc *ourCall) {
	oc.end.advance(endConfirmed)
	oc.view.State = CallEnded
	ackHangupLocked(oc)
	m.releaseEndWaitersLocked(oc)
	if err := m.journal.Remove(oc.entry); err != nil {
		// Keep it: the next start looks it up, sees it ended and drops it.
		m.log.Error("journal removal failed", "call", shortID(oc.view.ID), "request", oc.entry.RequestID, "err", err)
	}
	m.removeOurLocked(oc)
}

// endEventKind says how oc ended, from the server's endReason and who asked.
func (m *Manager) endEventKind(oc *ourCall) EventKind {
	reason := oc.view.EndReason
	weAsked := oc.cause == causeUs // our REST or socket hang_up shows as agent_hangup or hangup
	switch {
	case reason == ultravox.EndReasonUnjoined:
		if oc.recovered {
			return EventRecoveredEnded
		}
		return EventUnjoinedExpired
	case oc.recovered:
		return EventRecoveredEnded
	case oc.cause == causeConnectionLost:
		return EventConnectionLost
	case reason == ultravox.EndReasonTimeout:
		return EventTimedOut
	case reason == ultravox.EndReasonConnectionError || reason == ultravox.EndReasonSystemError:
		return EventConnectionLost
	case reason == ultravox.EndReasonAgentHangup:
		if weAsked {
			return EventEnded
		}
		return EventEndedByAgent
	case reason == ultravox.EndReasonHangup:
		if weAsked {
			return EventEnded
		}
		// The server saw our client hang up, but we did not: the connection
		// dropped.
		return EventConnectionLost
	default:
		return EventEnded
	}
}
