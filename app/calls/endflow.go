package calls

import (
	"context"
	"time"
)

const (
	hangupMessage = "Goodbye"
	// endConfirmLimit bounds one end attempt (hang-up plus GET until
	// ended); after it the call is "end unconfirmed" and the watcher keeps
	// trying on every poll.
	endConfirmLimit = 30 * time.Second
	// closeGrace is how long a socket hang_up waits before the REST
	// hang_up is sent as well (our close may not have reached the server).
	closeGrace = 3 * time.Second
)

// endOutcome is how one end attempt (endFlow) finished.
type endOutcome int

const (
	outcomeConfirmed   endOutcome = iota // the server says ended (or the call does not exist)
	outcomeNotJoined                     // nobody joined: free, expires by itself; watched until it does
	outcomeUnconfirmed                   // no confirmation within the limit
	outcomeAborted                       // the manager is closing
)

// beginEndLocked marks oc to be ended and starts an end attempt unless one
// is running (or the create is still in flight: Start starts it then). It
// returns a channel closed when the attempt finishes.
func (m *Manager) beginEndLocked(oc *ourCall, deadline time.Time) <-chan struct{} {
	oc.requestEnd(causeUs)
	if !oc.end.attemptRunning() {
		oc.flowDeadline = deadline
	}
	if oc.endDone == nil {
		oc.endDone = make(chan struct{})
	}
	done := oc.endDone
	if oc.end.confirmed() {
		m.releaseEndWaitersLocked(oc)
		return done
	}
	if oc.view.State != CallCreating {
		m.markEndingLocked(oc)
		m.startFlowLocked(oc)
	}
	return done
}

// markEndingLocked shows oc as ending (and journals it) unless it is
// still being created or already shows an end under way.
func (m *Manager) markEndingLocked(oc *ourCall) {
	switch oc.view.State {
	case CallCreating, CallEnding, CallEndUnconfirmed:
		return
	}
	oc.view.State = CallEnding
	m.saveEntryLocked(oc)
}

// startFlowLocked starts an end attempt (endFlow) for oc unless one runs
// already, the end is confirmed, nobody asked for it, or the manager closed.
func (m *Manager) startFlowLocked(oc *ourCall) {
	if m.closed {
		return
	}
	next := endTearingDown
	if oc.end == endNeverJoined {
		next = endRecheckingUnjoined // nothing to tear down or hang up: see whether it expired
	}
	if !oc.end.advance(next) {
		return
	}
	if oc.endDone == nil {
		oc.endDone = make(chan struct{})
	}
	m.wg.Add(1)
	go m.endFlow(oc)
}

// endFlow is one end attempt: it tears down our media (closing the socket
// ends a websocket call on the server), then confirmEnd sends the REST
// hang_up when needed and GETs the call until it is ended, with bounded
// backoff.
func (m *Manager) endFlow(oc *ourCall) {
	defer m.wg.Done()
	ctx, cancel := m.attemptContext(oc)
	defer cancel()
	wasOpen := m.teardownMedia(oc, hangupMessage)

	m.mu.Lock()
	oc.end.advance(endConfirming) // from endTearingDown only
	socketEnded := wasOpen || oc.cause == causeSocketDropped || oc.cause == causeConnectionLost
	knownUnjoined := oc.end == endRecheckingUnjoined
	m.mu.Unlock()

	out, why := m.confirmEnd(ctx, oc, socketEnded, knownUnjoined)

	m.mu.Lock()
	defer m.mu.Unlock()
	m.recordAttemptLocked(oc, out, why)
	m.releaseEndWaitersLocked(oc)
	m.publishLocked()
}

// attemptContext bounds one attempt by endConfirmLimit, or sooner by the
// deadline of whoever asked for the end.
func (m *Manager) attemptContext(oc *ourCall) (context.Context, context.CancelFunc) {
	m.mu.Lock()
	deadline := time.Now().Add(endConfirmLimit)
	if !oc.flowDeadline.IsZero() && oc.flowDeadline.Before(deadline) {
		deadline = oc.flowDeadline
	}
	oc.flowDeadline = time.Time{}
	m.mu.Unlock()
	return context.WithDeadline(m.ctx, deadline)
}

// recordAttemptLocked moves oc's end phase on from a finished attempt and
// shows the outcome on the call. A confirmed end was recorded by
// finalizeLocked already.
func (m *Manager) recordAttemptLocked(oc *ourCall, out endOutcome, why string) {
	wasRecheck := oc.end == endRecheckingUnjoined
	switch out {
	case outcomeNotJoined:
		if oc.end.advance(endNeverJoined) {
			oc.view.State = CallEnding
			oc.view.Note = noteNeverJoined(m.settings.JoinTimeout)
		}
	case outcomeUnconfirmed:
		// A never-joined call stays known as such (it costs nothing), but
		// shows that it could not be checked.
		next := endUnconfirmed
		if wasRecheck {
			next = endNeverJoined
		}
		if oc.end.advance(next) {
			m.showUnconfirmedLocked(oc, why)
		}
	}
	if oc.end.attemptRunning() { // aborted by Close (or an outcome that did not apply)
		next := endRequested
		if wasRecheck {
			next = endNeverJoined
		}
		oc.end.advance(next)
	}
	if !oc.end.confirmed() && !m.closed && m.idlePolling {
		// The watcher takes it from here (a never-joined call until it
		// expires, an unconfirmed end until it is confirmed), but it is
		// waiting out the idle interval it chose before this call existed
		// (30 s; a start that failed never woke it): wake it once, so that
		// it polls at the live interval from now on.
		m.idlePolling = false
		m.Recheck()
	}
}

// showUnconfirmedLocked shows that oc's end is not confirmed, and tells the
// user once.
func (m *Manager) showUnconfirmedLocked(oc *ourCall, why string) {
	oc.view.State = CallEndUnconfirmed
	oc.view.Note = noteUnconfirmedPrefix + why
	m.saveEntryLocked(oc)
	if !oc.unconfirmedNoted {
		oc.unconfirmedNoted = true
		m.emitLocked(Event{Kind: EventEndUnconfirmed, Call: oc.copyView(), Message: msgEndUnconfirmed(oc.view, why)})
	}
}

// releaseEndWaitersLocked is the one place that closes oc.endDone: it wakes
// everyone waiting for oc's end once no attempt runs (a confirmed end
// counts as none: nothing more can happen to the call).
func (m *Manager) releaseEndWaitersLocked(oc *ourCall) {
	if oc.endDone == nil || oc.end.attemptRunning() {
		return
	}
	close(oc.endDone)
	oc.endDone = nil
}

// teardownMedia sends hang_up over the socket and closes it (what stops
// the billing), and releases the audio devices beside it: a dead sound
// system can hold an audio Close for seconds, and nothing that ends a call
// waits for it (see closeAudio). It reports whether the socket was open
// (then the close itself ends the call on the server). message "" skips the
// hang_up message.
func (m *Manager) teardownMedia(oc *ourCall, message string) (socketWasOpen bool) {
	m.mu.Lock()
	sock, audio, id := oc.sock, oc.audio, shortID(oc.view.ID)
	oc.sock, oc.audio = nil, nil
	if oc.textStop != nil {
		close(oc.textStop) // the silence sender stops before the socket closes
		oc.textStop = nil
	}
	m.mu.Unlock()
	if audio != nil {
		m.closeAudio(audio, id)
	}
	if sock == nil {
		return false
	}
	select {
	case <-sock.Done():
		return false // already closed by the server
	default:
	}
	if message != "" {
		if err := sock.HangUp(message); err != nil {
			m.log.Info("hang_up over the call socket failed; closing it anyway", "call", id, "err", err)
		}
	}
	// Close sends the close frame at once, then waits (up to a second) for
	// the server's answer. Nothing waits for that: the REST hang_up goes
	// out beside it (confirmEnd), and the close handshake is a round trip
	// the end need not spend.
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := sock.Close(); err != nil {
			m.log.Info("call socket closed with an error", "call", id, "err", err)
		}
	}()
	return true
}
