package calls

import (
	"context"
	"fmt"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

const (
	// lookbackSkew widens the recent-calls window for clock skew.
	lookbackSkew = 10 * time.Minute
	// apiDefaultMaxDuration is the longest call a client that sends no
	// maxDuration can make; calls elsewhere may be that long.
	apiDefaultMaxDuration = time.Hour
	// wideLookback is used when activeCalls says more is live than the
	// recent listing showed.
	wideLookback = 25 * time.Hour
	// maxListed bounds how many calls one listing reads.
	maxListed = 2000
	// agentsRefresh is how often the agent list is reloaded (rarely: the
	// idle poll is one request, and this adds to it).
	agentsRefresh = time.Hour
	// usageRefresh is how often today's usage is reloaded when no call of
	// ours settled.
	usageRefresh = time.Hour
	// healthTimeout bounds the account read of a poll: a network gone shows
	// as "unknown" one poll interval and this much after it went.
	healthTimeout = 5 * time.Second
	// maxBackoff caps the wait between failed checks (Retry-After included).
	maxBackoff = 5 * time.Minute
	// pollTimeout bounds one whole poll.
	pollTimeout = 60 * time.Second
)

// watchLoop polls the account: slowly when nothing is live, fast when
// anything is live or pending, backing off on errors; Recheck wakes it.
func (m *Manager) watchLoop() {
	defer m.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-timer.C:
		case <-m.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			// A wake-up does not override the server's Retry-After.
			m.mu.Lock()
			wait := time.Until(m.notBefore)
			m.mu.Unlock()
			if wait > 0 {
				timer.Reset(wait)
				continue
			}
		}
		next := m.pollOnce()
		if m.ctx.Err() != nil {
			return
		}
		timer.Reset(next)
	}
}

// pollOnce checks the account once and returns the wait until the next
// check.
func (m *Manager) pollOnce() time.Duration {
	ctx, cancel := context.WithTimeout(m.ctx, pollTimeout)
	defer cancel()

	client, lookback, wait, busy, ok := m.pollStart()
	if !ok {
		return wait
	}
	list, live, acct, listed, err := m.readAccount(ctx, client, lookback, busy)
	if err != nil {
		return m.checkFailed(client, err)
	}
	work, ok := m.applyPoll(client, list, listed, live, acct)
	if !ok {
		return m.cfg.PollLive
	}
	settled := m.settleStep(ctx, client, work.settle)
	if work.needAgents {
		m.refreshAgents(ctx, client)
	}
	if work.needUsage || settled {
		m.refreshUsage(ctx, client)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkBudgetLocked()
	m.publishLocked()
	m.idlePolling = !m.anythingLiveLocked()
	return m.nextWaitLocked(m.pollIntervalLocked())
}

// pollStart starts waiting end attempts and returns the client to poll
// with and how far back to list calls; without a client (ok false) it
// returns the wait until the next check.
func (m *Manager) pollStart() (client *ultravox.Client, lookback, wait time.Duration, busy, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	lookback = max(m.settings.MaxDuration+m.settings.JoinTimeout, apiDefaultMaxDuration+30*time.Second) + lookbackSkew
	m.startPendingFlowsLocked()
	if m.client == nil {
		m.health, m.healthDetail = HealthNoKey, "no API key is set"
		m.checkDeadlinesLocked()
		m.publishLocked()
		return nil, 0, m.nextWaitLocked(m.cfg.PollIdle), false, false
	}
	return m.client, lookback, 0, m.anythingLiveLocked(), true
}

// readAccount reads the account and, when needed, lists recent calls.
// listed reports whether list is a listing at all: while nothing is live
// (busy false) the account's activeCalls is the cheap signal, and calls are
// listed only when it says something is live that we do not know of. When
// the account counts more active calls than the listing shows, it looks
// wider before the difference is called unaccounted.
func (m *Manager) readAccount(ctx context.Context, client *ultravox.Client, lookback time.Duration, busy bool) (list []ultravox.Call, live int, acct *ultravox.Account, listed bool, err error) {
	now := m.now()
	if busy {
		// All at once: a round trip less, and warm connections for the end
		// path's parallel requests (fastend.go).
		var lerr error
		done := make(chan struct{})
		side, stop := context.WithCancel(ctx)
		defer stop()
		go func() {
			defer close(done)
			list, lerr = m.listCalls(side, client, now.Add(-lookback))
		}()
		warmed := m.refreshBilling(side, client)
		if acct, err = m.getAccount(ctx, client); err != nil {
			stop() // the check failed: say so now, not after the listing's retries
		}
		<-done
		<-warmed
		if err == nil {
			err = lerr
		}
		if err != nil {
			return nil, 0, nil, false, err
		}
	} else {
		if acct, err = m.getAccount(ctx, client); err != nil {
			return nil, 0, nil, false, err
		}
		if acct.ActiveCalls == 0 {
			return nil, 0, acct, false, nil
		}
		if list, err = m.listCalls(ctx, client, now.Add(-lookback)); err != nil {
			return nil, 0, nil, false, err
		}
	}
	live = countLive(list)
	if acct.ActiveCalls > live {
		if wide, werr := m.listCalls(ctx, client, now.Add(-wideLookback)); werr == nil {
			list, live = wide, countLive(wide)
		}
	}
	return list, live, acct, true, nil
}

// refreshBilling GETs our first billing call beside the poll's other two
// requests: the server's view of it, and a third warm connection, so that
// ending it (hang_up, an early GET, one more) needs no new connection even
// when a settle or usage read is on its way. The channel closes when done.
func (m *Manager) refreshBilling(ctx context.Context, client *ultravox.Client) <-chan struct{} {
	done := make(chan struct{})
	m.mu.Lock()
	id := ""
	for _, oc := range m.ours {
		if oc.view.State == CallBilling && oc.view.ID != "" && !oc.end.wanted() {
			id = oc.view.ID
			break
		}
	}
	m.mu.Unlock()
	if id == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		c, err := client.GetCall(ctx, id)
		if err != nil || c.Ended != nil {
			return // the listing and the end path deal with ends
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if oc := m.findByIDLocked(id); oc != nil && oc.view.State == CallBilling && !oc.end.wanted() && m.applyServerLocked(oc, c) {
			m.saveEntryLocked(oc)
		}
	}()
	return done
}

// getAccount reads the account within healthTimeout (no retries: the next
// poll is the retry), so that a network gone shows within a poll interval
// and a few seconds; it feeds the round-trip estimate.
func (m *Manager) getAccount(ctx context.Context, client *ultravox.Client) (*ultravox.Account, error) {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	sent := time.Now()
	acct, err := client.GetAccount(ctx)
	if err == nil {
		m.rtt.observe(time.Since(sent))
	}
	return acct, err
}

// pollWork is what a poll does after it folded the listing in.
type pollWork struct {
	settle                []*settleCall
	needUsage, needAgents bool
}

// applyPoll folds a successful check in: health, our calls, calls
// elsewhere, pending end attempts and deadlines. ok is false when the key
// changed or the manager closed meanwhile.
func (m *Manager) applyPoll(client *ultravox.Client, list []ultravox.Call, listed bool, live int, acct *ultravox.Account) (work pollWork, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client != client || m.closed {
		return work, false
	}
	m.checkOKLocked(acct)
	endedElsewhere := false
	if listed {
		before := m.elsewhere
		m.mergeCallsLocked(list)
		for id := range before {
			if _, ok := m.elsewhere[id]; !ok {
				endedElsewhere = true // it billed: today's usage changed
			}
		}
	}
	m.unaccounted = max(0, acct.ActiveCalls-live)
	if m.unaccounted > 0 {
		m.healthDetail = fmt.Sprintf("the account reports %d active call(s) that the call list does not show", m.unaccounted)
	}
	// Our calls not in the listing that still need watching: GET them.
	m.startPendingFlowsLocked()
	for _, sc := range m.settling {
		work.settle = append(work.settle, sc)
	}
	now := m.now() // the manager's clock, as usageAt and agentsAt are
	day := now.UTC().Format(time.DateOnly)
	// Usage changes when a call ends: settling refreshes it (pollOnce);
	// calls elsewhere are caught by a slow refresh.
	work.needUsage = m.usageDay != day || endedElsewhere || now.Sub(m.usageAt) >= usageRefresh
	work.needAgents = m.agentsAt.IsZero() || now.Sub(m.agentsAt) >= agentsRefresh
	m.checkDeadlinesLocked()
	m.publishLocked()
	return work, true
}

// startPendingFlowsLocked starts end flows that are waiting: recovered
// calls and calls whose earlier attempt gave up.
func (m *Manager) startPendingFlowsLocked() {
	for _, oc := range m.ours {
		if oc.end.wanted() && !oc.end.attemptRunning() && oc.view.State != CallCreating {
			m.startFlowLocked(oc)
		}
	}
}

func countLive(list []ultravox.Call) int {
	n := 0
	for i := range list {
		if list[i].Ended == nil {
			n++
		}
	}
	return n
}

func (m *Manager) listCalls(ctx context.Context, client *ultravox.Client, from time.Time) ([]ultravox.Call, error) {
	var out []ultravox.Call
	for c, err := range client.Calls(ctx, ultravox.ListCallsParams{Sort: "-created", FromDate: from, PageSize: 100}) {
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if len(out) >= maxListed {
			m.log.Warn("call listing truncated", "calls", len(out))
			break
		}
	}
	return out, nil
}

// checkOKLocked records a successful check.
func (m *Manager) checkOKLocked(acct *ultravox.Account) {
	prev := m.health
	m.health, m.healthDetail = HealthOK, ""
	m.lastCheck = m.now()
	m.failures, m.retryAfter = 0, 0
	m.account = AccountView{Name: acct.Name, ActiveCalls: acct.ActiveCalls, FreeTimeRemaining: acct.FreeTimeRemaining.Std()}
	if acct.AllowedConcurrentCalls != nil {
		m.account.AllowedConcurrentCalls = *acct.AllowedConcurrentCalls
	}
	switch prev {
	case HealthOffline, HealthRateLimited, HealthKeyRejected:
		m.emitLocked(Event{Kind: EventBackOnline, Message: msgBackOnline})
	}
}

// checkFailed records a failed check and returns the backoff.
func (m *Manager) checkFailed(client *ultravox.Client, err error) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client != client || m.closed || ultravox.IsCanceled(err) {
		return m.cfg.PollLive
	}
	m.failures++
	m.noteFailureLocked(err)
	backoff := m.cfg.PollLive << min(m.failures-1, 10)
	backoff = min(backoff, m.cfg.PollIdle)
	if m.retryAfter > 0 {
		backoff = max(backoff, min(m.retryAfter, maxBackoff))
		m.notBefore = time.Now().Add(min(m.retryAfter, maxBackoff))
	}
	m.checkDeadlinesLocked()
	m.publishLocked()
	return m.nextWaitLocked(backoff)
}

// noteOffline records a failure seen outside the poll (ending a call).
func (m *Manager) noteOffline(client *ultravox.Client, err error) {
	if ultravox.IsCanceled(err) || ultravox.IsNotFound(err) || ultravox.IsNotActive(err) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client != client || m.closed {
		return
	}
	m.noteFailureLocked(err)
	m.publishLocked()
}

func (m *Manager) noteFailureLocked(err error) {
	prev := m.health
	switch {
	case ultravox.IsUnauthorized(err):
		m.health = HealthKeyRejected
		m.healthDetail = "API key rejected by Ultravox: " + err.Error()
		if prev != HealthKeyRejected {
			m.emitLocked(Event{Kind: EventKeyRejected, Message: msgKeyRejected})
		}
	case ultravox.IsRateLimited(err):
		m.health = HealthRateLimited
		m.healthDetail = "Ultravox is rate-limiting requests: " + err.Error()
		m.retryAfter = ultravox.RetryAfter(err)
	default:
		m.health = HealthOffline
		m.healthDetail = "cannot reach Ultravox: " + err.Error()
	}
	if !ultravox.IsRateLimited(err) {
		m.retryAfter = 0
	}
}

// nextWaitLocked shortens wait so that a pending deadline (ending soon) is
// met.
func (m *Manager) nextWaitLocked(wait time.Duration) time.Duration {
	now := m.now()
	for _, oc := range m.ours {
		if d, ok := m.soonDeadlineLocked(oc); ok {
			if until := d.Sub(now); until < wait {
				wait = max(until, 10*time.Millisecond)
			}
		}
	}
	return wait
}

// soonDeadlineLocked is when EventEndingSoon is due for oc. The rule: the
// warning fires once, EndingSoonLead before maxDuration counted from the
// server's join time (240 s with a 30 s lead: at joined+210 s), and only for
// calls longer than the lead. A call whose whole length is within the lead
// (maxDuration <= EndingSoonLead) gets no warning: the user chose a short
// call, EventCallStarted already told its limit, and a warning at the very
// start ("ends in 0:20") would only be noise. A lead of 0 turns the warning
// off.
func (m *Manager) soonDeadlineLocked(oc *ourCall) (time.Time, bool) {
	v := oc.view
	if oc.soonNotified || oc.recovered || v.State != CallBilling || v.Joined.IsZero() || v.MaxDuration <= 0 {
		return time.Time{}, false
	}
	lead := m.settings.EndingSoonLead
	if lead <= 0 || v.MaxDuration <= lead {
		return time.Time{}, false
	}
	return v.Joined.Add(v.MaxDuration - lead), true
}

// checkDeadlinesLocked fires EndingSoon once per call when
// soonDeadlineLocked says it is due.
func (m *Manager) checkDeadlinesLocked() {
	now := m.now()
	for _, oc := range m.ours {
		d, ok := m.soonDeadlineLocked(oc)
		if !ok || now.Before(d) {
			continue
		}
		oc.soonNotified = true
		left := oc.view.Remaining(now)
		m.emitLocked(Event{Kind: EventEndingSoon, Call: oc.copyView(), Message: msgEndingSoon(oc.view, left)})
	}
}

// mergeCallsLocked folds a listing of recent calls into our calls and the
// calls billing elsewhere.
func (m *Manager) mergeCallsLocked(list []ultravox.Call) {
	seen := map[string]CallView{}
	for i := range list {
		c := &list[i]
		oc := m.findByIDLocked(c.CallID)
		if oc == nil {
			oc = m.findByRequestLocked(c.RequestID())
		}
		if oc != nil {
			if oc.end.confirmed() {
				continue
			}
			if c.Ended != nil {
				if oc.view.State == CallCreating {
					continue // Start is still handling it
				}
				m.finalizeLocked(oc, c)
				continue
			}
			if m.applyServerLocked(oc, c) {
				m.saveEntryLocked(oc)
			}
			continue
		}
		if c.Ended != nil {
			continue
		}
		if _, ours := m.settling[c.CallID]; ours {
			continue
		}
		v := viewFromCall(c)
		v.Ours = false
		seen[c.CallID] = v
		if !v.Joined.IsZero() && !m.notifiedElse[c.CallID] {
			m.notifiedElse[c.CallID] = true
			m.emitLocked(Event{Kind: EventBillingElsewhere, Call: v, Message: msgBillingElsewhere(v, m.now(), m.settings.PricePerMinute)})
		}
	}
	for id := range m.notifiedElse {
		if _, ok := seen[id]; !ok {
			delete(m.notifiedElse, id)
		}
	}
	m.elsewhere = seen
}

// refreshAgents reloads the agent list and names our calls from it.
func (m *Manager) refreshAgents(ctx context.Context, client *ultravox.Client) {
	agents, err := client.ListAgents(ctx)
	if err != nil {
		m.log.Info("agent list not loaded", "err", err)
		return
	}
	views := make([]AgentView, 0, len(agents))
	for _, a := range agents {
		views = append(views, AgentView{ID: a.AgentID, Name: a.Name})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client != client {
		return
	}
	m.agents, m.agentsAt = views, m.now()
	for _, oc := range m.ours {
		if oc.view.AgentName == "" {
			for _, a := range views {
				if a.ID == oc.view.AgentID {
					oc.view.AgentName = a.Name
				}
			}
		}
	}
	m.publishLocked()
}
