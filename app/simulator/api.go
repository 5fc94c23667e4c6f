package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
	// raw (with contentType) is a non-JSON body; location a redirect's
	// target (review.go: recordings).
	raw         []byte
	contentType string
	location    string
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
	handle("GET /api/calls/{call_id}/recording", s.getRecording)
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
	if rec.Status != 0 && rec.Answered.IsZero() {
		rec.Answered = s.clock.Now() // recorded as the answer is written
	}
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
		if s.inOutage() {
			s.dropInOutage(&rec)
		}
		if !s.holdIfUnresponsive(r) {
			// The client gave up or the server is closing: drop the
			// connection rather than answer anything.
			s.record(rec)
			panic(http.ErrAbortHandler)
		}
		flt, unauthorized := s.takeFault()
		if flt != nil && !flt.after && !flt.cut {
			rec.Status, rec.Fault = flt.status, "injected"
			s.record(rec)
			s.writeFault(w, flt.status)
			return
		}
		rep := s.authorized(r, body, unauthorized, f)
		if flt != nil && flt.cut {
			rec.Fault = "cut"
			s.record(rec)
			panic(http.ErrAbortHandler)
		}
		if flt != nil && flt.after {
			rec.Status, rec.Fault = flt.status, "after-handling"
			s.record(rec)
			s.writeFault(w, flt.status)
			return
		}
		rep = s.reformat(rep) // formats.go
		broken := s.takeMalformed(rep)
		rec.Status = rep.status
		if broken {
			rec.Fault = "malformed"
		}
		s.record(rec)
		writeReply(w, rep, broken)
	})
}

// takeFault pops the next queued fault (nil when none) and reads whether
// every key is refused.
func (s *Server) takeFault() (flt *fault, unauthorized bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failNext) > 0 {
		f := s.failNext[0]
		s.failNext = s.failNext[1:]
		flt = &f
	}
	return flt, s.unauthorized
}

// authorized runs f when the request carries the simulator's key, and
// answers 401 the way Ultravox words it otherwise.
func (s *Server) authorized(r *http.Request, body []byte, unauthorized bool, f apiFunc) reply {
	switch key := r.Header.Get("X-API-Key"); {
	case unauthorized:
		return fail(errDetail(http.StatusUnauthorized, "Invalid API key."))
	case key == "":
		return fail(errDetail(http.StatusUnauthorized, "Authentication credentials were not provided."))
	case key != s.opts.APIKey:
		return fail(errDetail(http.StatusUnauthorized, "Invalid API key."))
	default:
		return f(r, body)
	}
}

// takeMalformed reports whether rep is to be sent broken, using up one
// queued Malformed answer if so.
func (s *Server) takeMalformed(rep reply) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.malformed > 0 && rep.body != nil {
		s.malformed--
		return true
	}
	return false
}

// writeReply writes rep, cut in half when broken.
func writeReply(w http.ResponseWriter, rep reply, broken bool) {
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
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	if rep.raw != nil {
		w.Header().Set("Content-Type", rep.contentType)
		w.WriteHeader(rep.status)
		w.Write(rep.raw)
		return
	}
	writeJSON(w, rep.status, rep.body, "")
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
