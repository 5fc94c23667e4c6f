package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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
		if c.deleted || !f.match(c) || (len(f.metadata) > 0 && !s.metadataIndexedLocked(c)) || (agentID != "" && (c.agent == nil || c.agent.AgentID != agentID)) {
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
