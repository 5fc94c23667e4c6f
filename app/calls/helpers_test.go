package calls

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// ---- in-memory audio: a real 50 Hz frame pump, no devices ----

type memAudio struct {
	openErr error
	talking atomic.Bool // the "microphone" hears speech (a tone) instead of silence
	// closeGate, when set, holds every Close until it is closed, with the
	// pump still running (a sound system that hangs on teardown, as a dead
	// PulseAudio does under miniaudio).
	closeGate chan struct{}
	// health: sessions have Err (as app/voice's do); failSession sets it.
	health bool

	mu       sync.Mutex
	sessions []*memSession
	healths  []*healthSession
}

type memSession struct {
	cfg    AudioConfig
	uplink func([]byte)
	a      *memAudio

	frames   atomic.Int64
	played   atomic.Int64 // bytes
	clears   atomic.Int64
	micMuted atomic.Bool
	spkMuted atomic.Bool
	closed   atomic.Bool // Close has stopped the pump
	closing  atomic.Bool // Close was called
	// sentAfterClose counts frames handed to the uplink once the test set
	// uplinkDone (the call socket is closed then, and refuses them).
	sentAfterClose atomic.Int64
	uplinkDone     atomic.Bool // set by the test once the call socket is closed

	stop chan struct{}
	done chan struct{}
}

func (a *memAudio) Open(cfg AudioConfig, uplink func([]byte)) (AudioSession, error) {
	if a.openErr != nil {
		return nil, a.openErr
	}
	s := &memSession{cfg: cfg, uplink: uplink, a: a, stop: make(chan struct{}), done: make(chan struct{})}
	a.mu.Lock()
	a.sessions = append(a.sessions, s)
	a.mu.Unlock()
	go s.pump()
	if a.health {
		h := &healthSession{memSession: s}
		a.mu.Lock()
		a.healths = append(a.healths, h)
		a.mu.Unlock()
		return h, nil
	}
	return s, nil
}

func (a *memAudio) lastHealth() *healthSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.healths) == 0 {
		return nil
	}
	return a.healths[len(a.healths)-1]
}

// healthSession is a memSession with app/voice's optional Err.
type healthSession struct {
	*memSession
	mu  sync.Mutex
	err error
}

func (h *healthSession) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func (h *healthSession) fail(err error) {
	h.mu.Lock()
	h.err = err
	h.mu.Unlock()
}

func (a *memAudio) last() *memSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) == 0 {
		return nil
	}
	return a.sessions[len(a.sessions)-1]
}

// pump delivers one 20 ms frame every 20 ms, as a microphone does.
func (s *memSession) pump() {
	defer close(s.done)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	n := s.cfg.InputRate / 50
	phase := 0.0
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		frame := make([]byte, 2*n)
		if s.a.talking.Load() && !s.micMuted.Load() {
			for i := 0; i < n; i++ {
				v := int16(8000 * math.Sin(phase))
				phase += 2 * math.Pi * 440 / float64(s.cfg.InputRate)
				binary.LittleEndian.PutUint16(frame[2*i:], uint16(v))
			}
		}
		s.uplink(frame)
		s.frames.Add(1)
		if s.uplinkDone.Load() {
			s.sentAfterClose.Add(1)
		}
	}
}

func (s *memSession) Play(pcm []byte) {
	if !s.spkMuted.Load() {
		s.played.Add(int64(len(pcm)))
	}
}
func (s *memSession) ClearPlayback()             { s.clears.Add(1) }
func (s *memSession) SetMicMuted(muted bool)     { s.micMuted.Store(muted) }
func (s *memSession) SetSpeakerMuted(muted bool) { s.spkMuted.Store(muted) }
func (s *memSession) Close() error {
	s.closing.Store(true)
	if s.a.closeGate != nil {
		<-s.a.closeGate
	}
	if s.closed.CompareAndSwap(false, true) {
		close(s.stop)
	}
	<-s.done
	return nil
}

// ---- test environment ----

type env struct {
	t      *testing.T
	sim    *simulator.Server
	client *ultravox.Client
	dir    string
	m      *Manager
	rec    *recorder
	clock  *simulator.FakeClock // nil: real time
	audio  *memAudio
	proxy  *netProxy
	logger *slog.Logger
}

type envOpt struct {
	sim      []simtest.Option
	settings func(*Settings)
	fake     bool
	audio    *memAudio
	dir      string
	proxy    bool // the client reaches the simulator through a netProxy
	noLeak   bool
	logTo    io.Writer // the manager's and the client's debug log
	// offSchema: the simulator runs without the contract validator, for
	// answers the schema does not allow (enum values it does not list).
	offSchema bool
	// pollIdle replaces the tests' short idle poll interval (400 ms).
	pollIdle time.Duration
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("UVT_CALLS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newBenchClient(b *testing.B, sim *simulator.Server) *ultravox.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(tr.CloseIdleConnections)
	c, err := ultravox.NewClient(ultravox.Options{BaseURL: sim.URL(), APIKey: sim.APIKey(), Version: "bench", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func newClient(t *testing.T, baseURL, key string, log *slog.Logger) *ultravox.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c, err := ultravox.NewClient(ultravox.Options{
		BaseURL: baseURL, APIKey: key, Version: "test",
		HTTPClient: &http.Client{Transport: tr}, RequestTimeout: 1500 * time.Millisecond, MaxRetries: -1,
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testSettings(sim *simulator.Server) Settings {
	s := DefaultSettings()
	s.MaxDuration = 120 * time.Second
	s.JoinTimeout = 5 * time.Second
	s.MediaIdleTimeout = 0 // not sent: the fake clock jumps, and tests without audio send none
	s.DefaultAgentID = sim.Agents()[0].AgentID
	return s
}

func newEnv(t *testing.T, o envOpt) *env {
	t.Helper()
	if !o.noLeak {
		// Registered first, so it runs after every other cleanup.
		t.Cleanup(func() { goleak.VerifyNone(t) })
	}
	e := &env{t: t, audio: o.audio, logger: testLogger(t)}
	if o.logTo != nil {
		e.logger = slog.New(slog.NewTextHandler(o.logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	simOpts := append([]simtest.Option{func(so *simulator.Options) {
		so.FreeTime = -1 // no free minutes: calls are BILLED
		so.SettleDelay = 300 * time.Millisecond
		so.MediaIdleFloor = -1
	}}, o.sim...)
	if o.fake {
		e.clock = simulator.NewFakeClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
		simOpts = append(simOpts, func(so *simulator.Options) { so.Clock = e.clock })
	}
	if o.offSchema {
		so := simulator.DefaultOptions()
		for _, f := range simOpts {
			f(&so)
		}
		e.sim = simulator.New(so)
		if err := e.sim.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.sim.Close() })
	} else {
		e.sim = simtest.New(t, simOpts...)
	}
	base := e.sim.URL()
	if o.proxy {
		e.proxy = newNetProxy(t, strings.TrimPrefix(base, "http://"))
		base = e.proxy.url()
	}
	e.client = newClient(t, base, e.sim.APIKey(), e.logger)
	e.dir = o.dir
	if e.dir == "" {
		e.dir = t.TempDir()
	}
	s := testSettings(e.sim)
	if o.settings != nil {
		o.settings(&s)
	}
	cfg := e.config(s)
	if o.pollIdle > 0 {
		cfg.PollIdle = o.pollIdle
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	e.rec = record(m)
	t.Cleanup(func() { e.close() })
	return e
}

func (e *env) config(s Settings) Config {
	cfg := Config{
		Client: e.client, StateDir: e.dir, Settings: s, DeviceName: "test-device", Version: "test",
		PollIdle: 400 * time.Millisecond, PollLive: 100 * time.Millisecond, Logger: e.logger,
	}
	if e.audio != nil {
		cfg.Audio = e.audio
	}
	if e.clock != nil {
		cfg.Now = e.clock.Now
	}
	return cfg
}

func (e *env) close() {
	if e.m != nil {
		if err := e.m.Close(); err != nil {
			e.t.Errorf("Close: %v", err)
		}
		e.rec.wait()
		e.m = nil
	}
}

// ---- events ----

type recorder struct {
	mu     sync.Mutex
	cond   *sync.Cond
	events []Event
	snaps  atomic.Int64
	done   chan struct{}
	cancel func()
}

func record(m *Manager) *recorder {
	r := &recorder{done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	snaps, events, cancel := m.Subscribe()
	r.cancel = cancel
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range snaps {
			r.snaps.Add(1)
		}
	}()
	go func() {
		defer wg.Done()
		for ev := range events {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.cond.Broadcast()
			r.mu.Unlock()
		}
	}()
	go func() { wg.Wait(); close(r.done) }()
	return r
}

func (r *recorder) wait() { <-r.done }

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) count(k EventKind) int {
	n := 0
	for _, ev := range r.all() {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

// waitEvent waits for the first event of kind k (already seen or new).
func (e *env) waitEvent(k EventKind, timeout time.Duration) Event {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, ev := range e.rec.all() {
			if ev.Kind == k {
				return ev
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no %q event within %s; events: %s", k, timeout, describeEvents(e.rec.all()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func describeEvents(evs []Event) string {
	s := ""
	for _, ev := range evs {
		s += "\n  " + ev.Kind.String() + ": " + ev.Message
	}
	return s
}

// waitSnap polls Snapshot until cond holds.
func (e *env) waitSnap(what string, timeout time.Duration, cond func(Snapshot) bool) Snapshot {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := e.m.Snapshot()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not reached within %s; snapshot: overall=%v health=%v (%s) ours=%+v elsewhere=%d; events: %s",
				what, timeout, s.Overall, s.Health, s.HealthDetail, briefCalls(s.Ours), len(s.Elsewhere), describeEvents(e.rec.all()))
		}
		e.m.Recheck()
		time.Sleep(20 * time.Millisecond)
	}
}

func briefCalls(cs []CallView) []string {
	var out []string
	for _, c := range cs {
		b := shortID(c.ID) + ":" + c.State.String() + ":" + c.Note + ":agent=" + c.AgentState
		for _, l := range c.Transcript {
			b += fmt.Sprintf(" [%d %s %q final=%v]", l.Ordinal, l.Role, l.Text, l.Final)
		}
		out = append(out, b)
	}
	return out
}

// startBilling starts a call and waits until the manager shows it billing.
func (e *env) startBilling() CallView {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := e.m.Start(ctx, "")
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	if v.ID == "" || (v.State != CallJoining && v.State != CallBilling) {
		e.t.Fatalf("Start returned %+v", v)
	}
	e.waitSnap("call billing", 10*time.Second, func(s Snapshot) bool {
		return len(s.Ours) == 1 && s.Ours[0].State == CallBilling && !s.Ours[0].Joined.IsZero()
	})
	return e.m.Snapshot().Ours[0]
}

func (e *env) journalEntries() []journalEntry {
	e.t.Helper()
	j, prob := openJournal(e.dir, time.Now())
	if prob != nil {
		e.t.Fatalf("journal: %v", prob)
	}
	return j.Entries()
}

// ---- a TCP proxy between the client and the simulator that can cut the
// network: blackholed connections are accepted and kept open, and whatever
// crosses them is swallowed (no answer, no close: what a dead network or a
// sleeping laptop looks like to both ends) ----

type netProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	pairs    []*proxyPair
	restDown bool // new and existing REST connections are blackholed
	allDown  bool // every connection, call sockets included, is blackholed
	wg       sync.WaitGroup
}

type proxyPair struct {
	c, s   net.Conn
	socket bool // carries a call socket (the first request was a join)
	dead   atomic.Bool
}

func newNetProxy(t *testing.T, target string) *netProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &netProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *netProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *netProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *netProxy) serve(c net.Conn) {
	defer p.wg.Done()
	first := make([]byte, 4096)
	n, err := c.Read(first)
	if err != nil {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	pr := &proxyPair{c: c, s: s, socket: strings.Contains(string(first[:n]), "/sim/join/")}
	p.mu.Lock()
	if p.allDown || (p.restDown && !pr.socket) {
		pr.dead.Store(true)
	}
	p.pairs = append(p.pairs, pr)
	p.mu.Unlock()
	if !pr.dead.Load() {
		if _, err := s.Write(first[:n]); err != nil {
			c.Close()
			s.Close()
			return
		}
	}
	p.wg.Add(2)
	go p.pipe(pr, c, s)
	go p.pipe(pr, s, c)
}

func (p *netProxy) pipe(pr *proxyPair, from, to net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && !pr.dead.Load() {
			if _, werr := to.Write(buf[:n]); werr != nil && !pr.dead.Load() {
				pr.c.Close()
				pr.s.Close()
				return
			}
		}
		if err != nil {
			if !pr.dead.Load() {
				pr.c.Close()
				pr.s.Close()
			}
			return // a dead pair keeps its other side open and silent
		}
	}
}

// setDown cuts (or restores) the network: restOnly keeps call sockets
// working. Connections cut stay cut; new ones after restoring work.
func (p *netProxy) setDown(down, restOnly bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allDown = down && !restOnly
	p.restDown = down && restOnly
	if !down {
		return
	}
	for _, pr := range p.pairs {
		if !restOnly || !pr.socket {
			pr.dead.Store(true)
		}
	}
}

// crash drops the client side of every connection without the server
// hearing about it: the server side stays open and silent.
func (p *netProxy) crash() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.dead.Store(true)
		pr.c.Close()
	}
}

func (p *netProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, pr := range p.pairs {
		pr.c.Close()
		pr.s.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

var errTestAudio = errors.New("no microphone found")
