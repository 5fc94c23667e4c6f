package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultAPIKey is the key the simulator accepts unless Options.APIKey says
// otherwise. It cannot be mistaken for a real Ultravox key (those are 8
// alphanumerics, a dot and 32 alphanumerics).
const DefaultAPIKey = "sim-demo-key"

// End reasons (Call.endReason).
const (
	EndUnjoined        = "unjoined"
	EndHangup          = "hangup"
	EndAgentHangup     = "agent_hangup"
	EndTimeout         = "timeout"
	EndConnectionError = "connection_error"
	EndSystemError     = "system_error"
)

// Billing statuses (Call.billingStatus).
const (
	BillingPending           = "BILLING_STATUS_PENDING"
	BillingBilled            = "BILLING_STATUS_BILLED"
	BillingFreeMinutes       = "BILLING_STATUS_FREE_MINUTES"
	BillingFreeZeroEffective = "BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION"
	BillingFreeSystemError   = "BILLING_STATUS_FREE_SYSTEM_ERROR"
)

// BillingUnit is the billing granularity: 6-second units, rounded up.
const BillingUnit = 6 * time.Second

// AgentSeed describes an agent to create at start.
type AgentSeed struct {
	ID           string // a UUID; derived from Name when empty
	Name         string
	SystemPrompt string
	// Greeting is what the agent says first on join; a default sentence
	// naming the agent when empty.
	Greeting string
	// MaxDuration and JoinTimeout are the agent's call template values; zero
	// leaves them unset so the API defaults apply.
	MaxDuration time.Duration
	JoinTimeout time.Duration
	// TimeExceededMessage is spoken when maxDuration is reached.
	TimeExceededMessage string
}

// Options configure a Server. The zero value is usable: every zero field
// takes the documented default.
type Options struct {
	// APIKey is the only key accepted in X-API-Key (default DefaultAPIKey).
	APIKey string
	// Agents to seed; default two agents, the first named "Support agent".
	Agents []AgentSeed
	// AccountName defaults to "Demo account".
	AccountName string
	// FreeTime is the account's free call time (default 30 min; negative
	// means none).
	FreeTime time.Duration
	// MaxConcurrent is the concurrency cap (default 5; negative: no cap).
	MaxConcurrent int
	// RetryAfter is the Retry-After sent with the concurrency 429 (default 1 s,
	// sent in whole seconds, at least 1).
	RetryAfter time.Duration
	// CreatesPerMinute limits call creation over any sliding minute, as the
	// small plans do (30); a create over it gets 429 with Retry-After until
	// the oldest create leaves the window. Zero: no limit.
	CreatesPerMinute int
	// HangupReason is the endReason of a REST or socket hang_up (default
	// "agent_hangup").
	HangupReason string
	// SettleDelay is how long billingStatus stays PENDING after a call ends
	// (default 2 s; negative: settles at the moment it ends).
	SettleDelay time.Duration
	// DefaultJoinTimeout applies when neither request nor agent sets one
	// (default 30 s, as the API).
	DefaultJoinTimeout time.Duration
	// DefaultMaxDuration applies when neither request nor agent sets one
	// (default 3600 s, as the API).
	DefaultMaxDuration time.Duration
	// MediaIdleFloor is the smallest mediaIdleTimeout honoured; shorter
	// values are raised to it (default 10 s as the API; negative: no floor,
	// for tests).
	MediaIdleFloor time.Duration
	// SpeakGreeting makes the agent speak a greeting on join (unless the call
	// says the user speaks first). DefaultOptions sets it.
	SpeakGreeting bool
	// SpeechThreshold is the RMS level (of 32767) above which received audio
	// counts as speech (default 500).
	SpeechThreshold float64
	// EndOfSpeech is the quiet time after which the user is taken to have
	// stopped talking (default 600 ms of received audio).
	EndOfSpeech time.Duration
	// SendAhead is how far agent audio may run ahead of real time (default
	// 40 ms, one chunk), never more than the call's clientBufferSizeMs
	// (60 ms when unset, as the API). A large value with a large client
	// buffer makes the agent burst its audio, as Ultravox does, so that
	// playback_clear_buffer has seconds of queued audio to drop.
	SendAhead time.Duration
	// Speech is the agent's voice (default SynthSpeech: speech-like,
	// unintelligible). EspeakSpeech says the words. When it fails, the agent
	// falls back to SynthSpeech.
	Speech SpeechFunc
	// AudioRecordLimit caps the PCM kept per call and direction (default
	// 32 MiB, about 5.8 minutes at 48 kHz); past it only each frame's time
	// and length are kept. It bounds memory in long demo sessions.
	AudioRecordLimit int
	// MaxRecordedRequests caps the request log, oldest dropped first
	// (default 100000).
	MaxRecordedRequests int
	// Clock drives the lifecycle; real UTC time when nil.
	Clock Clock
	// ControlAPI serves the test controls over HTTP under /sim/control/
	// (POST, with the API key), for the standalone simulator.
	ControlAPI bool
	// Middleware wraps the REST handler (not the call sockets); the contract
	// validator plugs in here.
	Middleware func(http.Handler) http.Handler
	// Logf, when set, receives one line per notable event. It never sees the
	// API key or a join URL.
	Logf func(format string, args ...any)
}

// DefaultOptions are the options of a realistic simulator: all defaults, and
// an agent that greets.
func DefaultOptions() Options {
	return Options{SpeakGreeting: true}
}

func (o *Options) fill() {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if len(o.Agents) == 0 {
		o.Agents = []AgentSeed{
			{Name: "Support agent", SystemPrompt: "You are a friendly support agent.",
				TimeExceededMessage: "We have reached the time limit for this call. Goodbye!"},
			{Name: "Sales agent", SystemPrompt: "You are a concise sales agent.", MaxDuration: 300 * time.Second},
		}
	}
	if o.AccountName == "" {
		o.AccountName = "Demo account"
	}
	if o.FreeTime == 0 {
		o.FreeTime = 30 * time.Minute
	} else if o.FreeTime < 0 {
		o.FreeTime = 0
	}
	if o.MaxConcurrent == 0 {
		o.MaxConcurrent = 5
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.HangupReason == "" {
		o.HangupReason = EndAgentHangup
	}
	if o.SettleDelay == 0 {
		o.SettleDelay = 2 * time.Second
	} else if o.SettleDelay < 0 {
		o.SettleDelay = 0
	}
	if o.DefaultJoinTimeout <= 0 {
		o.DefaultJoinTimeout = 30 * time.Second
	}
	if o.DefaultMaxDuration <= 0 {
		o.DefaultMaxDuration = 3600 * time.Second
	}
	if o.MediaIdleFloor == 0 {
		o.MediaIdleFloor = 10 * time.Second
	} else if o.MediaIdleFloor < 0 {
		o.MediaIdleFloor = 0
	}
	if o.SpeechThreshold <= 0 {
		o.SpeechThreshold = 500
	}
	if o.EndOfSpeech <= 0 {
		o.EndOfSpeech = 600 * time.Millisecond
	}
	if o.AudioRecordLimit <= 0 {
		o.AudioRecordLimit = 32 << 20
	}
	if o.MaxRecordedRequests <= 0 {
		o.MaxRecordedRequests = 100000
	}
	if o.SendAhead <= 0 {
		o.SendAhead = chunkDur
	}
	if o.Speech == nil {
		o.Speech = SynthSpeech
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
}

// validEndReason reports whether r is one of the schema's end reasons.
func validEndReason(r string) bool {
	switch r {
	case EndUnjoined, EndHangup, EndAgentHangup, EndTimeout, EndConnectionError, EndSystemError:
		return true
	}
	return false
}

// Server is one simulated Ultravox service.
type Server struct {
	opts  Options
	clock Clock

	handler http.Handler

	mu         sync.Mutex
	accountID  string
	agents     []*Agent
	calls      map[string]*simCall
	order      []*simCall // creation order
	tokens     map[string]*simCall
	tombstones []CallTombstone
	freeUsed   time.Duration
	requests   []Request

	failNext     []fault
	malformed    int
	latency      time.Duration
	unauthorized bool
	unresponsive bool
	unblock      chan struct{} // closed when unresponsive is turned off
	hangupReason string
	sessions     map[*session]struct{}
	closed       bool
	done         chan struct{}
	wg           sync.WaitGroup
	httpSrv      *http.Server
	listener     net.Listener
	baseURL      string
	closeOnce    sync.Once
	settleTimers map[*simCall]Timer
	seeds        map[string]AgentSeed
	createTimes  []time.Time // for CreatesPerMinute
}

type fault struct {
	status int
	after  bool // handle the request first, then answer with status
	cut    bool // handle the request first, then drop the connection
}

// New returns a Server with opts (zero fields take defaults). It serves
// nothing until Start or Listen, or until Handler is mounted elsewhere.
func New(opts Options) *Server {
	opts.fill()
	s := &Server{
		opts:         opts,
		clock:        opts.Clock,
		calls:        map[string]*simCall{},
		tokens:       map[string]*simCall{},
		sessions:     map[*session]struct{}{},
		done:         make(chan struct{}),
		unblock:      make(chan struct{}),
		hangupReason: opts.HangupReason,
		settleTimers: map[*simCall]Timer{},
		seeds:        map[string]AgentSeed{},
		accountID:    uuid.NewSHA1(uuid.NameSpaceURL, []byte("ultravox-sim:account:"+opts.AccountName)).String(),
	}
	close(s.unblock)
	now := s.clock.Now()
	for i, a := range opts.Agents {
		id := a.ID
		if id == "" {
			id = uuid.NewSHA1(uuid.NameSpaceURL, []byte("ultravox-sim:agent:"+a.Name)).String()
		}
		tmpl := &CallTemplate{Name: a.Name, SystemPrompt: a.SystemPrompt, TimeExceededMessage: a.TimeExceededMessage}
		if a.MaxDuration > 0 {
			tmpl.MaxDuration = formatDuration(a.MaxDuration)
		}
		if a.JoinTimeout > 0 {
			tmpl.JoinTimeout = formatDuration(a.JoinTimeout)
		}
		rev := uuid.NewSHA1(uuid.NameSpaceURL, []byte("ultravox-sim:revision:"+id)).String()
		s.agents = append(s.agents, &Agent{
			AgentID:             id,
			PublishedRevisionID: &rev,
			Name:                a.Name,
			Created:             now.Add(-time.Duration(i+1) * time.Hour), // listed (-created) in seed order
			CallTemplate:        tmpl,
		})
		s.seeds[id] = a
	}
	s.handler = s.routes()
	return s
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// Handler is the whole simulator (REST under /api/ and the call sockets) as
// an http.Handler, for mounting in an existing server.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves on a free loopback port.
func (s *Server) Start() error { return s.Listen("127.0.0.1:0") }

// Listen serves on addr (host:port).
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("simulator: listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return errors.New("simulator: server is closed")
	}
	if s.httpSrv != nil {
		s.mu.Unlock()
		ln.Close()
		return errors.New("simulator: already serving")
	}
	s.listener = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.httpSrv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	srv := s.httpSrv
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("simulator: serve: %v", err)
		}
	}()
	return nil
}

// URL is the base URL ("http://127.0.0.1:port") once serving.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// APIKey is the key the simulator accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }

// Close ends every call socket, stops every timer and goroutine, and stops
// serving. Calls still live are left as they are (the service "went away").
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		srv := s.httpSrv
		var sess []*session
		for x := range s.sessions {
			sess = append(sess, x)
		}
		for _, c := range s.order {
			c.stopTimers()
		}
		for _, t := range s.settleTimers {
			t.Stop()
		}
		s.mu.Unlock()
		for _, x := range sess {
			x.abort()
		}
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
			}
			cancel()
		}
	})
	s.wg.Wait()
	return nil
}

// track counts one more goroutine (or handler) in s.wg, unless Close was
// called: Close sets closed under s.mu before it waits, so every Add that
// track makes happens before that Wait. The caller runs s.wg.Done when
// track reported true.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// isClosed reports whether Close was called.
func (s *Server) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// ---- test controls ----

// FailNext makes the next n REST requests fail with status before they are
// handled (nothing changes on the server). 429 and 503 carry Retry-After: 1.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, fault{status: status})
	}
}

// FailNextAfterHandling makes the next n REST requests take effect (a create
// does create the call) but answer with status: the ambiguous failure a
// client must recover from without creating a second call.
func (s *Server) FailNextAfterHandling(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, fault{status: status, after: true})
	}
}

// CutNext makes the next n REST requests take effect and then drops the
// connection without any answer (a network failure after the server acted).
func (s *Server) CutNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, fault{cut: true})
	}
}

// Malformed makes the next n REST responses carry broken JSON (the request
// is handled; the body is cut off).
func (s *Server) Malformed(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.malformed += n
}

// SetLatency delays every REST answer and socket join by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetUnauthorized makes every REST request get 401 (as a revoked key would).
func (s *Server) SetUnauthorized(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unauthorized = on
}

// SetUnresponsive makes the server accept connections but never answer
// (REST and socket joins) until it is turned off or the server is closed.
func (s *Server) SetUnresponsive(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on == s.unresponsive {
		return
	}
	s.unresponsive = on
	if on {
		s.unblock = make(chan struct{})
	} else {
		close(s.unblock)
	}
}

// SetHangupReason changes the endReason of REST and socket hang_up.
func (s *Server) SetHangupReason(reason string) error {
	if !validEndReason(reason) {
		return fmt.Errorf("simulator: unknown end reason %q", reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangupReason = reason
	return nil
}

// DropSockets drops every call socket at once, without a close frame, as a
// network loss would. The server then ends those calls (endReason hangup: a
// dropped connection ends the call and there is no rejoin).
func (s *Server) DropSockets() {
	s.mu.Lock()
	var sess []*session
	for x := range s.sessions {
		sess = append(sess, x)
	}
	s.mu.Unlock()
	for _, x := range sess {
		x.abort()
	}
}

// Agents returns copies of the seeded agents.
func (s *Server) Agents() []Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Agent, 0, len(s.agents))
	for _, a := range s.agents {
		out = append(out, s.agentWire(a))
	}
	return out
}

// ---- recording ----

// Request is one recorded REST request.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	// UserAgent is the User-Agent header (the API key header is never
	// recorded).
	UserAgent string
	Status    int // 0 when the connection was cut without an answer
}

// Requests returns every REST request so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// RequestsTo returns the recorded requests whose method matches method (""
// for any) and whose path starts with pathPrefix.
func (s *Server) RequestsTo(method, pathPrefix string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

// AudioChunk is one binary frame of call audio and when it crossed the
// socket (real time).
type AudioChunk struct {
	At   time.Time
	Len  int    // bytes in the frame
	Data []byte // the PCM; nil past Options.AudioRecordLimit
}

// CallAudio is the audio of one call: what the client sent (received by the
// simulator) and what the agent sent.
type CallAudio struct {
	InputRate  int
	OutputRate int
	Received   []AudioChunk
	Sent       []AudioChunk
}

// ReceivedBytes is the total of received PCM bytes.
func (a CallAudio) ReceivedBytes() int {
	n := 0
	for _, c := range a.Received {
		n += c.Len
	}
	return n
}

// SentBytes is the total of sent PCM bytes.
func (a CallAudio) SentBytes() int {
	n := 0
	for _, c := range a.Sent {
		n += c.Len
	}
	return n
}

// CallAudio returns a copy of the recorded audio of a call.
func (s *Server) CallAudio(callID string) (CallAudio, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return CallAudio{}, false
	}
	out := CallAudio{InputRate: c.inRate, OutputRate: c.outRate}
	out.Received = append([]AudioChunk(nil), c.audioIn...)
	out.Sent = append([]AudioChunk(nil), c.audioOut...)
	return out, true
}

// Call returns a copy of a call's current state as GET would show it
// (including deleted calls).
func (s *Server) Call(callID string) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return Call{}, false
	}
	return c.snapshot(), true
}

// Calls returns copies of all calls (deleted ones included), oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.order))
	for _, c := range s.order {
		out = append(out, c.snapshot())
	}
	return out
}

// Messages returns the transcript messages of a call so far.
func (s *Server) Messages(callID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return nil
	}
	return append([]Message(nil), c.messages...)
}
