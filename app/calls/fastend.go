package calls

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// Ending fast where the network is slow: every wait on the end path is
// counted in round trips, never a fixed interval. confirmEnd sends the REST
// hang_up at once beside the socket close, GETs the call right after the
// 204 (and once 0.3 round trips after the hang_up left, on a connection
// the live poll keeps warm), and waits between later GETs from half a
// round trip up. The sleep path (EndForSleep) lets the machine sleep on the
// 204 and confirms after the wake.

const (
	// restHangupMessage is the REST hang_up's farewell: none, so that the
	// server ends the call at once instead of speaking first.
	restHangupMessage = ""
	// minConfirmDelay is the shortest wait between GETs of a call that
	// still shows live (on loopback a round trip is 0.1 ms).
	minConfirmDelay = 5 * time.Millisecond
)

// rttGauge estimates the network round trip from the account GETs the
// watcher makes anyway: it follows a faster request at once and a slower
// one by an eighth, so one slow answer does not stretch the end path.
type rttGauge struct{ v atomic.Int64 }

func (g *rttGauge) observe(d time.Duration) {
	if d <= 0 {
		return
	}
	for {
		old := g.v.Load()
		next := int64(d)
		if old > 0 && next > old {
			next = old + (next-old)/8
		}
		if g.v.CompareAndSwap(old, next) {
			return
		}
	}
}

func (g *rttGauge) get() time.Duration { return time.Duration(g.v.Load()) }

// getResult is one GET of a call being ended.
type getResult struct {
	c   *ultravox.Call
	err error
}

// getter runs GETs of one call in the background, so that two may be on
// their way at once; results arrive on results. stop cancels what is
// still running.
type getter struct {
	m        *Manager
	ctx      context.Context
	cancel   context.CancelFunc
	client   *ultravox.Client
	id       string
	results  chan getResult
	inflight int // owned by the caller of fire
}

func (m *Manager) newGetter(ctx context.Context, client *ultravox.Client, id string) *getter {
	ctx, cancel := context.WithCancel(ctx)
	return &getter{m: m, ctx: ctx, cancel: cancel, client: client, id: id, results: make(chan getResult, 4)}
}

// fire starts one GET after wait.
func (g *getter) fire(wait time.Duration) {
	if g.inflight >= cap(g.results) {
		return
	}
	g.inflight++
	g.m.wg.Add(1)
	go func() {
		defer g.m.wg.Done()
		if wait > 0 && !sleepCtx(g.ctx, wait) {
			g.results <- getResult{err: g.ctx.Err()}
			return
		}
		c, err := g.client.GetCall(g.ctx, g.id)
		g.results <- getResult{c: c, err: err}
	}()
}

func (g *getter) stop() { g.cancel() }

// hangupAcked notes that the server answered oc's REST hang_up (or that it
// failed): EndForSleep waits for no more than this.
func (m *Manager) hangupAcked(oc *ourCall, ec *endCheck) {
	if !ec.restSent {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ackHangupLocked(oc)
}

// ackHangupLocked closes oc.hangupAck once.
func ackHangupLocked(oc *ourCall) {
	if oc.hangupAck != nil {
		close(oc.hangupAck)
		oc.hangupAck = nil
	}
}

// EndForSleep ends all our calls before the machine sleeps. It returns as
// soon as the server has accepted every call's hang_up (its 204): the
// call then ends on the server whether or not we are awake, so the
// machine may sleep; each call stays in the journal, and its end is
// confirmed (GET until ended) as the attempt goes on or after the wake. It
// returns the calls whose hang_up was not accepted (nor their end
// confirmed) within ctx.
func (m *Manager) EndForSleep(ctx context.Context) []CallView {
	list := m.markAllEnding()
	m.mu.Lock()
	acks := make([]<-chan struct{}, len(list))
	for i, oc := range list {
		if oc.hangupAck == nil {
			oc.hangupAck = make(chan struct{})
		}
		acks[i] = oc.hangupAck
	}
	m.mu.Unlock()
	m.teardownAll(ctx, list)
	m.mu.Lock()
	dones := make([]<-chan struct{}, len(list))
	for i, oc := range list {
		dones[i] = m.beginEndLocked(oc, ctxDeadline(ctx))
	}
	m.mu.Unlock()
	for i := range list {
		select {
		case <-acks[i]:
		case <-dones[i]:
		case <-ctx.Done():
		}
	}
	return m.unacked(list)
}

// unacked is EndForSleep's answer: the calls of list that are neither
// confirmed ended, known never joined, nor had their hang_up accepted.
func (m *Manager) unacked(list []*ourCall) []CallView {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []CallView
	for _, oc := range list {
		switch {
		case oc.end == endConfirmed, oc.end == endNeverJoined, oc.end == endRecheckingUnjoined:
			continue
		case oc.hangupAck == nil: // acknowledged (closed and cleared)
			continue
		}
		out = append(out, oc.copyView())
	}
	return out
}
