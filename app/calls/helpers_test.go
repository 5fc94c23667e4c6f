package calls

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
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

	mu       sync.Mutex
	sessions []*memSession
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
	closed   atomic.Bool

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
	return s, nil
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
	}
}

func (s *memSession) Play(pcm []byte) {
	if !s.spkMuted.Load() {
		s.played.Add(int64(len(pcm)))
	}
}
func (s *memSession) ClearPlayback()            { s.clears.Add(1) }
func (s *memSession) SetMicMuted(muted bool)     { s.micMuted.Store(muted) }
func (s *memSession) SetSpeakerMuted(muted bool) { s.spkMuted.Store(muted) }
func (s *memSession) Close() error {
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
}

type envOpt struct {
	sim      []simtest.Option
	settings func(*Settings)
	fake     bool
	audio    *memAudio
	dir      string
	baseURL  func(sim *simulator.Server) string
	noLeak   bool
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("UVT_CALLS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newClient(t *testing.T, baseURL, key string) *ultravox.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c, err := ultravox.NewClient(ultravox.Options{
		BaseURL: baseURL, APIKey: key, Version: "test",
		HTTPClient: &http.Client{Transport: tr}, RequestTimeout: 1500 * time.Millisecond, MaxRetries: -1,
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
	e := &env{t: t, audio: o.audio}
	simOpts := append([]simtest.Option{func(so *simulator.Options) {
		so.FreeTime = -1 // no free minutes: calls are BILLED
		so.SettleDelay = 300 * time.Millisecond
		so.MediaIdleFloor = -1
	}}, o.sim...)
	if o.fake {
		e.clock = simulator.NewFakeClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
		simOpts = append(simOpts, func(so *simulator.Options) { so.Clock = e.clock })
	}
	e.sim = simtest.New(t, simOpts...)
	base := e.sim.URL()
	if o.baseURL != nil {
		base = o.baseURL(e.sim)
	}
	e.client = newClient(t, base, e.sim.APIKey())
	e.dir = o.dir
	if e.dir == "" {
		e.dir = t.TempDir()
	}
	s := testSettings(e.sim)
	if o.settings != nil {
		o.settings(&s)
	}
	cfg := e.config(s)
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
		PollIdle: 400 * time.Millisecond, PollLive: 100 * time.Millisecond, Logger: testLogger(e.t),
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
		out = append(out, shortID(c.ID)+":"+c.State.String()+":"+c.Note)
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
	if v.ID == "" || v.State != CallJoining {
		e.t.Fatalf("Start returned %+v", v)
	}
	e.waitSnap("call billing", 10*time.Second, func(s Snapshot) bool {
		return len(s.Ours) == 1 && s.Ours[0].State == CallBilling && !s.Ours[0].Joined.IsZero()
	})
	return e.m.Snapshot().Ours[0]
}

func (e *env) journalEntries() []JournalEntry {
	e.t.Helper()
	j, prob := OpenJournal(e.dir, time.Now())
	if prob != nil {
		e.t.Fatalf("journal: %v", prob)
	}
	return j.Entries()
}

// ---- a TCP proxy whose connections can be frozen: the client side goes
// away, the server side stays open and silent (a crash the server never
// hears about) ----

type freezeProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	pairs  [][2]net.Conn
	frozen bool
	wg     sync.WaitGroup
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.frozen {
			p.mu.Unlock()
			c.Close()
			s.Close()
			continue
		}
		p.pairs = append(p.pairs, [2]net.Conn{c, s})
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s, false)
		go p.pipe(s, c, true)
	}
}

func (p *freezeProxy) pipe(from, to net.Conn, fromServer bool) {
	defer p.wg.Done()
	_, _ = io.Copy(to, from)
	p.mu.Lock()
	frozen := p.frozen
	p.mu.Unlock()
	if frozen {
		if fromServer {
			return
		}
		return
	}
	from.Close()
	to.Close()
}

// freeze drops every client connection without telling the server: the
// server side stays open, is drained and never written to.
func (p *freezeProxy) freeze() {
	p.mu.Lock()
	p.frozen = true
	pairs := append([][2]net.Conn(nil), p.pairs...)
	p.mu.Unlock()
	for _, pr := range pairs {
		pr[0].Close() // client side gone; pipe(s->c) fails writing and stops
		p.wg.Add(1)
		go func(s net.Conn) { defer p.wg.Done(); _, _ = io.Copy(io.Discard, s) }(pr[1])
	}
}

func (p *freezeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, pr := range p.pairs {
		pr[0].Close()
		pr[1].Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

var errTestAudio = errors.New("no microphone found")
