package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

func (s *Server) createAgentCall(r *http.Request, body []byte) reply {
	s.mu.Lock()
	agent := s.agentByIDLocked(r.PathValue("agent_id"))
	s.mu.Unlock()
	if agent == nil {
		return fail(errDetail(http.StatusNotFound, "No Agent matches the given query."))
	}
	return s.create(r, body, agent)
}

func (s *Server) createCall(r *http.Request, body []byte) reply {
	if prior := r.URL.Query().Get("priorCallId"); prior != "" {
		return s.continueCall(r, body, prior)
	}
	return s.create(r, body, nil)
}

func (s *Server) create(r *http.Request, body []byte, agent *Agent) reply {
	spec, apiErr := s.parseCreate(body, agent, agent != nil)
	if apiErr != nil {
		return fail(apiErr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fail(errDetail(http.StatusServiceUnavailable, "Service is shutting down."))
	}
	c, apiErr := s.createLocked(spec, agent, r.Host)
	if apiErr != nil {
		return fail(apiErr)
	}
	return ok(http.StatusCreated, c.snapshot())
}

func (s *Server) liveCallLocked(id string) *simCall {
	c := s.calls[id]
	if c == nil || c.deleted {
		return nil
	}
	return c
}

func (s *Server) getCall(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveCallLocked(r.PathValue("call_id"))
	if c == nil {
		return fail(errDetail(http.StatusNotFound, "No Call matches the given query."))
	}
	return ok(http.StatusOK, c.snapshot())
}

func (s *Server) deleteCall(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveCallLocked(r.PathValue("call_id"))
	if c == nil {
		return fail(errDetail(http.StatusNotFound, "No Call matches the given query."))
	}
	if c.live() {
		return fail(errDetail(http.StatusUnprocessableEntity, "Call is still active; end it before deleting it."))
	}
	c.deleted = true
	delete(s.tokens, c.token)
	s.tombstones = append(s.tombstones, c.tombstone(s.accountID, s.clock.Now()))
	return ok(http.StatusNoContent, nil)
}

func (s *Server) sendDataMessage(r *http.Request, body []byte) reply {
	var msg dataMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return fail(errDetail(http.StatusBadRequest, "JSON parse error - "+err.Error()))
	}
	if msg.Type == "" {
		return fail(&apiError{status: 400, body: fieldErrors{"type": {"This field is required."}}})
	}
	var text string
	switch msg.Type {
	case "hang_up":
	case "user_text_message", "forced_agent_message":
		var t struct {
			Text    string `json:"text"`
			Content string `json:"content"`
		}
		json.Unmarshal(body, &t)
		text = t.Text
		if text == "" {
			text = t.Content
		}
		if text == "" {
			return fail(&apiError{status: 400, body: fieldErrors{"text": {"A " + msg.Type + " needs a non-empty text."}}})
		}
	default:
		return fail(&apiError{status: 400, body: fieldErrors{"type": {fmt.Sprintf("Unsupported data message type %q: REST accepts hang_up, user_text_message and forced_agent_message.", msg.Type)}}})
	}
	s.mu.Lock()
	c := s.liveCallLocked(r.PathValue("call_id"))
	if c == nil {
		s.mu.Unlock()
		return fail(errDetail(http.StatusNotFound, "No Call matches the given query."))
	}
	if !c.live() || c.joined.IsZero() {
		s.mu.Unlock()
		return fail(errDetail(http.StatusUnprocessableEntity, "Call is not active"))
	}
	id, reason, sess := c.id, s.hangupReason, c.sess
	if msg.Type != "hang_up" {
		if sess == nil {
			role := "MESSAGE_ROLE_USER"
			if msg.Type == "forced_agent_message" {
				role = "MESSAGE_ROLE_AGENT"
			}
			c.messages = append(c.messages, Message{Role: role, Text: text, Medium: "MESSAGE_MEDIUM_TEXT", CallStageMessageIndex: len(c.messages), CallStageID: c.id})
		}
		s.mu.Unlock()
		if sess != nil {
			if msg.Type == "forced_agent_message" {
				sess.post(sessEvent{kind: evForced, text: text})
			} else {
				sess.post(sessEvent{kind: evUserText, text: text})
			}
		}
		return ok(http.StatusNoContent, nil)
	}
	// The REST hang_up answers before the call has ended, as the real one.
	if sess != nil && s.farewell != "" && !s.closed { // strict.go: the agent says goodbye first
		s.mu.Unlock()
		if sess.post(sessEvent{kind: evClient, msg: msg, at: time.Now()}) {
			return ok(http.StatusNoContent, nil)
		}
		s.mu.Lock()
	}
	if s.closed {
		// Close waits for no new goroutine: end it here.
		s.mu.Unlock()
		s.endCall(id, reason)
		return ok(http.StatusNoContent, nil)
	}
	s.wg.Add(1) // s.mu held and not closed: before Close's Wait
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.endCall(id, reason)
	}()
	return ok(http.StatusNoContent, nil)
}

func (s *Server) listMessages(r *http.Request, _ []byte) reply {
	pp, apiErr := parsePage(r.URL.Query())
	if apiErr != nil {
		return fail(apiErr)
	}
	s.mu.Lock()
	c := s.liveCallLocked(r.PathValue("call_id"))
	if c == nil {
		s.mu.Unlock()
		return fail(errDetail(http.StatusNotFound, "No Call matches the given query."))
	}
	msgs := append([]Message(nil), c.messages...)
	s.mu.Unlock()
	return paginate(r, msgs, func(m Message) string { return fmt.Sprintf("%012d", m.CallStageMessageIndex) }, false, pp)
}
