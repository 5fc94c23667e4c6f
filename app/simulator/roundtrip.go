package simulator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// A round trip is what a user's network adds: 50-150 ms between a laptop
// and Ultravox. Listen puts a link in front of the server that delays every
// byte by half the round trip each way, REST and call sockets alike (the
// websocket handshake and every frame), and a new connection's first bytes
// by one more round trip (the TCP handshake). Loopback figures then become
// what a user would see. The round trip may change at any time; bytes
// already on their way keep the delay they started with.
//
// The link is a small TCP relay: clients connect to the public address and
// the relay forwards to the HTTP server on a private loopback port, so the
// server's timeouts and deadlines see an ordinary TCP connection. It applies
// to Start and Listen only, not to Handler mounted elsewhere.

// SetRoundTrip sets the round-trip time the link adds (0 turns it off).
// Negative values count as 0.
func (s *Server) SetRoundTrip(d time.Duration) {
	s.rtt.Store(int64(max(d, 0)))
}

// RoundTrip is the round-trip time the link adds now.
func (s *Server) RoundTrip() time.Duration { return time.Duration(s.rtt.Load()) }

func (s *Server) controlRoundTrip(r *http.Request) (any, error) {
	d, err := time.ParseDuration(r.URL.Query().Get("d"))
	if err != nil || d < 0 {
		return nil, fmt.Errorf("d %q: want a Go duration such as 100ms (0 to turn it off)", r.URL.Query().Get("d"))
	}
	s.SetRoundTrip(d)
	return controlDone, nil
}

// relay accepts on the public listener and forwards each connection to
// inner (the HTTP server's private address) through two delayed pipes.
type relay struct {
	s     *Server
	pub   net.Listener
	inner string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (l *relay) serve() {
	for {
		c, err := l.pub.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.s.logf("simulator: accept: %v", err)
			}
			return
		}
		accepted := time.Now()
		if !l.s.track() {
			c.Close()
			return
		}
		go func() {
			defer l.s.wg.Done()
			l.forward(c, accepted)
		}()
	}
}

// forward relays one client connection until both directions are done.
func (l *relay) forward(client net.Conn, accepted time.Time) {
	server, err := net.Dial("tcp", l.inner)
	if err != nil {
		client.Close()
		return
	}
	if !l.add(client, server) {
		return
	}
	defer l.remove(client, server)
	// Each direction gets half the round trip; the client's first bytes wait
	// one more round trip, as a TCP handshake would make them.
	var wg sync.WaitGroup
	wg.Go(func() { l.pipe(client, server, accepted, true) })
	wg.Go(func() { l.pipe(server, client, accepted, false) })
	wg.Wait()
}

func (l *relay) add(cs ...net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		l.conns[c] = struct{}{}
	}
	return true
}

func (l *relay) remove(cs ...net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(l.conns, c)
	}
}

// close stops accepting and drops every relayed connection.
func (l *relay) close() {
	l.pub.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for c := range l.conns {
		c.Close()
	}
}

type relayChunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, holding each chunk for half the round trip
// (measured when it arrived). At src's end it half-closes dst once the
// chunks in flight are delivered; a failure closes both.
func (l *relay) pipe(src, dst net.Conn, accepted time.Time, handshake bool) {
	q := make(chan relayChunk, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ch := range q {
			if wait := time.Until(ch.due); wait > 0 {
				time.Sleep(wait)
			}
			if _, err := dst.Write(ch.b); err != nil {
				src.Close()
				dst.Close()
				for range q { // let the reader finish
				}
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
	}()
	buf := make([]byte, 32<<10)
	first := handshake
	for {
		n, err := src.Read(buf)
		if n > 0 {
			now := time.Now()
			rtt := l.s.RoundTrip()
			due := now.Add(rtt / 2)
			if first {
				due = maxTime(due, accepted.Add(rtt+rtt/2))
				first = false
			}
			q <- relayChunk{b: append([]byte(nil), buf[:n]...), due: due}
		}
		if err != nil {
			break
		}
	}
	close(q)
	<-done
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// relayState is the part of Server the link needs.
type relayState struct {
	rtt   atomic.Int64 // time.Duration
	relay *relay
}
