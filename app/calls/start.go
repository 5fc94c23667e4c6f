package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// clientBufferMs is the serverWebSocket clientBufferSizeMs sent on create.
const clientBufferMs = 30000

// Errors Start returns for refusals (wrapped with details).
var (
	ErrStartInProgress = errors.New("a call is already being started")
	ErrCallInProgress  = errors.New("a call of ours is still in progress")
	ErrNoKey           = errors.New("no Ultravox API key is set")
	ErrKeyRejected     = errors.New("the Ultravox API key was rejected")
	ErrBudgetReached   = errors.New("today's daily budget is reached")
	ErrJournal         = errors.New("the call journal cannot be written")
	ErrClosed          = errors.New("the call manager is closed")
)

// Start creates a call with agentID ("" => the default agent), joins it at
// once over the call socket and opens audio. It refuses while a start or a
// call of ours is in progress, without a usable key, when today's spend has
// reached the daily budget, and when the journal cannot be written (the
// call could be forgotten after a crash).
func (m *Manager) Start(ctx context.Context, agentID string) (CallView, error) {
	return m.start(ctx, agentID, startOptions{})
}

// start is Start with the variations of review.go (continue, text only).
func (m *Manager) start(ctx context.Context, agentID string, o startOptions) (CallView, error) {
	oc, client, settings, err := m.beginStart(agentID)
	if err != nil {
		return CallView{}, err
	}
	if err := m.journalBeforeCreate(oc); err != nil {
		return CallView{}, err
	}
	call, err := m.createFor(ctx, client, oc, settings, o)
	if err != nil {
		return CallView{}, m.createFailed(oc, client, err)
	}
	if err := m.created(oc, call); err != nil {
		return oc.snapshotView(m), err
	}
	sock, err := m.join(ctx, oc, *call.JoinURL, settings)
	if err != nil {
		return oc.snapshotView(m), err
	}
	audioErr, openErr := m.openMedia(oc, sock, settings, o)
	return m.startDone(oc, audioErr, openErr), nil
}

// beginStart checks whether a start is allowed and registers the call in
// state "creating".
func (m *Manager) beginStart(agentID string) (*ourCall, *ultravox.Client, Settings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.settings
	now := m.now()
	if err := m.refuseStartLocked(s, now); err != nil {
		return nil, nil, s, err
	}
	agent, name, err := m.chooseAgentLocked(agentID, s)
	if err != nil {
		return nil, nil, s, err
	}
	rid := newID()
	oc := &ourCall{
		client: m.client,
		view:   CallView{RequestID: rid, Ours: true, AgentID: agent, AgentName: name, State: CallCreating, MaxDuration: s.MaxDuration},
		entry:  journalEntry{RequestID: rid, AgentID: agent, SessionID: m.cfg.SessionID, Started: now.UTC(), State: CallCreating.String(), MaxDurSec: s.MaxDuration.Seconds()},
	}
	m.starting = true
	m.ours = append(m.ours, oc)
	m.publishLocked()
	return oc, m.client, s, nil
}

// refuseStartLocked says why a call cannot be started now, or nil.
func (m *Manager) refuseStartLocked(s Settings, now time.Time) error {
	switch {
	case m.closed:
		return ErrClosed
	case m.starting:
		return fmt.Errorf("%w; wait for it to connect", ErrStartInProgress)
	}
	for _, oc := range m.ours {
		if !oc.view.State.Live() {
			continue
		}
		if oc.recovered {
			return fmt.Errorf("%w: a call from an earlier session is still being ended (%s); try again once it is confirmed ended", ErrCallInProgress, oc.view.State)
		}
		return fmt.Errorf("%w (call with %s, %s); end it before starting another", ErrCallInProgress, agentLabel(oc.view), oc.view.State)
	}
	if m.client == nil {
		return fmt.Errorf("%w: add your API key first", ErrNoKey)
	}
	if m.health == HealthKeyRejected {
		return fmt.Errorf("%w (%s); set a valid key first", ErrKeyRejected, m.healthDetail)
	}
	if s.DailyBudget > 0 {
		spent := roundCents(m.todayMinutesLocked(now) * s.PricePerMinute)
		if spent >= s.DailyBudget {
			return fmt.Errorf("%w: %s spent today (UTC) of a %s budget; raise the budget in the settings to call again today", ErrBudgetReached, words.Money(spent), words.Money(s.DailyBudget))
		}
	}
	return nil
}

// chooseAgentLocked picks the agent to call: the one asked for, else the
// default, else the first listed; and its name when the list has it.
func (m *Manager) chooseAgentLocked(agentID string, s Settings) (id, name string, err error) {
	id = strings.TrimSpace(agentID)
	if id == "" {
		id = s.DefaultAgentID
	}
	if id == "" && len(m.agents) > 0 {
		id = m.agents[0].ID
	}
	if id == "" {
		return "", "", errors.New("no agent to call: choose a default agent in the settings (the agent list could not be loaded yet)")
	}
	for _, a := range m.agents {
		if a.ID == id {
			name = a.Name
		}
	}
	return id, name, nil
}

// journalBeforeCreate puts oc's entry on disk before the create request
// leaves; when that fails, nothing is created.
func (m *Manager) journalBeforeCreate(oc *ourCall) error {
	err := m.journal.Put(oc.entry)
	if err == nil {
		return nil
	}
	m.mu.Lock()
	m.removeOurLocked(oc)
	m.starting = false
	m.publishLocked()
	m.mu.Unlock()
	return fmt.Errorf("%w: %v; no call was created (every call is recorded before it is created, so it can be ended after a crash)", ErrJournal, err)
}

func (m *Manager) createRequest(oc *ourCall, s Settings) ultravox.StartAgentCallRequest {
	ws := &ultravox.ServerWebSocketMedium{
		InputSampleRate:    s.InputRate,
		OutputSampleRate:   s.OutputRate,
		ClientBufferSizeMs: clientBufferMs,
	}
	if s.MediaIdleTimeout > 0 {
		ws.MediaIdleTimeout = ultravox.DurationOf(s.MediaIdleTimeout).Ptr()
	}
	return ultravox.StartAgentCallRequest{
		Metadata: map[string]string{
			ultravox.MetaRequestID: oc.entry.RequestID,
			ultravox.MetaApp:       appName + "/" + m.cfg.Version,
			ultravox.MetaDevice:    m.cfg.DeviceName,
			ultravox.MetaSession:   m.cfg.SessionID,
		},
		TemplateContext: templateContext(s, oc.view.AgentID), // templates.go
		Medium:          &ultravox.CallMedium{ServerWebSocket: ws},
		JoinTimeout:     ultravox.DurationOf(s.JoinTimeout).Ptr(),
		MaxDuration:     ultravox.DurationOf(s.MaxDuration).Ptr(),
	}
}

// createFailed handles a create that did not return a call. The client
// knows whether it can have created one (ultravox.MaybeCreated: the request
// left, then no clear answer came and the lookup by request id could not
// settle it, or the caller gave up). If not (a refusal, a request that never
// left, a lost answer whose call the lookup showed absent), the journal
// entry goes. If so, the entry stays and an end attempt finds the call by
// its request id and ends it.
func (m *Manager) createFailed(oc *ourCall, client *ultravox.Client, err error) error {
	ambiguous := ultravox.MaybeCreated(err)
	if ultravox.IsUnauthorized(err) {
		m.checkFailed(client, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.starting = false
	if !ambiguous {
		if jerr := m.journal.Remove(oc.entry); jerr != nil {
			m.log.Error("journal removal failed", "request", oc.entry.RequestID, "err", jerr)
		}
		m.removeOurLocked(oc)
		m.publishLocked()
		return fmt.Errorf("could not start the call: %w", err)
	}
	oc.requestEnd(causeUs)
	oc.view.State = CallEnding
	oc.view.Note = "the create request got no clear answer; checking whether the call exists so it can be ended"
	m.startFlowLocked(oc)
	m.publishLocked()
	return fmt.Errorf("could not start the call: %w; if Ultravox created it anyway, it will be found and ended", err)
}

// created records the server's answer to the create. It refuses to go on
// (and ends the call) when an end was asked for meanwhile or the call
// cannot be joined.
func (m *Manager) created(oc *ourCall, call *ultravox.Call) error {
	m.mu.Lock()
	m.applyServerLocked(oc, call)
	oc.view.State = CallJoining
	m.saveEntryLocked(oc)
	cancelled := oc.endAsked() || m.closed
	m.publishLocked()
	m.mu.Unlock()
	if cancelled {
		m.finishStartEnding(oc)
		return errors.New("the call was created but ending everything was requested meanwhile; it is being ended")
	}
	if call.JoinURL == nil || *call.JoinURL == "" {
		m.finishStartEnding(oc)
		return fmt.Errorf("call %s was created without a join URL, so it cannot be joined; it is being ended", shortID(call.CallID))
	}
	return nil
}

// join opens the call socket and starts reading it. On failure the call is
// ended (never joined, it costs nothing).
func (m *Manager) join(ctx context.Context, oc *ourCall, joinURL string, s Settings) (*ultravox.CallSocket, error) {
	sock, err := ultravox.Join(ctx, joinURL, ultravox.JoinOptions{Version: m.cfg.Version, Logger: m.log})
	if err != nil {
		m.mu.Lock()
		oc.view.Note = "joining failed: " + err.Error()
		m.mu.Unlock()
		m.finishStartEnding(oc)
		return nil, fmt.Errorf("the call was created but joining it failed (%v); it was never joined, so it costs nothing and expires within %s", err, words.Clock(s.JoinTimeout))
	}
	m.mu.Lock()
	if oc.endAsked() || m.closed {
		m.mu.Unlock()
		_ = sock.Close()
		m.finishStartEnding(oc)
		return nil, errors.New("the call was joined but ending everything was requested meanwhile; it is being ended")
	}
	oc.sock = sock
	m.wg.Add(1)
	go m.readLoop(oc, sock)
	m.mu.Unlock()
	return sock, nil
}

// startDone ends the start: the call shows why it has no audio (and the
// user is told at once when the devices failed, since the call bills on in
// text mode until ended), and another start is allowed.
func (m *Manager) startDone(oc *ourCall, audioErr string, openErr error) CallView {
	m.mu.Lock()
	defer m.mu.Unlock()
	if audioErr != "" && !oc.end.wanted() {
		oc.view.AudioError = audioErr
		if openErr != nil {
			m.emitLocked(Event{Kind: EventAudioUnavailable, Call: oc.copyView(), Message: msgAudioUnavailable(oc.view, openErr)})
		}
	}
	m.starting = false
	v := oc.copyView()
	m.publishLocked()
	return v
}

// finishStartEnding ends a call whose start was abandoned after create.
func (m *Manager) finishStartEnding(oc *ourCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.starting = false
	m.beginEndLocked(oc, time.Time{})
	m.publishLocked()
}
