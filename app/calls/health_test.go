package calls

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// 401 turns the state to unknown with "key rejected" (once), refuses starts,
// and a working key again emits "back online" once.
func TestKeyRejected(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	e.sim.SetUnauthorized(true)
	s := e.waitSnap("key rejected", 5*time.Second, func(s Snapshot) bool { return s.Health == HealthKeyRejected })
	if s.Overall != OverallUnknown || !strings.Contains(s.HealthDetail, "rejected") {
		t.Fatalf("overall %v detail %q", s.Overall, s.HealthDetail)
	}
	time.Sleep(500 * time.Millisecond) // more failing polls
	if n := e.rec.count(EventKeyRejected); n != 1 {
		t.Fatalf("%d key-rejected events", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.m.Start(ctx, ""); !errors.Is(err, ErrKeyRejected) {
		t.Fatalf("Start with a rejected key: %v", err)
	}
	if strings.Contains(e.rec.all()[0].Message, e.sim.APIKey()) || strings.Contains(s.HealthDetail, e.sim.APIKey()) {
		t.Fatal("the key appears in a message")
	}
	e.sim.SetUnauthorized(false)
	e.waitSnap("idle again", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	time.Sleep(300 * time.Millisecond)
	if n := e.rec.count(EventBackOnline); n != 1 {
		t.Fatalf("%d back-online events", n)
	}
}

// Offline turns idle into unknown after the grace period (two idle poll
// intervals since the last good check), not before.
func TestOfflineGracePeriod(t *testing.T) {
	e := newEnv(t, envOpt{fake: true, proxy: true})
	s := e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	last := s.LastCheck
	e.proxy.setDown(true, false)
	e.waitSnap("offline noticed", 10*time.Second, func(s Snapshot) bool { return s.Health == HealthOffline })
	grace := 2 * 400 * time.Millisecond // 2 x PollIdle of the test config
	e.clock.Advance(last.Add(grace).Sub(e.clock.Now()))
	if s := e.m.Snapshot(); s.Overall != OverallIdle {
		t.Fatalf("overall %v at the end of the grace period", s.Overall)
	}
	e.clock.Advance(time.Millisecond)
	s = e.m.Snapshot()
	if s.Overall != OverallUnknown || !strings.Contains(s.HealthDetail, "cannot reach Ultravox") {
		t.Fatalf("past the grace period: overall %v, detail %q", s.Overall, s.HealthDetail)
	}
	// Subscribers get the change too (the watcher republishes on each try).
	e.waitSnap("unknown", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallUnknown })
	e.proxy.setDown(false, false)
	e.waitSnap("idle after reconnect", 15*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	e.waitEvent(EventBackOnline, time.Second)
}

// No client: health "no API key", state unknown, start refused; setting a
// client brings the state to idle.
func TestNoKeyThenSetClient(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	e.m.SetClient(nil)
	s := e.m.Snapshot()
	if s.Health != HealthNoKey || s.Overall != OverallUnknown {
		t.Fatalf("without a key: %v %v", s.Health, s.Overall)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.m.Start(ctx, ""); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Start without a key: %v", err)
	}
	e.m.SetClient(e.client)
	e.waitSnap("idle with the key", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle && s.Account.Name != "" })
	if n := e.rec.count(EventKeyRejected); n != 0 {
		t.Fatalf("key-rejected events without a rejection: %d", n)
	}
}

// Rate limiting honours Retry-After and keeps the last good check within
// the grace period.
func TestRateLimitedBacksOff(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.waitSnap("idle", 5*time.Second, func(s Snapshot) bool { return s.Overall == OverallIdle })
	before := len(e.sim.Requests())
	// Enough failures that the next account check surely meets one (a poll
	// in flight may use up two on its usage and agent requests).
	e.sim.FailNext(4, 429)
	e.m.Recheck()
	e.waitSnap("rate limited", 5*time.Second, func(s Snapshot) bool { return s.Health == HealthRateLimited })
	e.waitSnap("ok again", 10*time.Second, func(s Snapshot) bool { return s.Health == HealthOK })
	// Retry-After: 1 s. After the last 429 the next account check waits at
	// least that long (the server's own times; a loaded machine only makes
	// it later, so the bound cannot flake).
	reqs := e.sim.Requests()[before:]
	var last429 time.Time
	for _, r := range reqs {
		if r.Status == 429 {
			last429 = r.Time
		}
	}
	if last429.IsZero() {
		t.Fatal("no 429 answered")
	}
	for _, r := range reqs {
		if r.Method == "GET" && r.Path == "/api/accounts/me" && r.Time.After(last429) {
			if gap := r.Time.Sub(last429); gap < 950*time.Millisecond {
				t.Fatalf("an account check %v after the last 429, within its Retry-After of 1 s", gap)
			}
			break
		}
	}
}

// The daily budget: once today's spend reaches it, an event says so (once)
// and new calls are refused.
func TestDailyBudget(t *testing.T) {
	e := newEnv(t, envOpt{fake: true, settings: func(s *Settings) { s.DailyBudget = 0.05 }})
	v := e.startBilling()
	e.clock.Advance(61 * time.Second) // 66 s billed: $0.055
	e.m.Recheck()
	ev := e.waitEvent(EventBudgetReached, 5*time.Second)
	// The spent amount, not only the budget this test set itself.
	if want := "Today's spend $0.06 has reached the daily budget of $0.05"; !strings.Contains(ev.Message, want) {
		t.Errorf("budget message %q, want %q", ev.Message, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second) // settle
	e.waitSnap("settled usage", 5*time.Second, func(s Snapshot) bool { return len(s.History) == 1 && s.TodayCost == 0.055 })
	_, err := e.m.Start(ctx, "")
	if !errors.Is(err, ErrBudgetReached) || !strings.Contains(err.Error(), "$0.06 spent today (UTC) of a $0.05 budget") {
		t.Fatalf("Start over budget: %v", err)
	}
	if n := e.rec.count(EventBudgetReached); n != 1 {
		t.Fatalf("%d budget events", n)
	}
	if n := len(e.sim.Calls()); n != 1 {
		t.Fatalf("%d calls on the server", n)
	}
}

// Close stops every goroutine and closes subscriptions; it does not end a
// call (the journal keeps it).
func TestCloseLeavesNothingRunning(t *testing.T) {
	e := newEnv(t, envOpt{audio: &memAudio{}})
	v := e.startBilling()
	m := e.m
	snaps, events, cancel := m.Subscribe()
	defer cancel()
	e.close() // goleak.VerifyNone runs at cleanup
	for range snaps {
	}
	for range events {
	}
	if js := e.journalEntries(); len(js) != 1 || js[0].CallID != v.ID {
		t.Fatalf("Close must leave the journal entry: %+v", js)
	}
	if s := e.audio.last(); s == nil || !s.closed.Load() {
		t.Fatal("audio not closed by Close")
	}
	ctx, cancelStart := context.WithTimeout(context.Background(), time.Second)
	defer cancelStart()
	if _, err := m.Start(ctx, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The API key and the join URL's secret never appear in a log line, an
// event, an error or a printed snapshot or config.
func TestSecretsNeverPrinted(t *testing.T) {
	// Shaped like a real key (8 + "." + 32), built at run time so that no
	// real-looking key is ever committed.
	key := "AbCd1234." + strings.Repeat("0123456789abcdef", 2)
	var logs syncBuffer
	e := newEnv(t, envOpt{logTo: &logs, sim: []simtest.Option{func(o *simulator.Options) { o.APIKey = key }}})
	v := e.startBilling()
	srv, _ := e.sim.Call(v.ID)
	if srv.JoinURL == nil {
		t.Fatal("no join URL on the live call")
	}
	token := (*srv.JoinURL)[strings.LastIndex(*srv.JoinURL, "/")+1:]
	var printed []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.sim.SetUnauthorized(true)
	e.waitSnap("key rejected", 5*time.Second, func(s Snapshot) bool { return s.Health == HealthKeyRejected })
	_, err := e.m.Start(ctx, "")
	printed = append(printed, fmt.Sprint(err), fmt.Sprintf("%+v %#v", e.m.Snapshot(), e.m.Snapshot()),
		fmt.Sprintf("%+v %#v", e.config(testSettings(e.sim)), e.config(testSettings(e.sim))))
	for _, ev := range e.rec.all() {
		printed = append(printed, fmt.Sprintf("%+v", ev))
	}
	e.close()
	printed = append(printed, logs.String())
	all := strings.Join(printed, "\n")
	if !strings.Contains(logs.String(), "key rejected") {
		t.Fatal("the log did not record the rejection; the check below would prove nothing")
	}
	for _, secret := range []string{key, key[9:], token} {
		if strings.Contains(all, secret) {
			t.Fatalf("secret %q printed", secret[:6]+"…")
		}
	}
}
