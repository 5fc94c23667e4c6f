package simulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FaultHeader marks a response the simulator broke on purpose (FailNext,
// Malformed...). The contract validator does not hold such responses to the
// schema.
const FaultHeader = "X-Simulator-Fault"

// maxBody bounds a request body.
const maxBody = 1 << 20

type apiError struct {
	status     int
	body       any
	retryAfter time.Duration
}

func errDetail(status int, msg string) *apiError {
	return &apiError{status: status, body: map[string]string{"detail": msg}}
}

func (e *apiError) message() string {
	b, _ := json.Marshal(e.body)
	return fmt.Sprintf("%d %s", e.status, b)
}

// reply is what an operation answers.
type reply struct {
	status     int
	body       any // nil: no body
	retryAfter time.Duration
}

func ok(status int, body any) reply { return reply{status: status, body: body} }

func fail(e *apiError) reply { return reply{status: e.status, body: e.body, retryAfter: e.retryAfter} }

type apiFunc func(r *http.Request, body []byte) reply

func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	handle := func(pattern string, f apiFunc) {
		api.Handle(pattern, s.operation(f))
	}
	handle("GET /api/accounts/me", s.getAccount)
	handle("GET /api/accounts/me/billing/usage", s.getUsage)
	handle("GET /api/agents", s.listAgents)
	handle("GET /api/agents/{agent_id}", s.getAgent)
	handle("POST /api/agents/{agent_id}/calls", s.createAgentCall)
	handle("GET /api/agents/{agent_id}/calls", s.listAgentCalls)
	handle("POST /api/calls", s.createCall)
	handle("GET /api/calls", s.listCalls)
	handle("GET /api/calls/{call_id}", s.getCall)
	handle("DELETE /api/calls/{call_id}", s.deleteCall)
	handle("POST /api/calls/{call_id}/send_data_message", s.sendDataMessage)
	handle("GET /api/calls/{call_id}/messages", s.listMessages)
	handle("GET /api/deleted_calls", s.listDeleted)
	handle("GET /api/deleted_calls/{call_id}", s.getDeleted)
	handle("/api/", func(r *http.Request, _ []byte) reply {
		return fail(errDetail(http.StatusNotFound, "Not found."))
	})
	var apiHandler http.Handler = api
	if s.opts.Middleware != nil {
		apiHandler = s.opts.Middleware(apiHandler)
	}
	root := http.NewServeMux()
	root.Handle("/api/", apiHandler)
	root.HandleFunc("GET /sim/join/{token}", s.join)
	if s.opts.ControlAPI {
		s.controlRoutes(root)
	}
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found. The Ultravox simulator serves /api/..."}, "")
	})
	return root
}

func writeJSON(w http.ResponseWriter, status int, body any, fault string) {
	if fault != "" {
		w.Header().Set(FaultHeader, fault)
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"detail":%q}`, "simulator could not encode its answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// wait blocks for d, unless the request or the server goes away first.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// holdIfUnresponsive blocks while the server is set unresponsive; false when
// the request or server went away meanwhile.
func (s *Server) holdIfUnresponsive(r *http.Request) bool {
	s.mu.Lock()
	ch := s.unblock
	lat := s.latency
	s.mu.Unlock()
	select {
	case <-ch:
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
	return s.wait(r, lat)
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) >= s.opts.MaxRecordedRequests {
		drop := len(s.requests) - s.opts.MaxRecordedRequests + 1
		s.requests = append(s.requests[:0], s.requests[drop:]...)
	}
	s.requests = append(s.requests, rec)
}

// operation wraps one REST operation with recording, the test controls and
// authentication.
func (s *Server) operation(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		rec := Request{Time: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Query: cloneValues(r.URL.Query()), Body: body, UserAgent: r.UserAgent()}
		if err != nil {
			rec.Status = http.StatusBadRequest
			s.record(rec)
			writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "could not read the request body: " + err.Error()}, "")
			return
		}
		if len(body) > maxBody {
			rec.Status = http.StatusRequestEntityTooLarge
			s.record(rec)
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"detail": "Request body larger than 1 MiB."}, "")
			return
		}
		if !s.holdIfUnresponsive(r) {
			// The client gave up or the server is closing: drop the
			// connection rather than answer anything.
			s.record(rec)
			panic(http.ErrAbortHandler)
		}
		s.mu.Lock()
		var flt *fault
		if len(s.failNext) > 0 {
			f := s.failNext[0]
			s.failNext = s.failNext[1:]
			flt = &f
		}
		unauthorized := s.unauthorized
		s.mu.Unlock()

		if flt != nil && !flt.after && !flt.cut {
			rec.Status = flt.status
			s.record(rec)
			s.writeFault(w, flt.status)
			return
		}
		var rep reply
		switch key := r.Header.Get("X-API-Key"); {
		case unauthorized:
			rep = fail(errDetail(http.StatusUnauthorized, "Invalid API key."))
		case key == "":
			rep = fail(errDetail(http.StatusUnauthorized, "Authentication credentials were not provided."))
		case key != s.opts.APIKey:
			rep = fail(errDetail(http.StatusUnauthorized, "Invalid API key."))
		default:
			rep = f(r, body)
		}
		if flt != nil && flt.cut {
			s.record(rec)
			panic(http.ErrAbortHandler)
		}
		if flt != nil && flt.after {
			rec.Status = flt.status
			s.record(rec)
			s.writeFault(w, flt.status)
			return
		}
		s.mu.Lock()
		broken := false
		if s.malformed > 0 && rep.body != nil {
			s.malformed--
			broken = true
		}
		s.mu.Unlock()
		rec.Status = rep.status
		s.record(rec)
		if rep.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (rep.retryAfter+time.Second-1)/time.Second))))
		}
		if broken {
			b, _ := json.Marshal(rep.body)
			w.Header().Set(FaultHeader, "malformed")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rep.status)
			w.Write(b[:len(b)/2])
			return
		}
		writeJSON(w, rep.status, rep.body, "")
	})
}

func (s *Server) writeFault(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = "Error"
	}
	writeJSON(w, status, map[string]string{"detail": "Simulated failure: " + msg + "."}, "injected")
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// ---- account and agents ----

func (s *Server) getAccount(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok(http.StatusOK, s.accountLocked())
}

// Account returns the account as GET /api/accounts/me shows it.
func (s *Server) Account() Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accountLocked()
}

func (s *Server) accountLocked() Account {
	active := 0
	reservedUsed := time.Duration(0)
	for _, c := range s.order {
		if c.live() {
			active++
			reservedUsed += c.reserved
		}
	}
	var allowed *int
	if s.opts.MaxConcurrent > 0 {
		n := s.opts.MaxConcurrent
		allowed = &n
	}
	voices, corpora := 0, 1
	return Account{
		AccountID:              s.accountID,
		Name:                   s.opts.AccountName,
		BillingURL:             "https://app.ultravox.ai/billing",
		FreeTimeUsed:           formatDuration(s.freeUsed),
		FreeTimeRemaining:      formatDuration(s.freeAvailableLocked()),
		HasActiveSubscription:  false,
		ActiveCalls:            active,
		AllowedConcurrentCalls: allowed,
		AllowedVoices:          &voices,
		AllowedCorpora:         &corpora,
	}
}

func (s *Server) listAgents(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	pp, apiErr := parsePage(q)
	if apiErr != nil {
		return fail(apiErr)
	}
	sortKey := q.Get("sort")
	if sortKey == "" {
		sortKey = "-created"
	}
	switch sortKey {
	case "created", "-created", "name", "-name":
	default:
		return fail(&apiError{status: 400, body: fieldErrors{"sort": {fmt.Sprintf("Unsupported sort %q: use created, -created, name or -name.", sortKey)}}})
	}
	search := strings.ToLower(q.Get("search"))
	s.mu.Lock()
	var items []Agent
	for _, a := range s.agents {
		if search == "" || strings.Contains(strings.ToLower(a.Name), search) {
			items = append(items, s.agentWire(a))
		}
	}
	s.mu.Unlock()
	keyOf := func(a Agent) string {
		if strings.TrimPrefix(sortKey, "-") == "name" {
			return strings.ToLower(a.Name) + "\x00" + a.AgentID
		}
		return timeKey(a.Created) + a.AgentID
	}
	return paginate(r, items, keyOf, strings.HasPrefix(sortKey, "-"), pp)
}

func (s *Server) getAgent(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.agentByIDLocked(r.PathValue("agent_id"))
	if a == nil {
		return fail(errDetail(http.StatusNotFound, "No Agent matches the given query."))
	}
	return ok(http.StatusOK, s.agentWire(a))
}

// ---- calls ----

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

// callFilter is the parsed filter of GET /api/calls.
type callFilter struct {
	from, to time.Time
	metadata map[string]string
	agentIDs map[string]bool
}

func parseCallFilter(q url.Values) (callFilter, *apiError) {
	f := callFilter{metadata: map[string]string{}}
	fe := fieldErrors{}
	if v := q.Get("fromDate"); v != "" {
		t, dateOnly, err := parseDateTime(v)
		if err != nil {
			fe.add("fromDate", "%v", err)
		}
		_ = dateOnly
		f.from = t
	}
	if v := q.Get("toDate"); v != "" {
		t, dateOnly, err := parseDateTime(v)
		if err != nil {
			fe.add("toDate", "%v", err)
		}
		if dateOnly {
			t = t.Add(24*time.Hour - time.Microsecond)
		}
		f.to = t
	}
	for k, vs := range q {
		if key, found := strings.CutPrefix(k, "metadata."); found && len(vs) > 0 {
			if key == "" {
				fe.add("metadata", "metadata filter needs a key: metadata.<key>=<value>")
				continue
			}
			f.metadata[key] = vs[0]
		}
	}
	for _, v := range q["agentIds"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				if f.agentIDs == nil {
					f.agentIDs = map[string]bool{}
				}
				f.agentIDs[id] = true
			}
		}
	}
	if len(fe) > 0 {
		return f, &apiError{status: 400, body: fe}
	}
	return f, nil
}

func (f callFilter) match(c *simCall) bool {
	if !f.from.IsZero() && c.created.Before(f.from) {
		return false
	}
	if !f.to.IsZero() && c.created.After(f.to) {
		return false
	}
	for k, v := range f.metadata {
		if c.metadata[k] != v {
			return false
		}
	}
	if f.agentIDs != nil && (c.agent == nil || !f.agentIDs[c.agent.AgentID]) {
		return false
	}
	return true
}

// parseDateTime accepts an RFC 3339 date-time or a plain date (midnight UTC).
func parseDateTime(v string) (time.Time, bool, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), false, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("Enter a valid date/time: %q is neither RFC 3339 (2026-11-22T02:00:00Z) nor a date (2026-11-22).", v)
}

func (s *Server) listCalls(r *http.Request, _ []byte) reply {
	return s.listCallsFor(r, "")
}

func (s *Server) listAgentCalls(r *http.Request, _ []byte) reply {
	id := r.PathValue("agent_id")
	s.mu.Lock()
	a := s.agentByIDLocked(id)
	s.mu.Unlock()
	if a == nil {
		return fail(errDetail(http.StatusNotFound, "No Agent matches the given query."))
	}
	return s.listCallsFor(r, id)
}

func (s *Server) listCallsFor(r *http.Request, agentID string) reply {
	q := r.URL.Query()
	pp, apiErr := parsePage(q)
	if apiErr != nil {
		return fail(apiErr)
	}
	sortKey := q.Get("sort")
	if sortKey == "" {
		sortKey = "-created"
	}
	if sortKey != "created" && sortKey != "-created" {
		return fail(&apiError{status: 400, body: fieldErrors{"sort": {fmt.Sprintf("Unsupported sort %q: use created or -created.", sortKey)}}})
	}
	f, apiErr := parseCallFilter(q)
	if apiErr != nil {
		return fail(apiErr)
	}
	s.mu.Lock()
	var items []Call
	for _, c := range s.order {
		if c.deleted || !f.match(c) || (agentID != "" && (c.agent == nil || c.agent.AgentID != agentID)) {
			continue
		}
		items = append(items, c.snapshot())
	}
	s.mu.Unlock()
	return paginate(r, items, func(c Call) string { return timeKey(c.Created) + c.CallID }, sortKey == "-created", pp)
}

func (s *Server) listDeleted(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	pp, apiErr := parsePage(q)
	if apiErr != nil {
		return fail(apiErr)
	}
	f, apiErr := parseCallFilter(q)
	if apiErr != nil {
		return fail(apiErr)
	}
	s.mu.Lock()
	var items []CallTombstone
	for _, t := range s.tombstones {
		if (f.from.IsZero() || !t.Created.Before(f.from)) && (f.to.IsZero() || !t.Created.After(f.to)) {
			items = append(items, t)
		}
	}
	s.mu.Unlock()
	return paginate(r, items, func(t CallTombstone) string { return timeKey(t.Created) + t.CallID }, true, pp)
}

func (s *Server) getDeleted(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tombstones {
		if t.CallID == r.PathValue("call_id") {
			return ok(http.StatusOK, t)
		}
	}
	return fail(errDetail(http.StatusNotFound, "No CallTombstone matches the given query."))
}

// ---- billing usage ----

func (s *Server) getUsage(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	now := s.clock.Now()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(24 * time.Hour)
	fe := fieldErrors{}
	if v := q.Get("fromDate"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			fe.add("fromDate", "Date has wrong format %q. Use YYYY-MM-DD.", v)
		}
		from = t
	}
	if v := q.Get("toDate"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			fe.add("toDate", "Date has wrong format %q. Use YYYY-MM-DD.", v)
		}
		to = t
	}
	if len(fe) == 0 && !to.After(from) {
		fe.add("toDate", "toDate must be after fromDate.")
	}
	if len(fe) == 0 && to.Sub(from) > 90*24*time.Hour {
		fe.add("toDate", "toDate may be at most 90 days after fromDate.")
	}
	if len(fe) > 0 {
		return fail(&apiError{status: 400, body: fe})
	}
	s.mu.Lock()
	perDay := map[string]float64{}
	for _, c := range s.order {
		if c.settled && c.billingStatus == BillingBilled && !c.ended.Before(from) && c.ended.Before(to) {
			perDay[c.ended.Format("2006-01-02")] += c.billed.Minutes()
		}
	}
	s.mu.Unlock()
	out := UsageResponse{DailyUsage: []BillingUsageDay{}}
	for d := from; d.Before(to); d = d.Add(24 * time.Hour) {
		key := d.Format("2006-01-02")
		m := perDay[key]
		out.DailyUsage = append(out.DailyUsage, BillingUsageDay{Date: key, Minutes: m})
		out.TotalMinutes += m
	}
	return ok(http.StatusOK, out)
}

// ---- pagination ----

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

type pageParams struct {
	size    int
	hasCur  bool
	reverse bool   // the cursor points backwards (a previous link)
	pos     string // the boundary position
}

type cursorData struct {
	P string `json:"p"`
	R bool   `json:"r,omitempty"`
}

func parsePage(q url.Values) (pageParams, *apiError) {
	pp := pageParams{size: defaultPageSize}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pp, &apiError{status: 400, body: fieldErrors{"pageSize": {fmt.Sprintf("A valid positive integer is required, got %q.", v)}}}
		}
		pp.size = min(n, maxPageSize)
	}
	if v := q.Get("cursor"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		var cd cursorData
		if err == nil {
			err = json.Unmarshal(raw, &cd)
		}
		if err != nil || cd.P == "" {
			return pp, errDetail(http.StatusNotFound, "Invalid cursor")
		}
		pp.hasCur, pp.reverse, pp.pos = true, cd.R, cd.P
	}
	return pp, nil
}

func encodeCursor(pos string, reverse bool) string {
	b, _ := json.Marshal(cursorData{P: pos, R: reverse})
	return base64.RawURLEncoding.EncodeToString(b)
}

// timeKey is a string that sorts as t does.
func timeKey(t time.Time) string { return fmt.Sprintf("%020d|", t.UnixNano()) }

// paginate answers one page of items ordered by key (descending when desc),
// with full-URL next/previous links that keep the request's other
// parameters.
func paginate[T any](r *http.Request, items []T, key func(T) string, desc bool, pp pageParams) reply {
	keys := make([]string, len(items))
	idx := make([]int, len(items))
	for i, it := range items {
		keys[i] = key(it)
		idx[i] = i
	}
	before := func(a, b string) bool { // a comes before b in the listing
		if desc {
			return a > b
		}
		return a < b
	}
	sort.SliceStable(idx, func(i, j int) bool { return before(keys[idx[i]], keys[idx[j]]) })
	ordered := make([]int, 0, len(idx))
	ordered = append(ordered, idx...)

	start, end := 0, 0
	switch {
	case !pp.hasCur:
		start = 0
		end = min(len(ordered), pp.size)
	case !pp.reverse:
		start = len(ordered)
		for i, k := range ordered {
			if before(pp.pos, keys[k]) {
				start = i
				break
			}
		}
		end = min(len(ordered), start+pp.size)
	default:
		end = 0
		for i, k := range ordered {
			if before(keys[k], pp.pos) {
				end = i + 1
			}
		}
		start = max(0, end-pp.size)
	}
	page := Page[T]{Results: make([]T, 0, end-start), Total: len(items)}
	for _, k := range ordered[start:end] {
		page.Results = append(page.Results, items[k])
	}
	if end < len(ordered) && end > 0 {
		u := pageURL(r, encodeCursor(keys[ordered[end-1]], false))
		page.Next = &u
	}
	if start > 0 && start < len(ordered) {
		u := pageURL(r, encodeCursor(keys[ordered[start]], true))
		page.Previous = &u
	}
	return ok(http.StatusOK, page)
}

func pageURL(r *http.Request, cursor string) string {
	q := r.URL.Query()
	q.Set("cursor", cursor)
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
