package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The control API exposes the test controls over HTTP for the standalone
// simulator (Options.ControlAPI), so a person can drive a demo with curl:
//
//	curl -X POST -H 'X-API-Key: sim-demo-key' 'http://127.0.0.1:8080/sim/control/elsewhere?joined=true&maxDuration=300s'
//
// Every operation is POST, needs the API key, and answers JSON.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	handle := func(name string, f func(r *http.Request) (any, error)) {
		mux.HandleFunc("POST /sim/control/"+name, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-API-Key") != s.opts.APIKey {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid API key."}, "")
				return
			}
			out, err := f(r)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"detail": err.Error()}, "")
				return
			}
			s.logf("simulator: control %s %s", name, r.URL.RawQuery)
			writeJSON(w, http.StatusOK, out, "")
		})
	}
	done := map[string]bool{"ok": true}
	handle("elsewhere", func(r *http.Request) (any, error) {
		q := r.URL.Query()
		joined, err := boolParam(q.Get("joined"), true)
		if err != nil {
			return nil, err
		}
		var maxDur time.Duration
		if v := q.Get("maxDuration"); v != "" {
			if maxDur, err = parseDuration(v); err != nil || maxDur <= 0 {
				return nil, fmt.Errorf("maxDuration %q: want a positive duration such as \"300s\"", v)
			}
		}
		id, err := s.StartCallElsewhere(q.Get("agent"), joined, maxDur)
		if err != nil {
			return nil, err
		}
		return map[string]string{"callId": id}, nil
	})
	handle("end", func(r *http.Request) (any, error) {
		q := r.URL.Query()
		reason := q.Get("reason")
		if reason == "" {
			reason = EndAgentHangup
		}
		return done, s.ForceEnd(q.Get("call"), reason)
	})
	handle("fail-next", func(r *http.Request) (any, error) {
		n, err := intParam(r, "n", 1)
		if err != nil {
			return nil, err
		}
		status, err := intParam(r, "status", 503)
		if err != nil || status < 400 || status > 599 {
			return nil, fmt.Errorf("status: want a 4xx or 5xx code")
		}
		s.FailNext(n, status)
		return done, nil
	})
	handle("malformed", func(r *http.Request) (any, error) {
		n, err := intParam(r, "n", 1)
		if err != nil {
			return nil, err
		}
		s.Malformed(n)
		return done, nil
	})
	handle("latency", func(r *http.Request) (any, error) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("d %q: want a Go duration such as 500ms (0 to turn it off)", r.URL.Query().Get("d"))
		}
		s.SetLatency(d)
		return done, nil
	})
	handle("unauthorized", func(r *http.Request) (any, error) {
		on, err := boolParam(r.URL.Query().Get("on"), true)
		if err != nil {
			return nil, err
		}
		s.SetUnauthorized(on)
		return done, nil
	})
	handle("unresponsive", func(r *http.Request) (any, error) {
		on, err := boolParam(r.URL.Query().Get("on"), true)
		if err != nil {
			return nil, err
		}
		s.SetUnresponsive(on)
		return done, nil
	})
	handle("drop-sockets", func(r *http.Request) (any, error) {
		s.DropSockets()
		return done, nil
	})
	handle("hangup-reason", func(r *http.Request) (any, error) {
		return done, s.SetHangupReason(r.URL.Query().Get("reason"))
	})
}

func boolParam(v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", v)
	}
	return b, nil
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q: want a positive whole number", name, v)
	}
	return n, nil
}
