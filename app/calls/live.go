package calls

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// maxTranscriptLines bounds the live transcript kept per call.
const maxTranscriptLines = 200

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
		m.handleSocketItem(oc, it)
	}
	if m.ctx.Err() != nil {
		return // Close: the journal keeps the call for the next start
	}
	m.socketClosed(oc, sock, endErr)
}

func (m *Manager) handleSocketItem(oc *ourCall, it ultravox.Incoming) {
	switch x := it.(type) {
	case ultravox.Audio:
		if a := m.audioOf(oc); a != nil {
			a.Play(x)
		}
	case ultravox.PlaybackClearBuffer:
		if a := m.audioOf(oc); a != nil {
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
	case ultravox.ClientToolInvocation:
		m.answerTool(oc, x) // tools.go
	}
}

func (m *Manager) audioOf(oc *ourCall) AudioSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	return oc.audio
}

// socketClosed handles the end of oc's socket: unless we were ending the
// call, the server closed it, and the call is ended and checked.
func (m *Manager) socketClosed(oc *ourCall, sock *ultravox.CallSocket, endErr error) {
	code, reason := sock.CloseStatus()
	m.mu.Lock()
	defer m.mu.Unlock()
	if oc.sock == sock {
		oc.sock = nil
	}
	if oc.end.wanted() {
		return // our own end; its attempt confirms it
	}
	m.log.Info("call socket closed by the server", "call", shortID(oc.view.ID), "code", code, "reason", reason, "err", endErr)
	oc.requestEnd(causeSocketDropped)
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
			if !oc.end.confirmed() && c.Ended == nil {
				if m.applyServerLocked(oc, c) {
					m.saveEntryLocked(oc)
				}
				m.publishLocked()
			}
			joined := !oc.view.Joined.IsZero() || oc.end.confirmed() || c.Ended != nil
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

// SetMicMuted mutes or unmutes our microphone in a call (silence is sent
// while muted, so the call is not ended for lack of audio).
func (m *Manager) SetMicMuted(callID string, muted bool) error {
	return m.setMute(callID, "mute microphone", func(oc *ourCall) func(AudioSession) {
		oc.view.MicMuted = muted
		return func(a AudioSession) { a.SetMicMuted(muted) }
	})
}

// SetSpeakerMuted mutes or unmutes the agent's voice in a call.
func (m *Manager) SetSpeakerMuted(callID string, muted bool) error {
	return m.setMute(callID, "mute speaker", func(oc *ourCall) func(AudioSession) {
		oc.view.SpeakerMute = muted
		return func(a AudioSession) { a.SetSpeakerMuted(muted) }
	})
}

// setMute records a mute in our live call's view (under the lock) and then
// applies it to the call's audio outside the lock.
func (m *Manager) setMute(callID, what string, record func(*ourCall) func(AudioSession)) error {
	m.mu.Lock()
	oc := m.findByIDLocked(callID)
	if oc == nil || !oc.view.State.Live() {
		m.mu.Unlock()
		return fmt.Errorf("%s: no live call %s of ours", what, shortID(callID))
	}
	apply := record(oc)
	a := oc.audio
	m.publishLocked()
	m.mu.Unlock()
	if a != nil {
		apply(a)
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
