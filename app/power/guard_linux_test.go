//go:build linux

package power

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/power/powertest"
	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// The real call manager satisfies the guard's interface.
var _ Calls = (*calls.Manager)(nil)

// genv is a guard wired like the app: the real call manager on a validated
// simulator, the real logind source on a private system bus, and a
// logind-shaped service owned by the test.
type genv struct {
	t       testing.TB
	sys     *desktoptest.Bus
	fake    *powertest.Logind
	sim     *simulator.Server
	m       *calls.Manager
	src     Source
	g       *Guard
	logs    *logBuf
	lockSet atomic.Bool

	mu      sync.Mutex
	notices []Notice
	changed chan struct{}
}

type gopt struct {
	delay     time.Duration // InhibitDelayMax; default 5 s
	refuse    bool          // logind refuses Inhibit
	pollIdle  time.Duration // manager's idle poll; default 400 ms
	extra     []Source      // merged with the logind source
	simOpts   []simtest.Option
	guardOpts func(*GuardOptions)
}

func newGuardEnv(t testing.TB, o gopt) *genv {
	t.Helper()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "") // never the developer's session bus
	e := &genv{t: t, logs: &logBuf{}, changed: make(chan struct{})}
	e.sys = desktoptest.SystemBus(t)
	e.fake = powertest.StartLogind(t, e.sys, powertest.LogindOptions{InhibitDelayMax: o.delay})
	e.fake.Refuse(o.refuse)
	simOpts := append([]simtest.Option{func(so *simulator.Options) {
		so.FreeTime = -1
		so.SettleDelay = 300 * time.Millisecond
		so.MediaIdleFloor = -1
	}}, o.simOpts...)
	e.sim = simtest.New(t, simOpts...)

	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	client, err := ultravox.NewClient(ultravox.Options{BaseURL: e.sim.URL(), APIKey: e.sim.APIKey(), Version: "test",
		HTTPClient: &http.Client{Transport: tr}, RequestTimeout: 1500 * time.Millisecond, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	s := calls.DefaultSettings()
	s.MaxDuration = 120 * time.Second
	s.JoinTimeout = 5 * time.Second
	s.MediaIdleTimeout = 0
	s.DefaultAgentID = e.sim.Agents()[0].AgentID
	if o.pollIdle == 0 {
		o.pollIdle = 400 * time.Millisecond
	}
	e.m, err = calls.New(calls.Config{Client: client, StateDir: t.TempDir(), Settings: s, DeviceName: "power-test",
		Version: "test", PollIdle: o.pollIdle, PollLive: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.m.Close() })

	l, err := connectLogind(Options{SystemBusAddress: e.sys.Address, SessionID: "c1", Logf: e.logs.logf})
	if err != nil {
		t.Fatal(err)
	}
	e.src = Merge(append([]Source{l}, o.extra...)...)
	t.Cleanup(func() { e.src.Close() })

	gopts := GuardOptions{
		EndOnLock: e.lockSet.Load,
		OnNotice:  e.notice,
		Logf:      e.logs.logf,
	}
	if o.guardOpts != nil {
		o.guardOpts(&gopts)
	}
	e.g = NewGuard(e.src, e.m, gopts)
	t.Cleanup(func() { e.g.Close() })
	e.waitStatus("first snapshot", func(s GuardStatus) bool { return s.Snapshots > 0 })
	return e
}

func (e *genv) notice(n Notice) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notices = append(e.notices, n)
	close(e.changed)
	e.changed = make(chan struct{})
}

// waitNotice returns the first notice of kind k not yet taken by an earlier
// waitNotice of the same kind (n counts from 1).
func (e *genv) waitNotice(k NoticeKind, n int, timeout time.Duration) Notice {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		seen := 0
		for _, x := range e.notices {
			if x.Kind == k {
				seen++
				if seen == n {
					e.mu.Unlock()
					return x
				}
			}
		}
		ch := e.changed
		all := append([]Notice(nil), e.notices...)
		e.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			e.t.Fatalf("notice %v #%d not seen within %s; notices: %+v; log: %q", k, n, timeout, all, e.logs.lines)
		}
	}
}

func (e *genv) noticeCount(k NoticeKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, x := range e.notices {
		if x.Kind == k {
			n++
		}
	}
	return n
}

func (e *genv) waitStatus(what string, cond func(GuardStatus) bool) GuardStatus {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.g.Status()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: guard status %+v after 10 s", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startBilling starts a call and waits until the manager shows it billing.
func (e *genv) startBilling() calls.CallView {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := e.m.Start(ctx, "")
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.m.Snapshot()
		if len(s.Ours) == 1 && s.Ours[0].ID == v.ID && s.Ours[0].State == calls.CallBilling {
			return s.Ours[0]
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("call %s not billing after 10 s: %+v", v.ID, s.Ours)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serverEnded reports whether the simulator says the call ended, and when.
func (e *genv) serverEnded(id string) (time.Time, string, bool) {
	c, ok := e.sim.Call(id)
	if !ok {
		e.t.Fatalf("the simulator has no call %s", id)
	}
	if c.Ended == nil {
		return time.Time{}, "", false
	}
	reason := ""
	if c.EndReason != nil {
		reason = *c.EndReason
	}
	return *c.Ended, reason, true
}

func TestLiveRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap calls.Snapshot
		want bool
	}{
		{"idle", calls.Snapshot{}, false},
		{"starting", calls.Snapshot{Starting: true}, true},
		{"joining", calls.Snapshot{Ours: []calls.CallView{{State: calls.CallJoining}}}, true},
		{"end unconfirmed", calls.Snapshot{Ours: []calls.CallView{{State: calls.CallEndUnconfirmed}}}, true},
		{"ended", calls.Snapshot{Ours: []calls.CallView{{State: calls.CallEnded}}}, false},
		{"only elsewhere", calls.Snapshot{Elsewhere: []calls.CallView{{State: calls.CallBilling}}}, false},
	} {
		if got := Live(tc.snap); got != tc.want {
			t.Errorf("%s: Live = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// No call, no lock; a live call takes it; ending the call releases it.
func TestGuardHoldsTheLockExactlyWhileACallIsLive(t *testing.T) {
	e := newGuardEnv(t, gopt{})
	// Idle, after several snapshots: nothing taken (an idle app must not show
	// up in systemd-inhibit --list).
	snaps := e.g.Status().Snapshots
	e.m.Recheck()
	e.waitStatus("idle snapshots", func(s GuardStatus) bool { return s.Snapshots > snaps })
	if n := len(e.fake.Inhibitors()); n != 0 || e.g.Status().Holding {
		t.Fatalf("idle guard took %d lock(s)", n)
	}

	v := e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)
	lock := e.fake.Inhibitors()[0]
	if lock.What != "sleep:shutdown" || lock.Mode != "delay" || lock.Who != "Ultravox Tray" {
		t.Fatalf("lock %+v", lock)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.fake.WaitReleased(5 * time.Second)
	e.waitStatus("released", func(s GuardStatus) bool { return !s.Holding && !s.Live })
	if n := len(e.fake.Inhibitors()); n != 1 {
		t.Fatalf("%d locks taken for one call", n)
	}
}

// PrepareForSleep(true) ends the call: the lock is released once the server
// has accepted the hang_up (its 204: the call then ends on the server while
// we sleep), before logind's deadline; the end is confirmed by a GET; after
// the wake no lock is taken.
func TestGuardSleepEndsTheCallBeforeTheDeadline(t *testing.T) {
	e := newGuardEnv(t, gopt{delay: 3 * time.Second})
	v := e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)

	sent := e.fake.PrepareForSleep(true)
	released := e.fake.WaitReleased(10 * time.Second)
	if !released.Before(sent.Add(e.fake.InhibitDelayMax())) {
		t.Fatalf("lock released %s after the signal; logind's delay is %s", released.Sub(sent), e.fake.InhibitDelayMax())
	}
	accepted := false
	for _, r := range e.sim.RequestsTo("POST", "/api/calls/"+v.ID+"/send_data_message") {
		accepted = accepted || (r.Status == 204 || r.Status == 422) && !r.Time.After(released)
	}
	ended, reason, ok := e.serverEnded(v.ID)
	if !accepted && (!ok || ended.After(released)) {
		t.Fatalf("the lock was released before the server accepted the hang-up or ended the call (requests %+v)", e.sim.RequestsTo("", "/api/calls/"+v.ID))
	}
	deadline := time.Now().Add(5 * time.Second)
	for !ok && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		ended, reason, ok = e.serverEnded(v.ID)
	}
	if !ok {
		t.Fatal("the simulator still has the call live after the hang-up was accepted")
	}
	confirmed := false
	for _, r := range e.sim.RequestsTo("GET", "/api/calls/"+v.ID) {
		confirmed = confirmed || r.Path == "/api/calls/"+v.ID && r.Status == 200 && !r.Time.Before(ended)
	}
	for i := 0; !confirmed && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
		for _, r := range e.sim.RequestsTo("GET", "/api/calls/"+v.ID) {
			confirmed = confirmed || r.Path == "/api/calls/"+v.ID && r.Status == 200 && !r.Time.Before(ended)
		}
	}
	if !confirmed {
		t.Fatal("the end was never confirmed with a GET of the call")
	}
	n := e.waitNotice(NoticeEnded, 1, 5*time.Second)
	if n.Trigger != WillSleep || len(n.Ended) != 1 || n.Ended[0].ID != v.ID || len(n.Unconfirmed) != 0 ||
		!strings.Contains(n.Message, "before the computer went to sleep") {
		t.Fatalf("notice %+v", n)
	}
	t.Logf("signal -> released %s; server end reason %q; %s", released.Sub(sent), reason, n.Message)

	events := e.g.Status().Events
	e.fake.PrepareForSleep(false)
	e.waitStatus("wake handled", func(s GuardStatus) bool { return s.Events > events && s.Phase == "awake" })
	// The lock was released on the hang-up's 204; the end is confirmed after
	// the wake. If the wake came before that confirmation, the guard rightly
	// holds a lock again for the still-unconfirmed call until it is.
	e.waitStatus("the end confirmed", func(s GuardStatus) bool { return !s.Live })
	e.waitStatus("no lock held with no call", func(s GuardStatus) bool { return !s.Holding })
	if n := len(e.fake.Inhibitors()); n < 1 || n > 2 {
		t.Fatalf("after the wake with no call: %d locks taken", n)
	}
	// A new call after the wake takes a new lock.
	e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)
}

// With a server slower than the deadline, the lock is still released in time
// and the call is reported unconfirmed; after the wake it is confirmed.
func TestGuardSlowServerStillReleasesInTime(t *testing.T) {
	e := newGuardEnv(t, gopt{delay: 2 * time.Second})
	v := e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)
	e.sim.SetLatency(4 * time.Second)

	sent := e.fake.PrepareForSleep(true)
	released := e.fake.WaitReleased(10 * time.Second)
	if !released.Before(sent.Add(e.fake.InhibitDelayMax())) {
		t.Fatalf("lock released %s after the signal; logind's delay is %s", released.Sub(sent), e.fake.InhibitDelayMax())
	}
	n := e.waitNotice(NoticeEnded, 1, 5*time.Second)
	if len(n.Unconfirmed) != 1 || n.Unconfirmed[0].ID != v.ID || len(n.Ended) != 0 || !strings.Contains(n.Message, "not confirmed the end in time") {
		t.Fatalf("notice with a slow server: %+v", n)
	}
	if e.noticeCount(NoticeEndedWhileAsleep) != 0 {
		t.Fatal("confirmed before the wake")
	}
	t.Logf("slow server: signal -> released %s; %s", released.Sub(sent), n.Message)

	e.sim.SetLatency(0)
	e.fake.PrepareForSleep(false)
	w := e.waitNotice(NoticeEndedWhileAsleep, 1, 15*time.Second)
	if len(w.Ended) != 1 || w.Ended[0].ID != v.ID || w.Trigger != DidWake || !strings.Contains(w.Message, "confirmed after wake") {
		t.Fatalf("wake notice %+v", w)
	}
	if _, _, ok := e.serverEnded(v.ID); !ok {
		t.Fatal("confirmed, but the simulator has the call live")
	}
	// Nothing live any more: no lock.
	e.fake.WaitReleased(5 * time.Second)
	e.waitStatus("idle after wake", func(s GuardStatus) bool { return !s.Live && !s.Holding })
}

// logind refuses the lock: the guard says so once, and still ends calls on
// the signal.
func TestGuardRefusedInhibitStillEndsCalls(t *testing.T) {
	e := newGuardEnv(t, gopt{refuse: true})
	v := e.startBilling()
	no := e.waitNotice(NoticeNoSleepLock, 1, 5*time.Second)
	if !strings.Contains(no.Message, "cannot delay sleep") || !strings.Contains(no.Message, "Permission denied") {
		t.Fatalf("no-lock notice %q", no.Message)
	}
	e.fake.PrepareForSleep(true)
	n := e.waitNotice(NoticeEnded, 1, 10*time.Second)
	if len(n.Ended) != 1 || n.Ended[0].ID != v.ID {
		t.Fatalf("notice %+v", n)
	}
	// The hang-up was accepted; the end itself follows on the server.
	e.waitStatus("the end confirmed", func(s GuardStatus) bool { return !s.Live })
	if _, _, ok := e.serverEnded(v.ID); !ok {
		t.Fatal("the call is still live on the server")
	}
	if a := e.fake.Attempts(); a != 1 {
		t.Fatalf("%d Inhibit attempts for one call, want 1 (no retry while the call is live)", a)
	}
	e.fake.PrepareForSleep(false)
	// A second live call: asked and refused again, but told only once.
	e.startBilling()
	e.fake.WaitAttempts(2, 5*time.Second)
	st := e.waitStatus("second refusal handled", func(s GuardStatus) bool { return s.LockRefusals == 2 })
	if !strings.Contains(st.LockError, "Permission denied") {
		t.Fatalf("status lock error %q", st.LockError)
	}
	if c := e.noticeCount(NoticeNoSleepLock); c != 1 {
		t.Fatalf("%d no-lock notices, want 1", c)
	}
	if c := e.logs.count("logind refused the sleep delay lock"); c != 1 {
		t.Fatalf("refusal logged %d times, want once: %q", c, e.logs.lines)
	}
	if len(e.fake.Inhibitors()) != 0 {
		t.Fatal("a refused lock was recorded as taken")
	}
}

func TestGuardShutdownEndsCalls(t *testing.T) {
	e := newGuardEnv(t, gopt{delay: 3 * time.Second})
	v := e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)
	sent := e.fake.PrepareForShutdown(true)
	released := e.fake.WaitReleased(10 * time.Second)
	if !released.Before(sent.Add(e.fake.InhibitDelayMax())) {
		t.Fatalf("lock released %s after the shutdown signal; logind's delay is %s", released.Sub(sent), e.fake.InhibitDelayMax())
	}
	if _, _, ok := e.serverEnded(v.ID); !ok {
		t.Fatal("the call is still live on the server after shutdown was let through")
	}
	n := e.waitNotice(NoticeEnded, 1, 5*time.Second)
	if n.Trigger != WillShutdown || !strings.Contains(n.Message, "before shutdown") {
		t.Fatalf("notice %+v", n)
	}
	// A cancelled shutdown is a wake: new calls are guarded again.
	e.fake.PrepareForShutdown(false)
	e.waitStatus("shutdown cancelled", func(s GuardStatus) bool { return s.Phase == "awake" })
	e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)
}

// The screen lock ends calls only when the setting is on.
func TestGuardLockEndsCallsOnlyWithTheSetting(t *testing.T) {
	e := newGuardEnv(t, gopt{})
	v := e.startBilling()
	events := e.g.Status().Events
	e.fake.Lock()
	e.waitStatus("lock handled", func(s GuardStatus) bool { return s.Events > events })
	if _, _, ok := e.serverEnded(v.ID); ok {
		t.Fatal("the lock ended the call with the setting off")
	}
	if !e.m.HasLiveCalls() {
		t.Fatal("no live call after a lock with the setting off")
	}
	e.fake.Unlock()

	e.lockSet.Store(true)
	e.fake.SetLockedHint(true) // logind's other way of saying it
	n := e.waitNotice(NoticeEnded, 1, 10*time.Second)
	if n.Trigger != Locked || len(n.Ended) != 1 || n.Ended[0].ID != v.ID || !strings.Contains(n.Message, "because the screen locked") {
		t.Fatalf("notice %+v", n)
	}
	if _, _, ok := e.serverEnded(v.ID); !ok {
		t.Fatal("the call is still live on the server after the lock")
	}
	e.fake.WaitReleased(5 * time.Second)
}

// A clock jump (slept without telling us) makes the manager re-check at once,
// and a call that died meanwhile is reported as ended while asleep.
func TestGuardClockJumpRechecksAndReports(t *testing.T) {
	clk := newManualClock()
	jump := newClockJump(ClockJumpOptions{Clock: clk})
	clk.started(t)
	e := newGuardEnv(t, gopt{extra: []Source{jump}, pollIdle: time.Hour})

	// Idle with an hour between polls: a jump must trigger a poll now.
	before := len(e.sim.RequestsTo("GET", "/api/accounts/me"))
	clk.step(t, time.Hour, 2*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.sim.RequestsTo("GET", "/api/accounts/me")) == before {
		if time.Now().After(deadline) {
			t.Fatal("no account check within 5 s of a clock jump")
		}
		time.Sleep(10 * time.Millisecond)
	}

	v := e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)
	events := e.g.Status().Events
	clk.step(t, 2*time.Hour, 2*time.Second)
	e.waitStatus("jump handled", func(s GuardStatus) bool { return s.Events > events })
	// The machine "slept" and the call died on the server meanwhile.
	if err := e.sim.ForceEnd(v.ID, "connection_error"); err != nil {
		t.Fatal(err)
	}
	n := e.waitNotice(NoticeEndedWhileAsleep, 1, 10*time.Second)
	if len(n.Ended) != 1 || n.Ended[0].ID != v.ID || !strings.Contains(n.Message, "ended while the computer was asleep") {
		t.Fatalf("notice %+v", n)
	}
	e.fake.WaitReleased(5 * time.Second)
}

// Closing a lid locks the screen and suspends right after. With the lock
// setting on and a slow server, the sleep must not wait behind the lock's
// end: the delay lock is still released before logind's deadline.
func TestGuardLockThenSleepDoesNotDelayTheSleep(t *testing.T) {
	e := newGuardEnv(t, gopt{delay: 2 * time.Second})
	e.lockSet.Store(true)
	v := e.startBilling()
	e.fake.WaitHeld(1, 5*time.Second)
	e.sim.SetLatency(3 * time.Second)
	e.fake.Lock()
	sent := e.fake.PrepareForSleep(true)
	released := e.fake.WaitReleased(10 * time.Second)
	if !released.Before(sent.Add(e.fake.InhibitDelayMax())) {
		t.Fatalf("lock released %s after the sleep signal; logind's delay is %s", released.Sub(sent), e.fake.InhibitDelayMax())
	}
	if _, _, ok := e.serverEnded(v.ID); !ok {
		t.Fatal("the call is still live on the server")
	}
	e.sim.SetLatency(0)
	e.fake.PrepareForSleep(false)
	e.waitStatus("idle after wake", func(s GuardStatus) bool { return s.Phase == "awake" && !s.Live && !s.Holding })
}
