package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
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
	oc, client, settings, err := m.beginStart(agentID)
	if err != nil {
		return CallView{}, err
	}
	// The journal entry is on disk before the create request leaves.
	if err := m.journal.Put(oc.entry); err != nil {
		m.mu.Lock()
		m.removeOurLocked(oc)
		m.starting = false
		m.publishLocked()
		m.mu.Unlock()
		return CallView{}, fmt.Errorf("%w: %v; no call was created (every call is recorded before it is created, so it can be ended after a crash)", ErrJournal, err)
	}
	call, err := client.CreateAgentCall(ctx, oc.view.AgentID, m.createRequest(oc, settings))
	if err != nil {
		return CallView{}, m.createFailed(oc, client, err)
	}

	m.mu.Lock()
	m.applyServerLocked(oc, call)
	oc.view.State = CallJoining
	m.saveEntryLocked(oc)
	cancelled := oc.endRequested || m.closed
	m.publishLocked()
	m.mu.Unlock()
	if cancelled {
		m.finishStartEnding(oc)
		return oc.snapshotView(m), errors.New("the call was created but ending everything was requested meanwhile; it is being ended")
	}
	if call.JoinURL == nil || *call.JoinURL == "" {
		m.finishStartEnding(oc)
		return oc.snapshotView(m), fmt.Errorf("call %s was created without a join URL, so it cannot be joined; it is being ended", shortID(call.CallID))
	}

	sock, err := ultravox.Join(ctx, *call.JoinURL, ultravox.JoinOptions{Version: m.cfg.Version, Logger: m.log})
	if err != nil {
		m.mu.Lock()
		oc.view.Note = "joining failed: " + err.Error()
		m.mu.Unlock()
		m.finishStartEnding(oc)
		return oc.snapshotView(m), fmt.Errorf("the call was created but joining it failed (%v); it was never joined, so it costs nothing and expires within %s", err, fmtDur(settings.JoinTimeout))
	}

	m.mu.Lock()
	if oc.endRequested || m.closed {
		m.mu.Unlock()
		_ = sock.Close()
		m.finishStartEnding(oc)
		return oc.snapshotView(m), errors.New("the call was joined but ending everything was requested meanwhile; it is being ended")
	}
	oc.sock = sock
	m.wg.Add(1)
	go m.readLoop(oc, sock)
	m.mu.Unlock()

	audioErr, openErr := m.openAudio(oc, sock, settings)

	m.mu.Lock()
	if audioErr != "" && !oc.endRequested && !oc.finalized {
		oc.view.AudioError = audioErr
		if openErr != nil {
			// Audio was wanted and failed: say so at once, since the call
			// bills on in text mode until the user ends it (or its limit).
			m.emitLocked(Event{Kind: EventAudioUnavailable, Call: oc.copyView(),
				Message: fmt.Sprintf("No microphone or speaker for the call with %s (%s): the call is billing in text mode. Type in Show call… or end it.",
					agentLabel(oc.view), audioErrText(openErr))})
		}
	}
	m.starting = false
	v := oc.copyView()
	m.publishLocked()
	m.mu.Unlock()
	return v, nil
}

func (oc *ourCall) snapshotView(m *Manager) CallView {
	m.mu.Lock()
	defer m.mu.Unlock()
	return oc.copyView()
}

// beginStart checks whether a start is allowed and registers the call in
// state "creating".
func (m *Manager) beginStart(agentID string) (*ourCall, *ultravox.Client, Settings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.settings
	switch {
	case m.closed:
		return nil, nil, s, ErrClosed
	case m.starting:
		return nil, nil, s, fmt.Errorf("%w; wait for it to connect", ErrStartInProgress)
	}
	for _, oc := range m.ours {
		if !oc.view.State.Live() {
			continue
		}
		if oc.recovered {
			return nil, nil, s, fmt.Errorf("%w: a call from an earlier session is still being ended (%s); try again once it is confirmed ended", ErrCallInProgress, oc.view.State)
		}
		return nil, nil, s, fmt.Errorf("%w (call with %s, %s); end it before starting another", ErrCallInProgress, agentLabel(oc.view), oc.view.State)
	}
	if m.client == nil {
		return nil, nil, s, fmt.Errorf("%w: add your API key first", ErrNoKey)
	}
	if m.health == HealthKeyRejected {
		return nil, nil, s, fmt.Errorf("%w (%s); set a valid key first", ErrKeyRejected, m.healthDetail)
	}
	now := m.now()
	if s.DailyBudget > 0 {
		spent := roundCents(m.todayMinutesLocked(now) * s.PricePerMinute)
		if spent >= s.DailyBudget {
			return nil, nil, s, fmt.Errorf("%w: %s spent today (UTC) of a %s budget; raise the budget in the settings to call again today", ErrBudgetReached, fmtCost(spent), fmtCost(s.DailyBudget))
		}
	}
	agent := strings.TrimSpace(agentID)
	if agent == "" {
		agent = s.DefaultAgentID
	}
	if agent == "" && len(m.agents) > 0 {
		agent = m.agents[0].ID
	}
	if agent == "" {
		return nil, nil, s, errors.New("no agent to call: choose a default agent in the settings (the agent list could not be loaded yet)")
	}
	name := ""
	for _, a := range m.agents {
		if a.ID == agent {
			name = a.Name
		}
	}
	rid := newID()
	oc := &ourCall{
		client: m.client,
		view:   CallView{RequestID: rid, Ours: true, AgentID: agent, AgentName: name, State: CallCreating, MaxDuration: s.MaxDuration},
		entry:  JournalEntry{RequestID: rid, AgentID: agent, SessionID: m.cfg.SessionID, Started: now.UTC(), State: CallCreating.String(), MaxDurSec: s.MaxDuration.Seconds()},
	}
	m.starting = true
	m.ours = append(m.ours, oc)
	m.publishLocked()
	return oc, m.client, s, nil
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
			ultravox.MetaApp:       AppName + "/" + m.cfg.Version,
			ultravox.MetaDevice:    m.cfg.DeviceName,
			ultravox.MetaSession:   m.cfg.SessionID,
		},
		Medium:      &ultravox.CallMedium{ServerWebSocket: ws},
		JoinTimeout: ultravox.DurationOf(s.JoinTimeout).Ptr(),
		MaxDuration: ultravox.DurationOf(s.MaxDuration).Ptr(),
	}
}

// createFailed handles a create that did not return a call. The client
// knows whether it can have created one (ultravox.MaybeCreated: the request
// left, then no clear answer came and the lookup by request id could not
// settle it, or the caller gave up). If not (a refusal, a request that never
// left, a lost answer whose call the lookup showed absent), the journal
// entry goes. If so, the entry stays and the watcher finds the call by its
// request id and ends it.
func (m *Manager) createFailed(oc *ourCall, client *ultravox.Client, err error) error {
	ambiguous := ultravox.MaybeCreated(err)
	if ultravox.IsUnauthorized(err) {
		m.checkFailed(client, err)
	}
	m.mu.Lock()
	m.starting = false
	if !ambiguous {
		if jerr := m.journal.Remove(oc.entry); jerr != nil {
			m.log.Error("journal removal failed", "request", oc.entry.RequestID, "err", jerr)
		}
		m.removeOurLocked(oc)
		m.publishLocked()
		m.mu.Unlock()
		return fmt.Errorf("could not start the call: %w", err)
	}
	oc.createAmbiguous = true
	oc.endRequested = true
	oc.view.State = CallEnding
	oc.view.Note = "the create request got no clear answer; checking whether the call exists so it can be ended"
	m.startFlowLocked(oc)
	m.publishLocked()
	m.mu.Unlock()
	return fmt.Errorf("could not start the call: %w; if Ultravox created it anyway, it will be found and ended", err)
}

// finishStartEnding ends a call whose start was abandoned after create.
func (m *Manager) finishStartEnding(oc *ourCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.starting = false
	m.beginEndLocked(oc, time.Time{})
	m.publishLocked()
}

// openAudio opens the devices for oc; the uplink sends PCM on the socket.
// Without audio (Config.Audio nil, or the devices failed to open: openErr)
// the call goes on in text mode: sendSilence keeps the socket fed, and the
// returned text is shown as the call's AudioError.
func (m *Manager) openAudio(oc *ourCall, sock *ultravox.CallSocket, s Settings) (audioErr string, openErr error) {
	if m.cfg.Audio == nil {
		m.mu.Lock()
		m.startTextModeLocked(oc, sock, s.InputRate)
		m.mu.Unlock()
		return "off (text only): the call bills until you end it", nil
	}
	m.mu.Lock()
	id := shortID(oc.view.ID)
	m.mu.Unlock()
	var dropped int
	var lastLog time.Time
	uplink := func(pcm []byte) {
		// Audio is closed beside the socket, not before it (teardownMedia),
		// so frames can still come after the socket closed: SendAudio
		// refuses them with ErrSocketClosed, and they are dropped.
		err := sock.SendAudio(pcm)
		if err == nil || errors.Is(err, ultravox.ErrSocketClosed) {
			return
		}
		dropped++
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			m.log.Warn("microphone audio could not be sent", "call", id, "dropped", dropped, "err", err)
		}
	}
	sess, err := m.cfg.Audio.Open(AudioConfig{InputRate: s.InputRate, OutputRate: s.OutputRate}, uplink)
	if err != nil {
		m.log.Warn("audio unavailable; the call continues in text mode", "call", id, "err", err)
		m.mu.Lock()
		m.startTextModeLocked(oc, sock, s.InputRate)
		m.mu.Unlock()
		return "no audio (" + audioErrText(err) + "): text mode, still billing; type messages or end the call", err
	}
	m.mu.Lock()
	if oc.sock != sock || oc.endRequested || m.closed {
		// Ended while the devices opened.
		m.mu.Unlock()
		m.closeAudio(sess, id)
		return "", nil
	}
	oc.audio = sess
	oc.audioSeq++
	sess.SetMicMuted(oc.view.MicMuted)
	sess.SetSpeakerMuted(oc.view.SpeakerMute)
	if h, ok := sess.(audioHealth); ok {
		m.wg.Add(1)
		go m.watchAudio(oc, oc.audioSeq, h)
	}
	m.mu.Unlock()
	return "", nil
}

// textFrame is the length of one frame of silence in text mode: what a
// microphone sends (Audio's contract), ~20 ms chunks as Ultravox asks.
const textFrame = 20 * time.Millisecond

// maxSilenceBurst bounds how many frames one tick of sendSilence sends to
// catch up after a late tick; past it the schedule restarts from now (the
// process was stopped or the machine slept: minutes of silence in a burst
// would only fill the socket's queue).
const maxSilenceBurst = 10

// startTextModeLocked starts sendSilence for oc's socket unless the call is
// ending or it runs already.
func (m *Manager) startTextModeLocked(oc *ourCall, sock *ultravox.CallSocket, rate int) {
	if oc.sock != sock || oc.endRequested || oc.finalized || m.closed || oc.textStop != nil {
		return
	}
	stop := make(chan struct{})
	oc.textStop = stop
	m.wg.Add(1)
	go m.sendSilence(sock, rate, stop, shortID(oc.view.ID))
}

// sendSilence is the uplink of a call without audio (text mode). Ultravox
// expects one second of audio per second on a serverWebSocket call and ends
// one that sends none for mediaIdleTimeout (connection_error), which would
// make typing useless. So it sends 20 ms frames of silence at the call's
// input rate, paced by wall time: a ticker, with the number of samples due
// computed from the time elapsed, so late ticks do not slow the rate below
// 1.0x. One zero frame is reused (SendAudio copies it). It stops when stop
// is closed (teardownMedia: the call is ending), the socket ends, or the
// manager closes.
func (m *Manager) sendSilence(sock *ultravox.CallSocket, rate int, stop <-chan struct{}, id string) {
	defer m.wg.Done()
	frameSamples := int64(rate) * int64(textFrame) / int64(time.Second)
	if frameSamples < 1 {
		frameSamples = 1
	}
	frame := make([]byte, 2*frameSamples)
	t := time.NewTicker(textFrame)
	defer t.Stop()
	start := time.Now()
	var sent, dropped int64 // samples sent since start; frames dropped
	var lastLog time.Time
	send := func() bool {
		err := sock.SendAudio(frame)
		switch {
		case err == nil:
		case errors.Is(err, ultravox.ErrSocketClosed):
			return false
		default:
			// A full queue (a slow network): the frame is lost, the
			// schedule goes on.
			dropped++
			if time.Since(lastLog) > 5*time.Second {
				lastLog = time.Now()
				m.log.Warn("text-mode silence could not be sent", "call", id, "dropped", dropped, "err", err)
			}
		}
		sent += frameSamples
		return true
	}
	if !send() { // the first frame at once: the call is fed from its start
		return
	}
	for {
		select {
		case <-stop:
			return
		case <-sock.Done():
			return
		case <-m.ctx.Done():
			return
		case now := <-t.C:
			due := int64(now.Sub(start)) * int64(rate) / int64(time.Second)
			if due-sent > maxSilenceBurst*frameSamples {
				// Far behind (stopped or asleep): restart the schedule.
				start, sent = now, 0
				due = frameSamples
			}
			for sent+frameSamples <= due {
				if !send() {
					return
				}
			}
		}
	}
}

// audioCheckEvery is how often a live call's audio session is asked
// whether its devices still work.
const audioCheckEvery = time.Second

// watchAudio polls h, oc's audio session number seq, while it is open. A device lost mid-call does
// not end the call (the voice layer keeps sending silence, so it keeps
// billing): the call shows why its audio stopped, and the user is told
// once, to type or end it.
func (m *Manager) watchAudio(oc *ourCall, seq int, h audioHealth) {
	defer m.wg.Done()
	t := time.NewTicker(audioCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		current := oc.audio != nil && oc.audioSeq == seq
		m.mu.Unlock()
		if !current {
			return // torn down: the call is ending
		}
		err := h.Err() // outside m.mu: the session takes its own lock
		if err == nil {
			continue
		}
		m.mu.Lock()
		if oc.audio != nil && oc.audioSeq == seq && !oc.endRequested && !oc.finalized {
			why := audioErrText(err)
			m.log.Warn("audio device lost during the call; the call goes on", "call", shortID(oc.view.ID), "err", err)
			oc.view.AudioError = "audio lost during the call: " + why + "; type messages or end the call"
			m.emitLocked(Event{Kind: EventAudioLost, Call: oc.copyView(),
				Message: fmt.Sprintf("The audio of the call with %s stopped (%s). The call is still billing: type messages or end it.", agentLabel(oc.view), why)})
			m.publishLocked()
		}
		m.mu.Unlock()
		return
	}
}

// audioErrText is err in words for the user: without the Go package
// prefix the voice layer puts on its errors.
func audioErrText(err error) string {
	s := strings.TrimSpace(err.Error())
	s = strings.TrimPrefix(s, "voice: ")
	if s == "" {
		s = "the audio device stopped"
	}
	return s
}

// readLoop reads the call socket: agent audio to the speaker, agent state
// and transcript into the view, call_started to fetch the join time; when
// the socket ends without us asking, the call is checked and the right
// event emitted.
func (m *Manager) readLoop(oc *ourCall, sock *ultravox.CallSocket) {
	defer m.wg.Done()
	var endErr error
	for {
		it, err := sock.Next(m.ctx)
		if err != nil {
			endErr = err
			break
		}
		switch x := it.(type) {
		case ultravox.Audio:
			m.mu.Lock()
			a := oc.audio
			m.mu.Unlock()
			if a != nil {
				a.Play(x)
			}
		case ultravox.PlaybackClearBuffer:
			m.mu.Lock()
			a := oc.audio
			m.mu.Unlock()
			if a != nil {
				a.ClearPlayback()
			}
		case ultravox.CallStarted:
			m.wg.Add(1)
			go m.fetchJoined(oc)
		case ultravox.State:
			m.mu.Lock()
			oc.view.AgentState = x.State
			m.publishLocked()
			m.mu.Unlock()
		case ultravox.Transcript:
			m.mu.Lock()
			oc.view.Transcript = applyTranscript(oc.view.Transcript, x)
			m.publishLocked()
			m.mu.Unlock()
		}
	}
	if m.ctx.Err() != nil {
		return // Close: the journal keeps the call for the next start
	}
	code, reason := sock.CloseStatus()
	m.mu.Lock()
	defer m.mu.Unlock()
	if oc.sock == sock {
		oc.sock = nil
	}
	if oc.endRequested || oc.finalized {
		return // our own end; its flow confirms it
	}
	m.log.Info("call socket closed by the server", "call", shortID(oc.view.ID), "code", code, "reason", reason, "err", endErr)
	oc.serverClosed = true
	m.beginEndLocked(oc, time.Time{})
	m.publishLocked()
}

// fetchJoined asks the server for the join time after call_started; until
// it answers the call stays "joining".
func (m *Manager) fetchJoined(oc *ourCall) {
	defer m.wg.Done()
	m.mu.Lock()
	client, id := m.clientForLocked(oc), oc.view.ID
	m.mu.Unlock()
	if client == nil {
		return
	}
	delay := 100 * time.Millisecond
	for attempt := 0; attempt < 8; attempt++ {
		ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
		c, err := client.GetCall(ctx, id)
		cancel()
		if err == nil {
			m.mu.Lock()
			if !oc.finalized && c.Ended == nil {
				if m.applyServerLocked(oc, c) {
					m.saveEntryLocked(oc)
				}
				m.publishLocked()
			}
			joined := !oc.view.Joined.IsZero() || oc.finalized || c.Ended != nil
			m.mu.Unlock()
			if joined {
				m.Recheck() // deadlines (ending soon) depend on the join time
				return
			}
		} else if m.ctx.Err() != nil {
			return
		}
		if !sleepCtx(m.ctx, delay) {
			return
		}
		delay = min(delay*2, 2*time.Second)
	}
	// The watcher's polls pick the join time up from the call list.
}

func (m *Manager) clientForLocked(oc *ourCall) *ultravox.Client {
	if oc.client != nil {
		return oc.client
	}
	return m.client
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
