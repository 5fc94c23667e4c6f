package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

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
		ended := m.endedOursLocked(callID)
		client := m.client
		m.mu.Unlock()
		if ended {
			// Ours, and its end is already confirmed (the server ended it a
			// moment before this End): what the caller asked for happened.
			return nil
		}
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

// endedOursLocked reports whether callID is a call of ours whose end the
// server confirmed: settling its billing, or in the history.
func (m *Manager) endedOursLocked(callID string) bool {
	if _, ok := m.settling[callID]; ok {
		return true
	}
	for _, h := range m.history {
		if h.CallID == callID {
			return true
		}
	}
	return false
}

// ctxDeadline is ctx's deadline, zero when it has none.
func ctxDeadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func (m *Manager) waitEnd(ctx context.Context, oc *ourCall, done <-chan struct{}) error {
	select {
	case <-done:
	case <-ctx.Done():
		// The attempt shares this deadline: give it a moment to record its
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
	case oc.end.confirmed():
		return nil
	case oc.end == endNeverJoined || oc.end == endRecheckingUnjoined:
		return nil // costs nothing; watched until it expires
	case oc.view.State == CallEndUnconfirmed:
		return fmt.Errorf("could not confirm that the call with %s ended: %s", agentLabel(oc.view), strings.TrimPrefix(oc.view.Note, noteUnconfirmedPrefix))
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

	var errs errList
	var wg sync.WaitGroup
	for i, oc := range ours {
		wg.Go(func() { errs.add(m.waitEnd(ctx, oc, dones[i])) })
	}
	for _, id := range others {
		wg.Go(func() { errs.add(m.endElsewhere(ctx, client, id)) })
	}
	wg.Wait()
	return errs.join()
}

// errList gathers errors from parallel ends.
type errList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errList) add(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errList) join() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.errs...)
}

// EndEverything ends all our calls for quit, sleep and shutdown: first the
// local teardown of every call in parallel (closing a socket already ends a
// websocket call on the server), then the network confirmation, all within
// ctx's deadline even when the server hangs. It returns the calls whose end
// stayed unconfirmed (they stay in the journal for the next start).
func (m *Manager) EndEverything(ctx context.Context) []CallView {
	list := m.markAllEnding()
	m.teardownAll(ctx, list)
	m.confirmAll(ctx, list)
	return m.reportUnconfirmed(list)
}

// markAllEnding asks for the end of every live call of ours and returns
// them.
func (m *Manager) markAllEnding() []*ourCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	var list []*ourCall
	for _, oc := range m.ours {
		if oc.view.State.Live() {
			oc.requestEnd(causeUs)
			m.markEndingLocked(oc)
			list = append(list, oc)
		}
	}
	m.publishLocked()
	return list
}

// teardownAll closes every call's socket and audio at once, waiting no
// longer than ctx.
func (m *Manager) teardownAll(ctx context.Context, list []*ourCall) {
	var wg sync.WaitGroup
	for _, oc := range list {
		wg.Go(func() { m.teardownMedia(oc, hangupMessage) })
	}
	teardownDone := make(chan struct{})
	go func() { wg.Wait(); close(teardownDone) }()
	select {
	case <-teardownDone:
	case <-ctx.Done():
	}
}

// confirmAll starts an end attempt for every call and waits for them, no
// longer than ctx.
func (m *Manager) confirmAll(ctx context.Context, list []*ourCall) {
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
}

// reportUnconfirmed shows every call of list whose end is not confirmed as
// such, tells the user once per call, and returns them.
func (m *Manager) reportUnconfirmed(list []*ourCall) []CallView {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []CallView
	for _, oc := range list {
		switch oc.end {
		case endConfirmed, endNeverJoined, endRecheckingUnjoined:
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
			m.emitLocked(Event{Kind: EventEndUnconfirmed, Call: oc.copyView(), Message: msgEndUnconfirmedAtQuit(oc.view)})
		}
		out = append(out, oc.copyView())
	}
	m.publishLocked()
	return out
}
