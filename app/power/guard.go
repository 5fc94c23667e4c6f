package power

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// Calls is what the guard needs from the call manager (*calls.Manager).
type Calls interface {
	// HasLiveCalls reports whether a call of ours is live or being created.
	HasLiveCalls() bool
	// EndEverything ends all our calls within ctx's deadline (local teardown
	// first, server confirmation second) and returns the calls whose end
	// the server has not confirmed.
	EndEverything(ctx context.Context) []calls.CallView
	// EndForSleep ends all our calls as EndEverything does, but returns once
	// the server has accepted each call's hang_up (the call ends on the
	// server while we sleep; the end is confirmed after the wake). It
	// returns the calls whose hang_up was not accepted.
	EndForSleep(ctx context.Context) []calls.CallView
	// Recheck asks the manager to look at every call again now.
	Recheck()
	// Subscribe returns the latest snapshot at once and every change after
	// it, and the manager's events (which the guard drains and ignores);
	// cancel ends the subscription.
	Subscribe() (snaps <-chan calls.Snapshot, events <-chan calls.Event, cancel func())
}

// Live is the guard's rule for holding the sleep lock: a start is in
// progress or a call of ours may still bill or still needs ending.
func Live(s calls.Snapshot) bool {
	if s.Starting {
		return true
	}
	for _, c := range s.Ours {
		if c.State.Live() {
			return true
		}
	}
	return false
}

// NoticeKind says what a Notice reports.
type NoticeKind int

const (
	// NoticeEnded: calls were ended because of Notice.Trigger (WillSleep,
	// WillShutdown or Locked). Ended were confirmed by the server;
	// Unconfirmed were not (yet): they are checked again after wake.
	NoticeEnded NoticeKind = iota + 1
	// NoticeEndedWhileAsleep: after a wake, the server confirmed that these
	// calls (Ended) are over: ended before sleep without confirmation, or
	// live when the machine slept without telling us.
	NoticeEndedWhileAsleep
	// NoticeNoSleepLock: logind refused the delay lock or is absent. Sent
	// once. Calls are still ended on the signal, but sleep may not wait.
	NoticeNoSleepLock
)

func (k NoticeKind) String() string {
	switch k {
	case NoticeEnded:
		return "ended"
	case NoticeEndedWhileAsleep:
		return "ended while asleep"
	case NoticeNoSleepLock:
		return "no sleep lock"
	default:
		return "unknown notice"
	}
}

// Notice is something the UI may tell the user.
type Notice struct {
	Kind        NoticeKind
	Trigger     Kind // the power event behind it (zero for NoticeNoSleepLock)
	Time        time.Time
	Ended       []calls.CallView
	Unconfirmed []calls.CallView
	Message     string // a complete sentence for a notification
}

// GuardOptions configure NewGuard.
type GuardOptions struct {
	// EndOnLock reads the setting "end calls when the screen locks" each
	// time the screen locks. Nil means off.
	EndOnLock func() bool
	// OnNotice receives notices, one at a time, from the guard's
	// goroutines. It must not block for long (UI code: hand off with fyne.Do).
	OnNotice func(Notice)
	Logf     Logf

	// The deadline given to EndEverything on WillSleep/WillShutdown is
	// Fraction of the time left before the OS's deadline, minus Margin.
	// Defaults 0.8 and 250 ms.
	Fraction float64
	Margin   time.Duration
	// LockTimeout bounds EndEverything on Locked (no OS deadline); default 15 s.
	LockTimeout time.Duration
	// WakeWindow is how long after a wake the guard watches for the calls
	// it could not confirm before sleep; default 2 min.
	WakeWindow time.Duration
}

// Guard ends our calls before the machine sleeps or shuts down (and, when
// the setting is on, when the screen locks), and holds the OS's delay lock
// exactly while a call of ours is live or being created.
type Guard struct {
	src   Source
	inh   Inhibitor // nil when the source has none
	calls Calls
	opts  GuardOptions

	mu          sync.Mutex
	live        bool
	last        calls.Snapshot
	phase       Kind // 0 awake, WillSleep or WillShutdown while the OS goes down
	snapshots   uint64
	events      uint64
	pending     map[string]pendingCall // calls to confirm after a wake
	wakeAt      time.Time
	refusedLive bool // Inhibit failed during the current live period
	toldNoLock  bool
	lockErr     string
	refusals    uint64

	lockEnding atomic.Bool // a screen-lock EndEverything is running

	snaps    <-chan calls.Snapshot
	evs      <-chan calls.Event
	cancel   func()
	noticeMu sync.Mutex
	kick     chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

type pendingCall struct {
	view     calls.CallView
	silently bool // the machine slept without telling us
}

// NewGuard starts guarding. The caller keeps ownership of src and c; Close
// the guard before closing src.
func NewGuard(src Source, c Calls, opts GuardOptions) *Guard {
	if opts.Fraction <= 0 || opts.Fraction > 1 {
		opts.Fraction = 0.8
	}
	if opts.Margin <= 0 {
		opts.Margin = 250 * time.Millisecond
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 15 * time.Second
	}
	if opts.WakeWindow <= 0 {
		opts.WakeWindow = 2 * time.Minute
	}
	g := &Guard{src: src, calls: c, opts: opts, pending: map[string]pendingCall{},
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	if in, ok := src.(Inhibitor); ok {
		g.inh = in
	}
	// The lock follows Live of the latest snapshot.
	g.snaps, g.evs, g.cancel = c.Subscribe()
	g.wg.Add(2)
	go g.follow()
	go g.run()
	return g
}

// GuardStatus is a look at the guard, for diagnostics and tests.
type GuardStatus struct {
	Live      bool   // a call of ours is live or being created (last snapshot)
	Holding   bool   // the OS delay lock is held
	Phase     string // "awake", "will sleep", "will shut down"
	Snapshots uint64 // snapshots seen
	Events    uint64 // power events handled to the end
	// LockError is the OS's last refusal of the delay lock ("" if none);
	// LockRefusals counts them.
	LockError    string
	LockRefusals uint64
}

// Status reports the guard's state now.
func (g *Guard) Status() GuardStatus {
	g.mu.Lock()
	st := GuardStatus{Live: g.live, Phase: "awake", Snapshots: g.snapshots, Events: g.events,
		LockError: g.lockErr, LockRefusals: g.refusals}
	if g.phase != 0 {
		st.Phase = g.phase.String()
	}
	g.mu.Unlock()
	st.Holding = g.inh != nil && g.inh.Holding()
	return st
}

// Close stops the guard and releases the delay lock. It does not close the
// source.
func (g *Guard) Close() error {
	g.once.Do(func() {
		close(g.done)
		g.cancel()
		g.wg.Wait()
		if g.inh != nil {
			g.inh.Release()
		}
	})
	return nil
}

// follow reads snapshots so the manager is never held up by the guard, even
// while the guard is busy ending calls.
func (g *Guard) follow() {
	defer g.wg.Done()
	snaps, evs := g.snaps, g.evs
	for snaps != nil || evs != nil {
		select {
		case <-g.done:
			return
		case s, ok := <-snaps:
			if !ok {
				snaps = nil
				continue
			}
			g.observe(s)
		case _, ok := <-evs:
			if !ok {
				evs = nil
			}
		}
	}
}

func (g *Guard) observe(s calls.Snapshot) {
	g.mu.Lock()
	g.snapshots++
	g.last = s
	g.live = Live(s)
	if !g.live {
		g.refusedLive = false
	}
	var ended []pendingCall
	if g.phase == 0 {
		ended = g.resolvePendingLocked(s)
	}
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
	g.tellEndedWhileAsleep(ended)
}

// resolvePendingLocked returns the pending calls that s shows as over.
func (g *Guard) resolvePendingLocked(s calls.Snapshot) []pendingCall {
	if len(g.pending) == 0 {
		return nil
	}
	if !g.wakeAt.IsZero() && time.Since(g.wakeAt) > g.opts.WakeWindow {
		for id := range g.pending {
			g.opts.Logf.printf("power: call %s still not confirmed ended %s after wake; the call manager keeps trying", id, g.opts.WakeWindow)
		}
		g.pending = map[string]pendingCall{}
		return nil
	}
	var ended []pendingCall
	for id, p := range g.pending {
		view, found := p.view, false
		for _, c := range s.Ours {
			if c.ID == id {
				view, found = c, true
				break
			}
		}
		if found && view.State != calls.CallEnded {
			continue
		}
		view.State = calls.CallEnded
		ended = append(ended, pendingCall{view: view, silently: p.silently})
		delete(g.pending, id)
	}
	return ended
}

func (g *Guard) run() {
	defer g.wg.Done()
	events := g.src.Events()
	for {
		select {
		case <-g.done:
			return
		case <-g.kick:
			g.syncLock(false)
		case ev, ok := <-events:
			if !ok {
				g.opts.Logf.printf("power: the power event source stopped; calls are no longer ended on sleep")
				events = nil
				continue
			}
			g.handle(ev)
			g.mu.Lock()
			g.events++
			g.mu.Unlock()
		}
	}
}

// syncLock takes the lock when a call is live and releases it when none is,
// except between WillSleep/WillShutdown and the wake.
func (g *Guard) syncLock(askManager bool) {
	if g.inh == nil {
		return
	}
	g.mu.Lock()
	live, phase, refused := g.live, g.phase, g.refusedLive
	g.mu.Unlock()
	if askManager && !live {
		live = g.calls.HasLiveCalls()
	}
	if phase != 0 {
		return
	}
	if !live {
		g.inh.Release()
		return
	}
	if g.inh.Holding() || refused {
		return
	}
	err := g.inh.Inhibit()
	if err == nil || errors.Is(err, ErrNoInhibitor) {
		return
	}
	g.mu.Lock()
	g.refusedLive = true
	tell := !g.toldNoLock
	g.toldNoLock = true
	g.mu.Unlock()
	if tell {
		g.opts.Logf.printf("power: %v; calls are still ended when sleep starts, but sleep may not wait for it", err)
		g.notify(Notice{Kind: NoticeNoSleepLock, Time: time.Now(),
			Message: "Ultravox Tray cannot delay sleep (" + err.Error() + "). Calls are still ended when sleep starts, if there is time."})
	}
	g.mu.Lock()
	g.lockErr = err.Error()
	g.refusals++
	g.mu.Unlock()
}

func (g *Guard) handle(ev Event) {
	defer ev.Ack()
	switch ev.Kind {
	case WillSleep, WillShutdown:
		g.mu.Lock()
		g.phase = ev.Kind
		before := liveOurs(g.last)
		g.mu.Unlock()
		now := time.Now()
		deadline := ev.Deadline
		if deadline.IsZero() {
			deadline = now.Add(DefaultDelay)
		}
		left := deadline.Sub(now)
		endBy := now.Add(time.Duration(float64(left)*g.opts.Fraction) - g.opts.Margin)
		if !endBy.After(now) {
			endBy = now.Add(left / 2)
		}
		hardStop := endBy.Add(deadline.Sub(endBy) / 2)
		end := g.calls.EndEverything
		if ev.Kind == WillSleep {
			// The server's 204 to the hang_up is enough to let the machine
			// sleep; the end is confirmed after the wake.
			end = g.calls.EndForSleep
		}
		unconfirmed := g.endAll(end, endBy, hardStop, before)
		ev.Ack()
		g.opts.Logf.printf("power: %s (%s): ended %d call(s), %d unconfirmed, lock released %s before the deadline",
			ev.Kind, ev.Reason, len(before), len(unconfirmed), time.Until(deadline).Round(time.Millisecond))
		g.mu.Lock()
		for _, c := range unconfirmed {
			g.pending[c.ID] = pendingCall{view: c}
		}
		g.mu.Unlock()
		g.tellEnded(ev.Kind, before, unconfirmed)
	case DidWake:
		g.mu.Lock()
		wasDown := g.phase != 0
		g.phase = 0
		g.wakeAt = time.Now()
		if !wasDown {
			// Slept without telling us: what was live may have died.
			for _, c := range liveOurs(g.last) {
				if _, ok := g.pending[c.ID]; !ok {
					g.pending[c.ID] = pendingCall{view: c, silently: true}
				}
			}
		}
		ended := g.resolvePendingLocked(g.last)
		g.mu.Unlock()
		g.opts.Logf.printf("power: %s (%s): checking every call again", ev.Kind, ev.Reason)
		g.calls.Recheck()
		g.tellEndedWhileAsleep(ended)
		g.syncLock(true)
	case Locked:
		if g.opts.EndOnLock == nil || !g.opts.EndOnLock() {
			return
		}
		g.mu.Lock()
		before := liveOurs(g.last)
		g.mu.Unlock()
		if len(before) == 0 && !g.calls.HasLiveCalls() {
			return
		}
		// Off the event loop: a lid close locks the screen and suspends right
		// after, and the sleep must not wait behind a slow confirmation.
		if !g.lockEnding.CompareAndSwap(false, true) {
			return
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer g.lockEnding.Store(false)
			now := time.Now()
			unconfirmed := g.endAll(g.calls.EndEverything, now.Add(g.opts.LockTimeout), now.Add(g.opts.LockTimeout+2*time.Second), before)
			g.tellEnded(Locked, before, unconfirmed)
		}()
	case Unlocked:
	}
}

// DefaultDelay is logind's default InhibitDelayMaxUSec: the grace period
// assumed when the property cannot be read or an event carries no deadline.
const DefaultDelay = 5 * time.Second

// endAll runs end (EndEverything or EndForSleep) with deadline endBy and
// gives up waiting at hardStop (the manager should have returned by then;
// if it has not, every call that was live counts as unconfirmed).
func (g *Guard) endAll(end func(context.Context) []calls.CallView, endBy, hardStop time.Time, before []calls.CallView) []calls.CallView {
	ctx, cancel := context.WithDeadline(context.Background(), endBy)
	defer cancel()
	res := make(chan []calls.CallView, 1)
	go func() { res <- end(ctx) }()
	t := time.NewTimer(time.Until(hardStop))
	defer t.Stop()
	select {
	case u := <-res:
		return u
	case <-t.C:
		g.opts.Logf.printf("power: the call manager did not finish ending calls by its deadline; letting the OS go on")
		return before
	case <-g.done:
		return before
	}
}

func liveOurs(s calls.Snapshot) []calls.CallView {
	var out []calls.CallView
	for _, c := range s.Ours {
		if c.State.Live() {
			out = append(out, c)
		}
	}
	return out
}

func (g *Guard) tellEnded(trigger Kind, before, unconfirmed []calls.CallView) {
	if len(before) == 0 && len(unconfirmed) == 0 {
		return
	}
	un := map[string]bool{}
	for _, c := range unconfirmed {
		un[c.ID] = true
	}
	var ended []calls.CallView
	for _, c := range before {
		if !un[c.ID] {
			c.State = calls.CallEnded
			ended = append(ended, c)
		}
	}
	when := map[Kind]string{WillSleep: "before the computer went to sleep", WillShutdown: "before shutdown", Locked: "because the screen locked"}[trigger]
	var msg string
	switch {
	case len(unconfirmed) == 0:
		msg = fmt.Sprintf("Ended %s %s.", describe(ended), when)
	case trigger == Locked:
		msg = fmt.Sprintf("Tried to end %s %s, but Ultravox has not confirmed the end yet; it may still be billing.", describe(unconfirmed), when)
	default:
		msg = fmt.Sprintf("Tried to end %s %s, but Ultravox had not confirmed the end in time; it is checked again after wake.", describe(unconfirmed), when)
	}
	g.notify(Notice{Kind: NoticeEnded, Trigger: trigger, Time: time.Now(), Ended: ended, Unconfirmed: unconfirmed, Message: msg})
}

func (g *Guard) tellEndedWhileAsleep(ps []pendingCall) {
	if len(ps) == 0 {
		return
	}
	var ended, silent []calls.CallView
	for _, p := range ps {
		ended = append(ended, p.view)
		if p.silently {
			silent = append(silent, p.view)
		}
	}
	msg := fmt.Sprintf("Ultravox confirmed after wake that %s ended.", describe(ended))
	if len(silent) == len(ended) {
		msg = fmt.Sprintf("%s ended while the computer was asleep.", words.Capitalize(describe(ended)))
	}
	g.notify(Notice{Kind: NoticeEndedWhileAsleep, Trigger: DidWake, Time: time.Now(), Ended: ended, Message: msg})
}

// describe names calls for a sentence: "your call with Ada", "2 calls".
func describe(cs []calls.CallView) string {
	switch len(cs) {
	case 0:
		return "no call"
	case 1:
		if name := strings.TrimSpace(cs[0].AgentName); name != "" {
			return "your call with " + name
		}
		return "your call"
	default:
		return fmt.Sprintf("%d calls", len(cs))
	}
}

func (g *Guard) notify(n Notice) {
	if g.opts.OnNotice == nil {
		return
	}
	g.noticeMu.Lock()
	defer g.noticeMu.Unlock()
	g.opts.OnNotice(n)
}
