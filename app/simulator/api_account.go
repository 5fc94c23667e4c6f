package simulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

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
