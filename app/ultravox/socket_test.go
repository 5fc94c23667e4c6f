package ultravox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const joinSecret = "J0inS3cretCallT0ken"

// wsServer runs handler for every websocket joined at
// /calls/<joinSecret>/server_web_socket; other paths get 404.
func wsServer(t *testing.T, handler func(c *websocket.Conn, r *http.Request)) (joinURL string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/calls/"+joinSecret+"/server_web_socket" {
			http.Error(w, "no such call", http.StatusNotFound)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		handler(c, r)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/calls/" + joinSecret + "/server_web_socket?token=" + joinSecret
}

func joinLogged(t *testing.T, ctx context.Context, joinURL string) (*CallSocket, *syncBuffer, error) {
	t.Helper()
	logs := &syncBuffer{}
	s, err := Join(ctx, joinURL, JoinOptions{Version: "1.2.3", Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() {
		if strings.Contains(logs.String(), joinSecret) {
			t.Errorf("log holds the joinUrl secret: %s", logs.String())
		}
	})
	return s, logs, err
}

type serverSaw struct {
	query      string
	audioBytes int
	audioMsgs  int
	texts      []string
}

func TestCallSocketConversation(t *testing.T) {
	saw := make(chan serverSaw, 1)
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		ctx := r.Context()
		var s serverSaw
		s.query = r.URL.RawQuery
		for _, m := range []string{
			`{"type":"call_started","callId":"call-1"}`,
			`{"type":"state","state":"speaking"}`,
			`{"type":"transcript","role":"agent","medium":"voice","delta":"Hel","final":false,"ordinal":0}`,
			`{"type":"transcript","role":"agent","medium":"voice","text":"Hello there","final":true,"ordinal":0}`,
			`{"type":"room_info","roomUrl":"x"}`,
			`not json at all`,
			`{"type":"transcript","ordinal":"first"}`,
			`{"type":"playback_clear_buffer"}`,
			`{"type":"client_tool_invocation","toolName":"lookup","invocationId":"inv-1","parameters":{"q":"x"}}`,
			`{"type":"debug","message":"llm latency 300ms"}`,
		} {
			if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				return
			}
		}
		if err := c.Write(ctx, websocket.MessageBinary, []byte{1, 0, 2, 0}); err != nil {
			return
		}
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				saw <- s
				return
			}
			if typ == websocket.MessageBinary {
				s.audioBytes += len(data)
				s.audioMsgs++
				continue
			}
			var m map[string]any
			json.Unmarshal(data, &m)
			s.texts = append(s.texts, m["type"].(string))
			switch m["type"] {
			case "ping":
				time.Sleep(5 * time.Millisecond)
				b, _ := json.Marshal(map[string]any{"type": "pong", "timestamp": m["timestamp"]})
				c.Write(ctx, websocket.MessageText, b)
			case "hang_up":
				saw <- s
				c.Close(websocket.StatusNormalClosure, "call ended")
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, _, err := joinLogged(t, ctx, joinURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	frame := make([]byte, 1920) // 20 ms at 48 kHz
	for i := 0; i < 10; i++ {
		if err := s.SendAudio(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SendAudio([]byte{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "not whole 16-bit samples") {
		t.Fatalf("odd frame: %v", err)
	}
	if err := s.SendText("hello agent"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(); err != nil {
		t.Fatal(err)
	}

	var got []Incoming
	for {
		it, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it)
		if _, ok := it.(Pong); ok {
			break
		}
	}
	if s.RTT() < 5*time.Millisecond || s.RTT() > 5*time.Second {
		t.Errorf("RTT = %v, want at least the server's 5 ms delay", s.RTT())
	}
	if err := s.HangUp("Goodbye"); err != nil {
		t.Fatal(err)
	}
	for {
		it, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after hang_up: %v", err)
		}
		got = append(got, it)
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("Done never closed")
	}
	if code, reason := s.CloseStatus(); code != 1000 || reason != "call ended" {
		t.Errorf("CloseStatus = %d %q", code, reason)
	}
	if s.Err() != nil || s.Close() != nil {
		t.Errorf("a normal end is not an error: %v", s.Err())
	}

	// What the client decoded, in order.
	if len(got) != 12 {
		t.Fatalf("got %d items: %#v", len(got), got)
	}
	if v, ok := got[0].(CallStarted); !ok || v.CallID != "call-1" {
		t.Errorf("0: %#v", got[0])
	}
	if v, ok := got[1].(State); !ok || v.State != "speaking" {
		t.Errorf("1: %#v", got[1])
	}
	if v, ok := got[2].(Transcript); !ok || v.Delta == nil || *v.Delta != "Hel" || v.Text != nil || v.Final || v.Role != "agent" || v.Medium != "voice" {
		t.Errorf("2: %#v", got[2])
	}
	if v, ok := got[3].(Transcript); !ok || v.Text == nil || *v.Text != "Hello there" || !v.Final || v.Ordinal != 0 {
		t.Errorf("3: %#v", got[3])
	}
	if v, ok := got[4].(Unknown); !ok || v.Type != "room_info" || !strings.Contains(string(v.Raw), "roomUrl") {
		t.Errorf("4: %#v", got[4])
	}
	if v, ok := got[5].(Unknown); !ok || v.Type != "" || string(v.Raw) != "not json at all" {
		t.Errorf("5: %#v", got[5])
	}
	if v, ok := got[6].(Unknown); !ok || v.Type != "transcript" {
		t.Errorf("6 (undecodable transcript kept as unknown): %#v", got[6])
	}
	if _, ok := got[7].(PlaybackClearBuffer); !ok {
		t.Errorf("7: %#v", got[7])
	}
	if v, ok := got[8].(ClientToolInvocation); !ok || v.ToolName != "lookup" || v.InvocationID != "inv-1" || string(v.Parameters) != `{"q":"x"}` {
		t.Errorf("8: %#v", got[8])
	}
	if v, ok := got[9].(Debug); !ok || v.Message != "llm latency 300ms" {
		t.Errorf("9: %#v", got[9])
	}
	if v, ok := got[10].(Audio); !ok || len(v) != 4 || v[0] != 1 || v[2] != 2 {
		t.Errorf("10: %#v", got[10])
	}
	if _, ok := got[11].(Pong); !ok {
		t.Errorf("11: %#v", got[11])
	}

	s2 := <-saw
	if !strings.Contains(s2.query, "apiVersion=1") || !strings.Contains(s2.query, "clientVersion=ultravox-tray_1.2.3") || !strings.Contains(s2.query, "token="+joinSecret) {
		t.Errorf("join query %q", s2.query)
	}
	if s2.audioBytes != 10*1920 || s2.audioMsgs != 10 {
		t.Errorf("server got %d audio bytes in %d frames", s2.audioBytes, s2.audioMsgs)
	}
	if strings.Join(s2.texts, ",") != "user_text_message,ping,hang_up" {
		t.Errorf("server got text messages %v", s2.texts)
	}
	if err := s.SendAudio(frame); !errors.Is(err, ErrSocketClosed) {
		t.Errorf("SendAudio after the end: %v", err)
	}
	if err := s.HangUp("again"); !errors.Is(err, ErrSocketClosed) {
		t.Errorf("HangUp after the end: %v", err)
	}
}

func TestCallSocketServerFailureClose(t *testing.T) {
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		c.Write(r.Context(), websocket.MessageText, []byte(`{"type":"state","state":"listening"}`))
		c.Close(4001, "media idle timeout")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, _, err := joinLogged(t, ctx, joinURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if it, err := s.Next(ctx); err != nil || it.(State).State != "listening" {
		t.Fatalf("first: %v %v", it, err)
	}
	_, err = s.Next(ctx)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "media idle timeout" {
		t.Fatalf("end: %v", err)
	}
	if err.Error() != "ultravox: call socket closed by the server with code 4001: media idle timeout" {
		t.Errorf("Error() = %q", err)
	}
	if code, _ := s.CloseStatus(); code != 4001 {
		t.Errorf("CloseStatus %d", code)
	}
	if s.Close() == nil {
		t.Error("Close after a failure end should report it")
	}
}

func TestCallSocketConnectionLost(t *testing.T) {
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		c.CloseNow() // no close frame: the connection just drops
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, _, err := joinLogged(t, ctx, joinURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Next(ctx)
	if err == nil || err == io.EOF || strings.Contains(err.Error(), joinSecret) {
		t.Fatalf("lost: %v", err)
	}
	if code, reason := s.CloseStatus(); code != 1006 || reason != "connection lost" {
		t.Errorf("CloseStatus %d %q", code, reason)
	}
}

func TestCallSocketClientClose(t *testing.T) {
	serverEnd := make(chan websocket.StatusCode, 1)
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				serverEnd <- websocket.CloseStatus(err)
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, _, err := joinLogged(t, ctx, joinURL)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if code := <-serverEnd; code != websocket.StatusNormalClosure {
		t.Errorf("server saw close code %d, want 1000", code)
	}
	if _, err := s.Next(ctx); err != io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
	if code, reason := s.CloseStatus(); code != 1000 || reason != "closed by client" {
		t.Errorf("CloseStatus %d %q", code, reason)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCallSocketAbort(t *testing.T) {
	serverEnd := make(chan int, 1)
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		_, _, err := c.Read(r.Context())
		serverEnd <- int(websocket.CloseStatus(err))
	})
	s, _, err := joinLogged(t, context.Background(), joinURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.abort(); err != nil {
		t.Fatal(err)
	}
	if code := <-serverEnd; code != -1 {
		t.Errorf("server saw close code %d; Abort sends no close frame", code)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}
}

func TestCallSocketNextHonoursContext(t *testing.T) {
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		c.Read(r.Context()) // wait for the client to go
	})
	s, _, err := joinLogged(t, context.Background(), joinURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with a deadline: %v", err)
	}
}

func TestJoinErrors(t *testing.T) {
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	wrongPath := strings.Replace(joinURL, "/calls/", "/gone/", 1)
	_, _, err := joinLogged(t, ctx, wrongPath)
	if !IsNotFound(err) || statusOf(err) != 404 {
		t.Errorf("404 handshake: %v", err)
	}

	if err == nil || err.Error() != "join call: not found (404): no such call (or its join URL expired)" {
		t.Errorf("404 text: %v", err)
	}
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		http.Error(w, "call ended", code)
	}))
	defer gone.Close()
	_, _, errGone := joinLogged(t, ctx, "ws"+strings.TrimPrefix(gone.URL, "http")+"/calls/"+joinSecret+"?code=410")
	if !IsNotActive(errGone) || !strings.Contains(errGone.Error(), "already ended") {
		t.Errorf("410: %v", errGone)
	}
	_, _, errTaken := joinLogged(t, ctx, "ws"+strings.TrimPrefix(gone.URL, "http")+"/calls/"+joinSecret+"?code=409")
	if !IsNotActive(errTaken) || !strings.Contains(errTaken.Error(), "another client") {
		t.Errorf("409: %v", errTaken)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, _, err2 := joinLogged(t, ctx, "ws://"+addr+"/calls/"+joinSecret+"/server_web_socket")
	if !isNetwork(err2) {
		t.Errorf("refused: %v", err2)
	}

	_, _, err3 := joinLogged(t, ctx, "ws://voice.example.com/calls/"+joinSecret)
	if err3 == nil || !strings.Contains(err3.Error(), "unencrypted") {
		t.Errorf("plain ws to a remote host: %v", err3)
	}
	_, _, err4 := joinLogged(t, ctx, "ftp://voice.example.com/calls/"+joinSecret)
	if err4 == nil || !strings.Contains(err4.Error(), "must be a wss:// URL") {
		t.Errorf("ftp: %v", err4)
	}
	_, _, err5 := joinLogged(t, ctx, "::not a url "+joinSecret)
	if err5 == nil {
		t.Error("garbage URL accepted")
	}

	short, cancelShort := context.WithCancel(ctx)
	cancelShort()
	_, _, err6 := joinLogged(t, short, joinURL)
	if !IsCanceled(err6) {
		t.Errorf("canceled join: %v", err6)
	}
	for _, e := range []error{err, err2, err3, err4, err5, err6, errGone, errTaken} {
		if e == nil {
			continue
		}
		if s := printAll(e); strings.Contains(s, joinSecret) {
			t.Errorf("join error shows the joinUrl secret: %s", s)
		}
		if !strings.HasPrefix(e.Error(), "join call: ") {
			t.Errorf("join error %q does not say what failed", e)
		}
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"wss://voice.ultravox.ai/calls/4c5b0f2e-8d1a-4e61-9b1c-2b8f9e0d7a11/server_web_socket?apiVersion=1&clientVersion=ultravox-tray_1.0&token=abc": "wss://voice.ultravox.ai/calls/4c5b…/serv…?apiVersion=1&clientVersion=ultravox-tray_1.0&token=…",
		"https://user:pw@api.ultravox.ai/api/calls": "https://api.ultravox.ai/api/calls",
		"nonsense":    "(unparsable URL)",
		"wss://h/a/b": "wss://h/a/b",
	}
	for in, want := range cases {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSendAudioNeverBlocks: against a server that stops reading, SendAudio
// keeps returning quickly (dropping frames with ErrAudioBacklog once the
// queue and the connection's buffers are full), and Close still ends
// everything.
func TestSendAudioNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		<-release // never read
	})
	defer close(release)
	s, err := Join(context.Background(), joinURL, JoinOptions{AudioQueue: 2, AudioQueueWait: 10 * time.Millisecond, WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 256<<10)
	backlog := false
	var slowest time.Duration
	for i := 0; i < 400 && !backlog; i++ {
		start := time.Now()
		err := s.SendAudio(frame)
		slowest = max(slowest, time.Since(start))
		switch {
		case errors.Is(err, ErrAudioBacklog):
			backlog = true
		case err != nil && !errors.Is(err, ErrSocketClosed):
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if !backlog {
		t.Fatal("100 MB queued against a server that never reads, and no backlog was reported")
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("SendAudio blocked for %v", slowest)
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a stuck writer", d)
	}
	t.Logf("slowest SendAudio %v; Close with a stuck writer took %v", slowest, time.Since(start))
}

// TestJoinContextOnlyBoundsTheHandshake: a call lasts far longer than the
// context used to join it.
func TestJoinContextOnlyBoundsTheHandshake(t *testing.T) {
	joinURL := wsServer(t, func(c *websocket.Conn, r *http.Request) {
		for {
			_, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			var m map[string]any
			json.Unmarshal(data, &m)
			b, _ := json.Marshal(map[string]any{"type": "pong", "timestamp": m["timestamp"]})
			c.Write(r.Context(), websocket.MessageText, b)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	s, _, err := joinLogged(t, ctx, joinURL)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	time.Sleep(50 * time.Millisecond)
	if err := s.Ping(); err != nil {
		t.Fatalf("ping after the join context ended: %v", err)
	}
	next, cancelNext := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelNext()
	if it, err := s.Next(next); err != nil {
		t.Fatalf("socket died with its join context: %v", err)
	} else if _, ok := it.(Pong); !ok {
		t.Fatalf("got %#v", it)
	}
}
