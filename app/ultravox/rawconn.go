package ultravox

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// rawConn remembers the network connection a websocket was dialed on, so a
// close can be forced when the peer stops answering.
type rawConn struct {
	mu sync.Mutex
	c  net.Conn
}

func (r *rawConn) set(c net.Conn) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.c = c
	r.mu.Unlock()
}

func (r *rawConn) close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	c := r.c
	r.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// captureConn returns an HTTP client for one websocket dial whose transport
// records the connection it dials. A client with a transport other than
// *http.Transport is used as is (no capture; Close may then wait for the
// library's own timeouts).
func captureConn(hc *http.Client) (*http.Client, *rawConn) {
	var base *http.Transport
	switch {
	case hc == nil || hc.Transport == nil:
		base = http.DefaultTransport.(*http.Transport).Clone()
	default:
		t, ok := hc.Transport.(*http.Transport)
		if !ok {
			return hc, nil
		}
		base = t.Clone()
	}
	raw := &rawConn{}
	dial := base.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			raw.set(c)
		}
		return c, err
	}
	out := &http.Client{Transport: base}
	if hc != nil {
		out.Jar = hc.Jar
	}
	return out, raw
}
