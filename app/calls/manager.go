package calls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// appName is written into the metadata of every call this app creates
// (ultravox.MetaApp, as "ultravox-tray/<version>").
const appName = "ultravox-tray"

// Config wires a Manager. Zero fields take the defaults given.
type Config struct {
	// Client talks to Ultravox; nil means no key is configured (HealthNoKey).
	Client *ultravox.Client
	// StateDir holds the journal and the history. Required.
	StateDir string
	// Audio opens the microphone and speaker for a call; nil means text
	// only (the manager then sends silence so the call stays up for text).
	Audio Audio
	// Settings are the call limits; zero value => DefaultSettings().
	Settings Settings
	// DeviceName, SessionID and Version go into every call's metadata.
	// SessionID defaults to a fresh UUID, Version to "dev".
	DeviceName, SessionID, Version string
	// Demo marks the snapshot as demo mode (the client talks to the
	// embedded simulator).
	Demo bool
	// Now is the clock for elapsed time, cost and deadlines (default
	// time.Now). Poll intervals run on real time.
	Now func() time.Time
	// PollIdle and PollLive are the account poll intervals when nothing is
	// live (default 30 s) and when anything is live or pending (default 3 s).
	PollIdle, PollLive time.Duration
	// Logger receives diagnostics (never the key, never a join URL).
	Logger *slog.Logger
}

// Manager is the one owner of what is billing. All methods are safe for
// concurrent use.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	hub     *hub
	journal *callJournal

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}

	templates sync.Map // agent id -> templateCacheEntry (templates.go)

	mu           sync.Mutex
	closed       bool
	client       *ultravox.Client
	settings     Settings
	health       Health
	healthDetail string
	lastCheck    time.Time
	failures     int           // consecutive failed checks
	retryAfter   time.Duration // from the last 429/503
	notBefore    time.Time     // no check before this (real time): Retry-After
	account      AccountView
	agents       []AgentView
	agentsAt     time.Time
	starting     bool
	ours         []*ourCall // not yet confirmed ended, oldest first
	elsewhere    map[string]CallView
	notifiedElse map[string]bool
	settling     map[string]*settleCall
	history      []HistoryEntry
	usageDay     string // UTC date of usageMin
	usageMin     float64
	usageAt      time.Time
	// idlePolling: the last poll chose the idle interval (nothing was live).
	idlePolling bool
	// unbilled are calls that settled after the last usage was asked for:
	// their cost is in the history but not yet in usageMin (settle.go).
	unbilled     []unbilledCall
	settleSeq    uint64
	budgetDay    string // UTC day EventBudgetReached was sent
	unaccounted  int
	lastSnap     Snapshot        // last published, Taken zeroed, for dedup
	audioClosing []chan struct{} // closed when that audio session's Close returned
	rtt          rttGauge        // the network round trip (fastend.go)
}

// The account poll intervals (Config.PollIdle, PollLive). A failed check is
// retried after PollLive, doubling up to PollIdle (or a longer Retry-After),
// so once Ultravox answers again the state is known within PollIdle.
const (
	DefaultPollIdle = 30 * time.Second // one request each: 2 a minute
	DefaultPollLive = 3 * time.Second
)

// New loads the journal (a corrupt one is moved aside and reported as an
// event, never a crash), starts watching the account and resolves the
// journal's entries (calls from an earlier session are ended).
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		cfg:          cfg,
		log:          cfg.Logger.With("component", "calls"),
		now:          cfg.Now,
		ctx:          ctx,
		cancel:       cancel,
		wake:         make(chan struct{}, 1),
		client:       cfg.Client,
		settings:     cfg.Settings,
		elsewhere:    map[string]CallView{},
		notifiedElse: map[string]bool{},
		settling:     map[string]*settleCall{},
	}
	m.hub = newHub(m.log)
	m.health = HealthUnchecked
	if m.client == nil {
		m.health = HealthNoKey
		m.healthDetail = "no API key is set"
	}
	problems := m.loadState()
	m.recoverJournal()
	m.mu.Lock()
	for _, ev := range problems {
		m.emitLocked(ev)
	}
	m.publishLocked()
	m.mu.Unlock()

	m.wg.Add(1)
	go m.watchLoop()
	return m, nil
}

// withDefaults checks cfg and fills in the defaults Config documents.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.StateDir == "" {
		return cfg, errors.New("calls: Config.StateDir is required: the journal of live calls must survive a crash")
	}
	if reflect.DeepEqual(cfg.Settings, Settings{}) {
		cfg.Settings = DefaultSettings()
	}
	if err := cfg.Settings.Validate(); err != nil {
		return cfg, fmt.Errorf("calls: invalid settings: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollIdle <= 0 {
		cfg.PollIdle = DefaultPollIdle
	}
	if cfg.PollLive <= 0 {
		cfg.PollLive = DefaultPollLive
	}
	if cfg.PollLive > cfg.PollIdle {
		cfg.PollLive = cfg.PollIdle
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.SessionID == "" {
		cfg.SessionID = newID()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// loadState opens the journal and the history; what was wrong with them
// comes back as events for the first subscriber.
func (m *Manager) loadState() []Event {
	var problems []Event
	j, prob := openJournal(m.cfg.StateDir, m.now())
	m.journal = j
	if prob != nil {
		m.log.Error("call journal problem", "err", prob.Error())
		problems = append(problems, Event{Kind: EventJournalProblem, Time: m.now(), Message: prob.Error(), AtRisk: prob.Unreadable})
	}
	hist, herr := loadHistory(m.cfg.StateDir, m.now())
	m.history = hist
	if herr != nil {
		m.log.Warn("call history problem", "err", herr)
		problems = append(problems, Event{Kind: EventHistoryProblem, Time: m.now(), Message: herr.Error()})
	}
	return problems
}

// recoverJournal takes over the calls of an earlier run: their sockets are
// gone, so each is ended (REST hang_up) from the first poll on.
func (m *Manager) recoverJournal() {
	for _, e := range m.journal.Entries() {
		oc := &ourCall{entry: e, recovered: true, view: CallView{
			ID: e.CallID, RequestID: e.RequestID, Ours: true, Recovered: true, AgentID: e.AgentID,
			State: CallEnding, Joined: e.Joined, MaxDuration: time.Duration(e.MaxDurSec * float64(time.Second)),
		}}
		oc.requestEnd(causeUs)
		m.ours = append(m.ours, oc)
	}
}

// Subscribe returns the current snapshot at once and every change after it
// (latest wins: a slow reader skips intermediate snapshots, and the manager
// never waits for it), and every event, in order (queued, never dropped
// silently). cancel ends the subscription and closes both channels; Close
// does too.
func (m *Manager) Subscribe() (snaps <-chan Snapshot, events <-chan Event, cancel func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hub.subscribe(m.snapshotLocked())
}

// Snapshot is the state at this instant.
func (m *Manager) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshotLocked()
}

// Settings returns the limits and prices the manager applies now.
func (m *Manager) Settings() Settings {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settings
}

// ApplySettings applies s to calls started from now on (and to cost
// estimates at once); invalid settings are refused with the reason.
func (m *Manager) ApplySettings(s Settings) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("settings not applied: %w", err)
	}
	m.mu.Lock()
	m.settings = s
	m.publishLocked()
	m.mu.Unlock()
	m.Recheck()
	return nil
}

// SetClient installs a new client after the key was set, changed or removed
// (nil). Calls already running keep the client they were created with, so
// they can still be ended.
func (m *Manager) SetClient(c *ultravox.Client) {
	m.mu.Lock()
	m.client = c
	m.lastCheck = time.Time{}
	m.failures = 0
	m.retryAfter = 0
	m.account = AccountView{}
	m.agents = nil
	m.agentsAt = time.Time{}
	m.elsewhere = map[string]CallView{}
	m.unaccounted = 0
	m.usageDay, m.usageMin, m.usageAt = "", 0, time.Time{}
	m.unbilled = nil // another key may be another account
	if c == nil {
		m.health, m.healthDetail = HealthNoKey, "no API key is set"
	} else {
		m.health, m.healthDetail = HealthUnchecked, "checking the new API key"
	}
	m.publishLocked()
	m.mu.Unlock()
	m.Recheck()
}

// Recheck polls the account now (after a wake from sleep or a network
// change).
func (m *Manager) Recheck() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// HasLiveCalls reports whether a call of ours is live, being created or not
// yet confirmed ended. Power management holds its sleep inhibitor while it
// is true.
func (m *Manager) HasLiveCalls() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.starting {
		return true
	}
	for _, oc := range m.ours {
		if oc.view.State.Live() {
			return true
		}
	}
	return false
}

// Close stops every goroutine of the manager. It does not end calls (run
// EndEverything first): it closes our call sockets and audio, which a
// websocket call's server takes as a hang-up, and leaves the journal as it
// is, so the next start resolves whatever was not confirmed ended.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	socks := slices.Clone(m.ours)
	m.mu.Unlock()
	m.cancel()
	for _, oc := range socks {
		m.teardownMedia(oc, "")
	}
	m.wg.Wait()
	m.waitAudioClosed()
	m.hub.close()
	return nil
}

func (m *Manager) pollIntervalLocked() time.Duration {
	if m.anythingLiveLocked() {
		return m.cfg.PollLive
	}
	return m.cfg.PollIdle
}

// anythingLiveLocked: something needs fast polling.
func (m *Manager) anythingLiveLocked() bool {
	return m.starting || len(m.ours) > 0 || len(m.elsewhere) > 0 || len(m.settling) > 0 || m.unaccounted > 0
}

func (m *Manager) snapshotLocked() Snapshot {
	now := m.now()
	s := Snapshot{
		Taken:          now,
		Health:         m.health,
		HealthDetail:   m.healthDetail,
		LastCheck:      m.lastCheck,
		Starting:       m.starting,
		Account:        m.account,
		DefaultAgentID: m.settings.DefaultAgentID,
		DailyBudget:    m.settings.DailyBudget,
		PricePerMinute: m.settings.PricePerMinute,
		Demo:           m.cfg.Demo,
		Unaccounted:    m.unaccounted,
	}
	for i := len(m.ours) - 1; i >= 0; i-- {
		s.Ours = append(s.Ours, m.ours[i].copyView())
	}
	for _, v := range m.elsewhere {
		s.Elsewhere = append(s.Elsewhere, v)
	}
	slices.SortFunc(s.Elsewhere, func(a, b CallView) int { return b.Created.Compare(a.Created) })
	s.Agents = slices.Clone(m.agents)
	if i := slices.IndexFunc(s.Agents, func(a AgentView) bool { return a.ID == m.settings.DefaultAgentID }); i > 0 {
		def := s.Agents[i]
		s.Agents = append([]AgentView{def}, slices.Delete(s.Agents, i, i+1)...)
	}
	s.History = slices.Clone(m.history)
	s.TodayMinutes = m.todayMinutesLocked(now)
	s.TodayCost = roundCents(s.TodayMinutes * m.settings.PricePerMinute)
	s.Overall = deriveOverall(deriveInput{
		Now: now, Health: m.health, LastCheck: m.lastCheck, Grace: 2 * m.cfg.PollIdle,
		Starting: m.starting, Ours: s.Ours, Elsewhere: s.Elsewhere, Unaccounted: m.unaccounted,
	})
	return s
}

// publishLocked sends the current snapshot to subscribers when anything
// but its timestamp changed.
func (m *Manager) publishLocked() {
	snap := m.snapshotLocked()
	cmp := snap
	cmp.Taken = time.Time{}
	if reflect.DeepEqual(cmp, m.lastSnap) {
		return
	}
	m.lastSnap = cmp
	m.hub.publishSnapshot(snap)
}

func (m *Manager) emitLocked(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = m.now()
	}
	m.log.Info("event", "kind", ev.Kind.String(), "call", shortID(ev.Call.ID), "message", ev.Message)
	m.hub.publishEvent(ev)
}
