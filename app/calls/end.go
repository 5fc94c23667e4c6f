package calls

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
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

// beginEndLocked marks oc to be ended and starts its end flow unless one is
// running (or the create is still in flight: Start starts it then). It
// returns a channel closed when the attempt finishes.
func (m *Manager) beginEndLocked(oc *ourCall, deadline time.Time) <-chan struct{} {
	oc.endRequested = true
	if !oc.flowRunning {
		oc.flowDeadline = deadline
	}
	if oc.endDone == nil {
		oc.endDone = make(chan struct{})
	}
	done := oc.endDone
	if oc.finalized {
		close(oc.endDone)
		oc.endDone = nil
		return done
	}
	if oc.view.State != CallCreating {
		if oc.view.State != CallEndUnconfirmed && oc.view.State != CallEnding {
			oc.view.State = CallEnding
			m.saveEntryLocked(oc)
		}
		m.startFlowLocked(oc)
	}
	return done
}

// startFlowLocked runs endFlow for oc unless one runs already.
func (m *Manager) startFlowLocked(oc *ourCall) {
	if oc.flowRunning || oc.finalized || m.closed {
		return
	}
	if oc.endDone == nil {
		oc.endDone = make(chan struct{})
	}
	oc.flowRunning = true
	m.wg.Add(1)
	go m.endFlow(oc)
}

type endOutcome int

const (
	outcomeConfirmed   endOutcome = iota // the server says ended (or the call does not exist)
	outcomeNotJoined                     // nobody joined: free, expires by itself; watched until it does
	outcomeUnconfirmed                   // no confirmation within the limit
	outcomeAborted                       // the manager is closing
)

// endFlow tears down our media (closing the socket ends a websocket call on
// the server), sends the REST hang_up when the socket was not open, and GETs
// the call until it is ended, with bounded backoff.
func (m *Manager) endFlow(oc *ourCall) {
	defer m.wg.Done()
	m.mu.Lock()
	deadline := time.Now().Add(endConfirmLimit)
	if !oc.flowDeadline.IsZero() && oc.flowDeadline.Before(deadline) {
		deadline = oc.flowDeadline
	}
	oc.flowDeadline = time.Time{}
	m.mu.Unlock()
	ctx, cancel := context.WithDeadline(m.ctx, deadline)
	defer cancel()
	wasOpen := m.teardownMedia(oc, hangupMessage)
	m.mu.Lock()
	socketEnded := wasOpen || oc.serverClosed
	m.mu.Unlock()
	out, why := m.confirmEnd(ctx, oc, socketEnded)

	m.mu.Lock()
	defer m.mu.Unlock()
	oc.flowRunning = false
	switch out {
	case outcomeNotJoined:
		oc.notJoined = true
		if oc.view.State != CallEnded {
			oc.view.State = CallEnding
			oc.view.Note = fmt.Sprintf("not joined: it costs nothing and expires by itself within %s", fmtDur(m.settings.JoinTimeout))
		}
	case outcomeUnconfirmed:
		if !oc.finalized {
			oc.view.State = CallEndUnconfirmed
			oc.view.Note = "the end is not confirmed yet: " + why
			m.saveEntryLocked(oc)
			if !oc.unconfirmedNoted {
				oc.unconfirmedNoted = true
				m.emitLocked(Event{Kind: EventEndUnconfirmed, Call: oc.copyView(),
					Message: fmt.Sprintf("Could not confirm that the call with %s ended (%s). It may still be billing; the app keeps checking.", agentLabel(oc.view), why)})
			}
		}
	}
	if oc.endDone != nil {
		close(oc.endDone)
		oc.endDone = nil
	}
	m.publishLocked()
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
	// Close sends the close frame at once, then waits (up to a few seconds)
	// for the server's answer: do not hold the end up for that on a dead
	// network.
	closed := make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(closed)
		if err := sock.Close(); err != nil {
			m.log.Info("call socket closed with an error", "call", id, "err", err)
		}
	}()
	select {
	case <-closed:
	case <-time.After(500 * time.Millisecond):
	}
	return true
}

// audioCloseWait bounds how long Manager.Close waits for audio sessions
// still closing: a little over app/voice's own limit (3 s, after which it
// abandons devices that do not stop), so a slow but working sound system
// releases its devices before the app exits, and a dead one cannot hold the
// exit for long.
const audioCloseWait = 4 * time.Second

// closeAudio closes an audio session on its own goroutine. Until Close
// returns the session may still call its uplink: the uplink sends on the
// call's socket, which is closing or closed by then, so SendAudio refuses
// the frame (ultravox.ErrSocketClosed) and the uplink drops it silently.
// Manager.Close waits for these closes, up to audioCloseWait.
func (m *Manager) closeAudio(a AudioSession, id string) {
	done := make(chan struct{})
	m.mu.Lock()
	m.audioClosing = slices.DeleteFunc(m.audioClosing, func(d chan struct{}) bool {
		select {
		case <-d:
			return true
		default:
			return false
		}
	})
	m.audioClosing = append(m.audioClosing, done)
	m.mu.Unlock()
	go func() {
		defer close(done)
		start := time.Now()
		if err := a.Close(); err != nil {
			m.log.Warn("closing audio failed", "call", id, "err", err, "took", time.Since(start).Round(time.Millisecond))
		}
	}()
}

// waitAudioClosed waits for the audio sessions still closing, up to
// audioCloseWait.
func (m *Manager) waitAudioClosed() {
	m.mu.Lock()
	pending := slices.Clone(m.audioClosing)
	m.audioClosing = nil
	m.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	t := time.NewTimer(audioCloseWait)
	defer t.Stop()
	for _, d := range pending {
		select {
		case <-d:
		case <-t.C:
			m.log.Warn("audio devices are still closing; not waiting for them any longer", "waited", audioCloseWait)
			return
		}
	}
}

// confirmEnd makes sure the server ends oc and says so. socketEnded: our
// call socket was open until just now (we closed it, or the server did), so
// the server most likely ends or ended the call by itself; the REST hang_up
// follows only if it still shows the call live after closeGrace.
func (m *Manager) confirmEnd(ctx context.Context, oc *ourCall, socketWasOpen bool) (endOutcome, string) {
	m.mu.Lock()
	client := m.clientForLocked(oc)
	id, rid, since := oc.view.ID, oc.entry.RequestID, oc.entry.Started
	notJoined := oc.notJoined
	m.mu.Unlock()
	if client == nil {
		return outcomeUnconfirmed, "no API key is set to check it with"
	}
	if id == "" {
		// The create never answered: find the call by its request id.
		c, err := client.FindCallByMetadata(ctx, ultravox.MetaRequestID, rid, since.Add(-10*time.Minute))
		if err != nil {
			return m.abortedOr(ctx, outcomeUnconfirmed), "could not look the call up: " + err.Error()
		}
		m.mu.Lock()
		if c == nil {
			m.finalizeGoneLocked(oc, "never reached Ultravox")
			m.mu.Unlock()
			return outcomeConfirmed, ""
		}
		if m.applyServerLocked(oc, c) {
			m.saveEntryLocked(oc)
		}
		id = c.CallID
		if c.Ended != nil {
			m.finalizeLocked(oc, c)
			m.mu.Unlock()
			return outcomeConfirmed, ""
		}
		m.mu.Unlock()
	}

	needREST := !socketWasOpen && !notJoined
	restSent := false
	closedAt := time.Now()
	delay := 200 * time.Millisecond
	why := ""
	for {
		if needREST && !restSent {
			err := client.HangUp(ctx, id, hangupMessage)
			switch {
			case err == nil, ultravox.IsNotActive(err):
				restSent = true // the GET below tells ended from not joined
			case ultravox.IsNotFound(err):
				m.mu.Lock()
				m.finalizeGoneLocked(oc, "no longer exists on the server")
				m.mu.Unlock()
				return outcomeConfirmed, ""
			default:
				why = "hang-up failed: " + err.Error()
			}
		}
		c, err := client.GetCall(ctx, id)
		switch {
		case err == nil:
			m.mu.Lock()
			if oc.finalized {
				m.mu.Unlock()
				return outcomeConfirmed, ""
			}
			if c.Ended != nil {
				m.finalizeLocked(oc, c)
				m.mu.Unlock()
				return outcomeConfirmed, ""
			}
			if m.applyServerLocked(oc, c) {
				m.saveEntryLocked(oc)
			}
			m.publishLocked()
			m.mu.Unlock()
			if c.Joined == nil && (restSent || notJoined) {
				return outcomeNotJoined, ""
			}
			if c.Joined == nil && socketWasOpen && time.Since(closedAt) > closeGrace {
				needREST = true // our socket never counted as a join
			}
			if c.Joined != nil && !needREST && time.Since(closedAt) > closeGrace {
				needREST = true // the socket close did not end it: hang up over REST
				m.mu.Lock()
				if oc.serverClosed {
					oc.lostConnection = true // our socket dropped, the call billed on
				}
				m.mu.Unlock()
			}
			why = "Ultravox still shows the call as live"
		case ultravox.IsNotFound(err):
			m.mu.Lock()
			m.finalizeGoneLocked(oc, "no longer exists on the server")
			m.mu.Unlock()
			return outcomeConfirmed, ""
		default:
			why = err.Error()
			m.noteOffline(client, err)
		}
		if !sleepCtx(ctx, delay) {
			return m.abortedOr(ctx, outcomeUnconfirmed), why
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// ctxDeadline is ctx's deadline, zero when it has none.
func ctxDeadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func (m *Manager) abortedOr(ctx context.Context, o endOutcome) endOutcome {
	if m.ctx.Err() != nil {
		return outcomeAborted
	}
	return o
}

// End ends one call: ours (media teardown, hang-up, confirmation) or, for a
// call billing elsewhere, the REST hang_up and confirmation. It returns once
// the end is confirmed, the call turned out never joined (free, it expires
// by itself), or the attempt gave up (the error says so; the watcher keeps
// trying and the call shows as "end unconfirmed").
func (m *Manager) End(ctx context.Context, callID string) error {
	if strings.TrimSpace(callID) == "" {
		return errors.New("end call: no call id given")
	}
	m.mu.Lock()
	oc := m.findByIDLocked(callID)
	if oc == nil {
		_, elsewhere := m.elsewhere[callID]
		client := m.client
		m.mu.Unlock()
		if elsewhere {
			return m.endElsewhere(ctx, client, callID)
		}
		return fmt.Errorf("end call %s: no such live call (it may have ended already)", shortID(callID))
	}
	done := m.beginEndLocked(oc, ctxDeadline(ctx))
	m.publishLocked()
	m.mu.Unlock()
	return m.waitEnd(ctx, oc, done)
}

func (m *Manager) waitEnd(ctx context.Context, oc *ourCall, done <-chan struct{}) error {
	select {
	case <-done:
	case <-ctx.Done():
		// The flow shares this deadline: give it a moment to record its
		// outcome rather than report a bare timeout.
		select {
		case <-done:
			return m.endResult(oc)
		case <-time.After(250 * time.Millisecond):
		}
		m.mu.Lock()
		label := agentLabel(oc.view)
		m.mu.Unlock()
		return fmt.Errorf("the end of the call with %s is not confirmed yet (%v); it keeps being checked", label, ctx.Err())
	}
	return m.endResult(oc)
}

func (m *Manager) endResult(oc *ourCall) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case oc.finalized:
		return nil
	case oc.notJoined:
		return nil // costs nothing; watched until it expires
	case oc.view.State == CallEndUnconfirmed:
		return fmt.Errorf("could not confirm that the call with %s ended: %s", agentLabel(oc.view), strings.TrimPrefix(oc.view.Note, "the end is not confirmed yet: "))
	case m.closed:
		return ErrClosed
	default:
		return fmt.Errorf("the end of the call with %s is not confirmed yet; it keeps being checked", agentLabel(oc.view))
	}
}

// endElsewhere hangs up a call we did not start and waits for its end.
func (m *Manager) endElsewhere(ctx context.Context, client *ultravox.Client, callID string) error {
	if client == nil {
		return errors.New("cannot end the call: no API key is set")
	}
	err := client.HangUp(ctx, callID, hangupMessage)
	if ultravox.IsNotActive(err) {
		c, gerr := client.GetCall(ctx, callID)
		if gerr == nil && c.Ended != nil {
			m.Recheck()
			return nil
		}
		if gerr == nil && c.Joined == nil {
			return fmt.Errorf("call %s is not joined yet, so it cannot be ended; it costs nothing and expires by itself", shortID(callID))
		}
	}
	if err != nil && !ultravox.IsNotActive(err) {
		return fmt.Errorf("end call %s: %w", shortID(callID), err)
	}
	delay := 200 * time.Millisecond
	for {
		c, err := client.GetCall(ctx, callID)
		if err == nil && c.Ended != nil {
			m.mu.Lock()
			delete(m.elsewhere, callID)
			m.publishLocked()
			m.mu.Unlock()
			m.Recheck()
			return nil
		}
		if !sleepCtx(ctx, delay) {
			if err != nil {
				return fmt.Errorf("end call %s: hang-up sent, but the end is not confirmed: %w", shortID(callID), err)
			}
			return fmt.Errorf("end call %s: hang-up sent, but Ultravox still shows it live", shortID(callID))
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// EndOurs ends every live call this app started, as End does, in parallel;
// calls billing elsewhere are left alone. It returns the problems, joined.
func (m *Manager) EndOurs(ctx context.Context) error {
	return m.endLive(ctx, false)
}

// EndAll ends every live call on the account: ours as End does, the others
// with the REST hang_up. It returns the problems, joined.
func (m *Manager) EndAll(ctx context.Context) error {
	return m.endLive(ctx, true)
}

func (m *Manager) endLive(ctx context.Context, elsewhereToo bool) error {
	m.mu.Lock()
	var ours []*ourCall
	var dones []<-chan struct{}
	for _, oc := range m.ours {
		if oc.view.State.Live() {
			ours = append(ours, oc)
			dones = append(dones, m.beginEndLocked(oc, ctxDeadline(ctx)))
		}
	}
	var others []string
	if elsewhereToo {
		for id := range m.elsewhere {
			others = append(others, id)
		}
	}
	client := m.client
	m.publishLocked()
	m.mu.Unlock()

	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, oc := range ours {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.waitEnd(ctx, oc, dones[i]); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for _, id := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.endElsewhere(ctx, client, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// EndEverything ends all our calls for quit, sleep and shutdown: first the
// local teardown of every call in parallel (closing a socket already ends a
// websocket call on the server), then the network confirmation, all within
// ctx's deadline even when the server hangs. It returns the calls whose end
// stayed unconfirmed (they stay in the journal for the next start).
func (m *Manager) EndEverything(ctx context.Context) []CallView {
	m.mu.Lock()
	var list []*ourCall
	for _, oc := range m.ours {
		if oc.view.State.Live() {
			oc.endRequested = true
			if oc.view.State != CallCreating && oc.view.State != CallEndUnconfirmed && oc.view.State != CallEnding {
				oc.view.State = CallEnding
				m.saveEntryLocked(oc)
			}
			list = append(list, oc)
		}
	}
	m.publishLocked()
	m.mu.Unlock()

	// Local teardown first, all at once.
	var wg sync.WaitGroup
	opened := make([]bool, len(list))
	for i, oc := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opened[i] = m.teardownMedia(oc, hangupMessage)
		}()
	}
	teardownDone := make(chan struct{})
	go func() { wg.Wait(); close(teardownDone) }()
	select {
	case <-teardownDone:
	case <-ctx.Done():
	}

	// Then the network confirmation.
	m.mu.Lock()
	dones := make([]<-chan struct{}, len(list))
	for i, oc := range list {
		dones[i] = m.beginEndLocked(oc, ctxDeadline(ctx))
	}
	m.mu.Unlock()
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	var out []CallView
	for _, oc := range list {
		if oc.finalized || oc.notJoined {
			continue
		}
		if oc.view.State != CallCreating {
			oc.view.State = CallEndUnconfirmed
		}
		if oc.view.Note == "" {
			oc.view.Note = "the end was not confirmed before the deadline"
		}
		if !oc.unconfirmedNoted {
			oc.unconfirmedNoted = true
			m.emitLocked(Event{Kind: EventEndUnconfirmed, Call: oc.copyView(),
				Message: fmt.Sprintf("Could not confirm in time that the call with %s ended. It may still be billing; it will be checked and ended on the next start.", agentLabel(oc.view))})
		}
		out = append(out, oc.copyView())
	}
	m.publishLocked()
	return out
}

// SetMicMuted mutes or unmutes our microphone in a call (silence is sent
// while muted, so the call is not ended for lack of audio).
func (m *Manager) SetMicMuted(callID string, muted bool) error {
	m.mu.Lock()
	oc := m.findByIDLocked(callID)
	if oc == nil || !oc.view.State.Live() {
		m.mu.Unlock()
		return fmt.Errorf("mute microphone: no live call %s of ours", shortID(callID))
	}
	oc.view.MicMuted = muted
	a := oc.audio
	m.publishLocked()
	m.mu.Unlock()
	if a != nil {
		a.SetMicMuted(muted)
	}
	return nil
}

// SetSpeakerMuted mutes or unmutes the agent's voice in a call.
func (m *Manager) SetSpeakerMuted(callID string, muted bool) error {
	m.mu.Lock()
	oc := m.findByIDLocked(callID)
	if oc == nil || !oc.view.State.Live() {
		m.mu.Unlock()
		return fmt.Errorf("mute speaker: no live call %s of ours", shortID(callID))
	}
	oc.view.SpeakerMute = muted
	a := oc.audio
	m.publishLocked()
	m.mu.Unlock()
	if a != nil {
		a.SetSpeakerMuted(muted)
	}
	return nil
}

// SendText sends a typed user message into our call (the text fallback
// when there is no audio).
func (m *Manager) SendText(ctx context.Context, callID, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("send text: the message is empty")
	}
	m.mu.Lock()
	oc := m.findByIDLocked(callID)
	var sock *ultravox.CallSocket
	label := ""
	if oc != nil {
		sock, label = oc.sock, agentLabel(oc.view)
	}
	m.mu.Unlock()
	if oc == nil {
		return fmt.Errorf("send text: no live call %s of ours", shortID(callID))
	}
	if sock == nil {
		return fmt.Errorf("send text: the call with %s is not connected", label)
	}
	res := make(chan error, 1)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() { defer m.wg.Done(); res <- sock.SendText(text) }()
	select {
	case err := <-res:
		if err != nil {
			return fmt.Errorf("send text: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("send text: %w", ctx.Err())
	}
}
