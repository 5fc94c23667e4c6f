package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
)

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
	outageUntil  time.Time     // Outage (faults.go)
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
	createTimes  []time.Time       // for CreatesPerMinute
	storage      *storageHost      // recordings redirect here when set (review.go)
	storages     []*storageHost    // every one started, closed with the server
	tools        []*ToolInvocation // tools.go
	formats      Formats           // formats.go
	metaLag      time.Duration     // strict.go
	farewell     string            // strict.go

	relayState // the round trip Listen adds (roundtrip.go)
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
		tmpl := &CallTemplate{Name: a.Name, SystemPrompt: seedPrompt(a), TimeExceededMessage: a.TimeExceededMessage}
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
	// The HTTP server listens privately; the public address is the link
	// that adds the round trip (roundtrip.go).
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.mu.Unlock()
		ln.Close()
		return fmt.Errorf("simulator: listen on loopback: %w", err)
	}
	s.listener = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.httpSrv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.relay = &relay{s: s, pub: ln, inner: inner.Addr().String(), conns: map[net.Conn]struct{}{}}
	srv, rl := s.httpSrv, s.relay
	s.wg.Add(2)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(inner); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("simulator: serve: %v", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		rl.serve()
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
		srv, rl := s.httpSrv, s.relay
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
		storages := s.storages
		s.mu.Unlock()
		for _, st := range storages {
			st.close()
		}
		for _, x := range sess {
			x.abort()
		}
		if rl != nil {
			rl.close()
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
