package calls

import (
	"context"
	"slices"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// settleLimit is how long an ended call is watched for billing to settle.
const settleLimit = 15 * time.Minute

// settleCall is an ended call whose billing is not settled yet.
type settleCall struct {
	view   CallView
	since  time.Time // when we saw it end (our clock)
	client *ultravox.Client
}

// settleStep GETs ended calls until their billing settles, then records
// them in the history with EventBilledSummary. Reports whether any settled.
func (m *Manager) settleStep(ctx context.Context, client *ultravox.Client, list []*settleCall) bool {
	anySettled := false
	for _, sc := range list {
		cl := sc.client
		if cl == nil {
			cl = client
		}
		c, err := cl.GetCall(ctx, sc.view.ID)
		m.mu.Lock()
		final := m.settleOneLocked(sc, c, err)
		// Only a settled call is deleted: one the app stopped waiting for
		// (settleLimit) still has no billing record, and DELETE would lose it.
		deleteIt := final && m.settings.DeleteAfterEnd && err == nil && ultravox.BillingSettled(c.BillingStatus)
		m.mu.Unlock()
		anySettled = anySettled || final
		if deleteIt {
			if derr := cl.DeleteCall(ctx, sc.view.ID); derr != nil {
				m.log.Warn("deleting the ended call failed", "call", shortID(sc.view.ID), "err", derr)
			}
		}
	}
	return anySettled
}

// settleOneLocked folds one GET of a settling call in; once its billing
// settled (or the call is gone, or settleLimit passed) it goes to the
// history and final is true.
func (m *Manager) settleOneLocked(sc *settleCall, c *ultravox.Call, err error) (final bool) {
	switch {
	case err == nil && ultravox.BillingSettled(c.BillingStatus):
		sc.view = mergeSettled(sc.view, c)
		final = true
	case ultravox.IsNotFound(err):
		final = true // deleted elsewhere: record what we know
	case m.now().Sub(sc.since) > settleLimit:
		final = true
	}
	if final {
		delete(m.settling, sc.view.ID)
		m.recordHistoryLocked(sc.view)
		// Until a usage asked for after this moment arrives, the call's
		// minutes count from here (a start in between must not see them
		// gone from today's spend).
		m.settleSeq++
		m.unbilled = append(m.unbilled, unbilledCall{view: sc.view, seq: m.settleSeq})
	}
	return final
}

// unbilledCall is a settled call whose minutes the usage may not hold yet.
type unbilledCall struct {
	view CallView
	seq  uint64 // m.settleSeq when it settled
}

// usageMarkLocked is taken before a usage request: calls settled by then
// are in its answer.
func (m *Manager) usageMarkLocked() uint64 { return m.settleSeq }

// usageArrivedLocked drops the calls a usage asked for at mark includes.
func (m *Manager) usageArrivedLocked(mark uint64) {
	m.unbilled = slices.DeleteFunc(m.unbilled, func(u unbilledCall) bool { return u.seq <= mark })
}

func mergeSettled(v CallView, c *ultravox.Call) CallView {
	sv := viewFromCall(c)
	v.BillingStatus, v.BilledDuration, v.Settled = sv.BillingStatus, sv.BilledDuration, sv.Settled
	if !sv.Ended.IsZero() {
		v.Ended = sv.Ended
	}
	if !sv.Joined.IsZero() {
		v.Joined = sv.Joined
	}
	if sv.EndReason != "" {
		v.EndReason = sv.EndReason
	}
	return v
}

func (m *Manager) recordHistoryLocked(v CallView) {
	price := m.settings.PricePerMinute
	billed := v.BilledDuration
	// Unsettled, or billed without a readable billedDuration (an odd value
	// the client dropped): the estimate from the server's times.
	if !v.Settled || (billed == 0 && v.BillingStatus == ultravox.BillingStatusBilled && !v.Joined.IsZero()) {
		billed = RoundToBillingUnit(v.Elapsed(v.Ended))
	}
	cost := roundCents(billed.Minutes() * price)
	if v.Settled && v.BillingStatus != ultravox.BillingStatusBilled && knownBillingStatus(v.BillingStatus) {
		cost = 0 // free minutes, free statuses, refunds (an unknown status keeps the estimate: enums.go)
	}
	started := v.Joined
	if started.IsZero() {
		started = v.Created
	}
	h := HistoryEntry{CallID: v.ID, AgentName: agentLabel(v), Started: started, BilledDuration: billed,
		Cost: cost, EndReason: v.EndReason, BillingStatus: v.BillingStatus}
	m.history = addHistory(m.history, h)
	if err := saveHistory(m.cfg.StateDir, m.history); err != nil {
		m.log.Warn("saving the call history failed", "err", err)
	}
	m.emitLocked(Event{Kind: EventBilledSummary, Call: v, Message: msgSettled(v, billed, cost)})
}

func (m *Manager) refreshUsage(ctx context.Context, client *ultravox.Client) {
	m.mu.Lock()
	mark := m.usageMarkLocked()
	m.mu.Unlock()
	day := m.now().UTC()
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	u, err := client.BillingUsage(ctx, from, from.AddDate(0, 0, 1))
	if err != nil {
		m.log.Info("billing usage not loaded", "err", err)
		return
	}
	minutes := 0.0
	for _, d := range u.DailyUsage {
		if d.Date == from.Format(time.DateOnly) {
			minutes += d.Minutes
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client != client {
		return
	}
	m.usageDay, m.usageMin, m.usageAt = from.Format(time.DateOnly), minutes, m.now()
	m.usageArrivedLocked(mark)
	m.publishLocked()
}

// checkBudgetLocked emits EventBudgetReached once per UTC day.
func (m *Manager) checkBudgetLocked() {
	b := m.settings.DailyBudget
	if b <= 0 {
		return
	}
	now := m.now()
	day := now.UTC().Format(time.DateOnly)
	spent := roundCents(m.todayMinutesLocked(now) * m.settings.PricePerMinute)
	if spent >= b && m.budgetDay != day {
		m.budgetDay = day
		m.emitLocked(Event{Kind: EventBudgetReached, Message: msgBudgetReached(spent, b)})
	}
}

// todayMinutesLocked is today's (UTC) billed minutes from the usage
// endpoint plus what is live or ended but not yet in the usage.
func (m *Manager) todayMinutesLocked(now time.Time) float64 {
	day := now.UTC().Format(time.DateOnly)
	total := 0.0
	if m.usageDay == day {
		total = m.usageMin
	}
	add := func(v CallView) { total += billedToday(v, now).Minutes() }
	for _, oc := range m.ours {
		add(oc.view)
	}
	for _, v := range m.elsewhere {
		add(v)
	}
	// Ended calls are in the usage only once billed; before that, count
	// them here (the usage fetched after they settle replaces this).
	for _, sc := range m.settling {
		if !m.usageAt.After(sc.since) || !ultravox.BillingSettled(sc.view.BillingStatus) {
			add(sc.view)
		}
	}
	for _, u := range m.unbilled {
		add(u.view)
	}
	return total
}

// billedToday is the part of v billed today (UTC), rounded up to the
// billing unit: from its join (or midnight) to its end (or now).
func billedToday(v CallView, now time.Time) time.Duration {
	if v.Joined.IsZero() {
		return 0
	}
	day := now.UTC().Format(time.DateOnly)
	end := now
	if !v.Ended.IsZero() {
		end = v.Ended
	}
	if end.UTC().Format(time.DateOnly) != day {
		return 0
	}
	start := v.Joined
	if start.UTC().Format(time.DateOnly) != day {
		start = time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	}
	if !end.After(start) {
		return 0
	}
	return RoundToBillingUnit(end.Sub(start))
}

func roundCents(x float64) float64 {
	return float64(int64(x*10000+0.5)) / 10000
}
