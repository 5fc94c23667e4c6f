package simulator

import (
	"fmt"
	"slices"
	"time"
)

// Seeding a large account, for scale figures: an account with 10,000 past
// calls, 50 calls billing elsewhere and 200 agents must not make a client
// slow or chatty. Agents come from Options.Agents (SeedAgentNames makes
// many); StartCallElsewhere starts the live ones.

// SeedAgentNames returns n agent seeds named "Agent 001"... for
// Options.Agents.
func SeedAgentNames(n int) []AgentSeed {
	out := make([]AgentSeed, n)
	for i := range out {
		out[i] = AgentSeed{Name: fmt.Sprintf("Agent %03d", i+1), SystemPrompt: "You are a helpful agent."}
	}
	return out
}

// SeedPastCalls adds n ended, settled calls with the seeded agents in turn,
// created evenly over span before now (the newest a minute ago), each
// joined for a minute and ended by the client (BILLED). They count in
// listings, agents' statistics and nothing else: no free time, no usage.
func (s *Server) SeedPastCalls(n int, span time.Duration) error {
	if n < 0 || span <= 0 {
		return fmt.Errorf("simulator: SeedPastCalls(%d, %v): want n >= 0 and a positive span", n, span)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("simulator: server is closed")
	}
	now := s.clock.Now()
	past := make([]*simCall, 0, n)
	for i := 0; i < n; i++ {
		var agent *Agent
		if len(s.agents) > 0 {
			agent = s.agents[i%len(s.agents)]
		}
		spec, apiErr := s.parseCreate([]byte(`{"maxDuration":"300s"}`), agent, agent != nil)
		if apiErr != nil {
			return fmt.Errorf("simulator: %s", apiErr.message())
		}
		created := now.Add(-time.Minute - span + time.Duration(i+1)*span/time.Duration(n+1))
		c := newSimCall(spec, agent, created)
		s.applyPrompt(c, spec, agent)
		c.joined = created.Add(2 * time.Second)
		c.ended = c.joined.Add(time.Minute)
		c.clientVersion = "ultravox-client-js_0.4.2"
		c.endReason = EndHangup
		c.billed = roundToUnit(c.ended.Sub(c.joined))
		c.finalStatus, c.billingStatus, c.settled = BillingBilled, BillingBilled, true
		c.elsewhere = true
		s.calls[c.id] = c
		past = append(past, c)
		if agent != nil {
			agent.Statistics.Calls++
		}
	}
	// Creation order: the past calls come before every call made so far.
	s.order = append(past, s.order...)
	slices.SortStableFunc(s.order, func(a, b *simCall) int { return a.created.Compare(b.created) })
	return nil
}
