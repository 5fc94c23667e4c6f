package simulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Faults for the fault campaign (internal/campaign): a media socket closed
// under a live call, a REST outage, a restart of the service on the same
// state, and a reset of every queued fault.

// CloseSocket closes the media socket of a live call with code and reason
// (for example 1011, an internal error of the media server) and leaves the
// call live: the call keeps billing on the server until the client ends it
// over REST or a limit ends it.
func (s *Server) CloseSocket(callID string, code websocket.StatusCode, reason string) error {
	s.mu.Lock()
	c := s.calls[callID]
	if c == nil {
		s.mu.Unlock()
		return fmt.Errorf("simulator: no call %s", callID)
	}
	sess := c.sess
	if !c.live() || sess == nil || sess.conn == nil || sess.closing.Load() {
		s.mu.Unlock()
		return fmt.Errorf("simulator: call %s has no open socket", callID)
	}
	s.mu.Unlock()
	sess.closeWith(code, reason)
	return nil
}

// Outage makes every REST request and socket join for the next d fail at
// the network level: the connection is dropped without an answer, as when
// the service is unreachable. Open call sockets are not touched. d <= 0
// ends an outage.
func (s *Server) Outage(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		s.outageUntil = time.Time{}
		return
	}
	s.outageUntil = time.Now().Add(d)
}

// inOutage reports whether an Outage is under way.
func (s *Server) inOutage() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Before(s.outageUntil)
}

// Restart stops serving (the listener closes, every call socket drops
// without a close frame, requests in flight are cut), stays down for down,
// and serves again on the same address with the same calls, agents and
// records, as a service restarted on its database would.
func (s *Server) Restart(down time.Duration) error {
	s.mu.Lock()
	if s.closed || s.httpSrv == nil {
		s.mu.Unlock()
		return errors.New("simulator: not serving")
	}
	srv, rl, addr := s.httpSrv, s.relay, s.listener.Addr().String()
	var sess []*session
	for x := range s.sessions {
		sess = append(sess, x)
	}
	s.mu.Unlock()
	// The public address is the round-trip relay's (roundtrip.go): close it
	// first, with every relayed connection, so the address is free again;
	// then the private HTTP server and its connections.
	if rl != nil {
		rl.close()
	}
	srv.Close() // the listener and every connection (hijacked sockets are not its to close)
	for _, x := range sess {
		x.abort()
	}
	if down > 0 {
		select {
		case <-time.After(down):
		case <-s.done:
			return errors.New("simulator: closed during a restart")
		}
	}
	s.mu.Lock()
	if s.httpSrv == srv {
		s.httpSrv = nil
		s.relay = nil
	}
	s.mu.Unlock()
	// The port was ours a moment ago; another process may take it in
	// between, which a retry cannot fix.
	var err error
	for i := 0; i < 20; i++ {
		if err = s.Listen(addr); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("simulator: restart: %w", err)
	}
	s.logf("simulator: restarted on %s after %v down", addr, down)
	return nil
}

// ClearFaults drops every queued or running fault: FailNext and friends,
// Malformed, latency, unresponsive, unauthorized and an outage.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.failNext = nil
	s.malformed = 0
	s.latency = 0
	s.unauthorized = false
	s.outageUntil = time.Time{}
	s.mu.Unlock()
	s.SetUnresponsive(false)
}

// dropInOutage cuts the connection of a request that arrives during an
// Outage (after recording it with status 0).
func (s *Server) dropInOutage(rec *Request) {
	if rec != nil {
		rec.Fault = "outage"
		s.record(*rec)
	}
	panic(http.ErrAbortHandler)
}
