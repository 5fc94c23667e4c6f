package simulator_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
)

// api is a plain net/http client for the simulator, as curl would be.
type api struct {
	t    testing.TB
	base string
	key  string
}

func newAPI(t testing.TB, sim *simulator.Server) *api {
	return &api{t: t, base: sim.URL(), key: sim.APIKey()}
}

// do sends a request and returns status, headers and the raw body.
func (a *api) do(method, path string, body any) (int, http.Header, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				a.t.Fatal(err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.key != "" {
		req.Header.Set("X-API-Key", a.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, raw
}

// json sends a request, requires status want, and decodes the body into out.
func (a *api) json(method, path string, body any, want int, out any) {
	a.t.Helper()
	status, _, raw := a.do(method, path, body)
	if status != want {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// wsMedium is a serverWebSocket medium at rate.
func wsMedium(rate int, extra map[string]any) map[string]any {
	m := map[string]any{"inputSampleRate": rate, "outputSampleRate": rate}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"serverWebSocket": m}
}

func (a *api) createCall(agentID string, body map[string]any) simulator.Call {
	a.t.Helper()
	var c simulator.Call
	path := "/api/calls"
	if agentID != "" {
		path = "/api/agents/" + agentID + "/calls"
	}
	a.json("POST", path, body, http.StatusCreated, &c)
	return c
}

func (a *api) getCall(id string) simulator.Call {
	a.t.Helper()
	var c simulator.Call
	a.json("GET", "/api/calls/"+id, nil, http.StatusOK, &c)
	return c
}

// waitCall polls GET until cond holds (5 s at most).
func (a *api) waitCall(id string, what string, cond func(simulator.Call) bool) simulator.Call {
	a.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := a.getCall(id)
		if cond(c) {
			return c
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("call %s: waited 5 s for %s; last state %+v", id, what, c)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ended(c simulator.Call) bool { return c.Ended != nil }

// wsClient is a test-side serverWebSocket client.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	msgs chan wsFrame
	done chan struct{}
	err  error
}

type wsFrame struct {
	binary bool
	data   []byte
	msg    map[string]any
}

func dial(t testing.TB, joinURL string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, joinURL+"?apiVersion=1&clientVersion=simtest_1", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 22)
	w := &wsClient{t: t, conn: conn, msgs: make(chan wsFrame, 4096), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			typ, data, err := conn.Read(context.Background())
			if err != nil {
				w.err = err
				close(w.msgs)
				return
			}
			f := wsFrame{binary: typ == websocket.MessageBinary, data: data}
			if !f.binary {
				if err := json.Unmarshal(data, &f.msg); err != nil {
					t.Errorf("server sent a text frame that is not JSON: %q", data)
				}
			}
			w.msgs <- f
		}
	}()
	t.Cleanup(func() {
		conn.CloseNow()
		<-w.done
	})
	return w
}

// next returns the next text message whose type is typ (skipping others,
// including audio), within timeout.
func (w *wsClient) next(typ string, timeout time.Duration) map[string]any {
	w.t.Helper()
	m, ok := w.until(timeout, func(f wsFrame) bool { return !f.binary && f.msg["type"] == typ })
	if !ok {
		w.t.Fatalf("no %q message within %v (socket: %v)", typ, timeout, w.err)
	}
	return m.msg
}

// until consumes frames until match returns true.
func (w *wsClient) until(timeout time.Duration, match func(wsFrame) bool) (wsFrame, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-w.msgs:
			if !ok {
				return wsFrame{}, false
			}
			if match(f) {
				return f, true
			}
		case <-timer.C:
			return wsFrame{}, false
		}
	}
}

func (w *wsClient) sendJSON(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if err := w.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatalf("send: %v", err)
	}
}

func (w *wsClient) sendPCM(pcm []byte) error {
	return w.conn.Write(context.Background(), websocket.MessageBinary, pcm)
}

// closeStatus waits for the socket to end and returns the close code.
func (w *wsClient) closeStatus(timeout time.Duration) websocket.StatusCode {
	w.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-w.msgs:
			if !ok {
				return websocket.CloseStatus(w.err)
			}
		case <-timer.C:
			w.t.Fatalf("socket still open after %v", timeout)
		}
	}
}

// tone is d of a 220 Hz tone at amplitude amp (s16le at rate).
func tone(rate int, d time.Duration, amp float64) []byte {
	n := int(d.Seconds() * float64(rate))
	out := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := amp * math.Sin(2*math.Pi*220*float64(i)/float64(rate))
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(v)))
	}
	return out
}

// stream sends pcm in 20 ms frames, paced in real time when paced is set.
func (w *wsClient) stream(rate int, pcm []byte, paced bool) {
	w.t.Helper()
	frame := rate * 2 / 50
	for off := 0; off < len(pcm); off += frame {
		end := min(off+frame, len(pcm))
		if err := w.sendPCM(pcm[off:end]); err != nil {
			w.t.Fatalf("send audio: %v", err)
		}
		if paced {
			time.Sleep(20 * time.Millisecond)
		}
	}
}
