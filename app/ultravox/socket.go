package ultravox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// JoinOptions configure Join.
type JoinOptions struct {
	// Version goes into clientVersion=ultravox-tray_<version>. Default "dev".
	Version string
	// Logger receives debug records; it never sees the joinUrl in full.
	Logger *slog.Logger
	// HTTPClient for the handshake (default http.DefaultClient).
	HTTPClient *http.Client
	// WriteTimeout bounds one frame write (default 5 s). SendAudio never
	// waits longer than AudioQueueWait.
	WriteTimeout time.Duration
	// AudioQueueWait is how long SendAudio waits for room in a full send
	// queue before dropping the frame with ErrAudioBacklog (default 20 ms).
	AudioQueueWait time.Duration
	// AudioQueue is the send queue length in frames (default 50, one second
	// of 20 ms frames).
	AudioQueue int
}

// Errors of the call socket.
var (
	// ErrSocketClosed: the socket is closed (by us, by the server, or lost).
	ErrSocketClosed = errors.New("ultravox: call socket closed")
	// ErrAudioBacklog: the send queue stayed full; the frame was dropped.
	ErrAudioBacklog = errors.New("ultravox: audio send queue full; frame dropped")
)

// CallSocket is a joined call over the serverWebSocket medium.
//
// Read incoming items with Next (one reader at a time). Sends may come from
// any goroutine; SendAudio is meant for one goroutine at 50 Hz and never
// blocks for more than JoinOptions.AudioQueueWait. Control messages (HangUp,
// Ping, SendText) jump ahead of queued audio and wait until they
// are written. Done is closed once the socket is closed and its goroutines
// have ended; CloseStatus then tells why.
type CallSocket struct {
	conn     *websocket.Conn
	raw      *rawConn
	log      *slog.Logger
	redacted string

	writeTimeout time.Duration
	queueWait    time.Duration

	in         chan Incoming
	audioQ     chan []byte
	ctrlQ      chan ctrlMsg
	closing    chan struct{} // closed by Close or when the reader ends
	done       chan struct{} // closed after both goroutines ended
	writerDone chan struct{}

	closeOnce sync.Once
	mu        sync.Mutex
	code      int
	reason    string
	err       error // nil for a normal end

	rtt atomic.Int64
	// writeFailed: a write failed; the connection is unusable.
	writeFailed atomic.Bool
	pingMu      sync.Mutex
	pending     map[float64]time.Time
	epoch       time.Time
}

type ctrlMsg struct {
	data []byte
	res  chan error
}

// Join opens the call socket for joinURL, adding apiVersion=1 and
// clientVersion=ultravox-tray_<version>. The joinUrl is a credential: errors
// and logs carry only RedactURL(joinURL). Plain ws:// is refused except for
// loopback hosts. ctx bounds only the handshake: the socket lives until
// Close, abort or the server ends it.
func Join(ctx context.Context, joinURL string, opts JoinOptions) (*CallSocket, error) {
	red := RedactURL(joinURL)
	full, err := joinRequestURL(joinURL, red, opts.Version)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc, raw := captureConn(opts.HTTPClient)
	conn, resp, err := websocket.Dial(ctx, full, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, dialError(ctx, err, resp, joinURL, full, red)
	}
	conn.SetReadLimit(32 << 20)
	s := newCallSocket(conn, raw, log, red, opts)
	log.Debug("ultravox call socket joined", "url", red)
	go s.writer()
	go s.reader()
	return s, nil
}

// joinError is a failed Join, named by the redacted URL only.
func joinError(red string, kind ErrorKind, status int, msg string, err error) *Error {
	return &Error{Op: "join call", Method: http.MethodGet, Path: red, Status: status, Kind: kind, Message: msg, Err: err}
}

// joinRequestURL checks the joinUrl (wss, or ws on loopback only) and adds
// the apiVersion and clientVersion the server expects.
func joinRequestURL(joinURL, red, version string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(joinURL))
	if err != nil || u.Host == "" {
		return "", joinError(red, KindInvalid, 0, "the joinUrl is not a URL", nil)
	}
	switch u.Scheme {
	case "wss", "https":
	case "ws", "http":
		if !isLoopback(u.Hostname()) {
			return "", joinError(red, KindInvalid, 0, "refusing an unencrypted joinUrl (ws://) for a non-loopback host", nil)
		}
	default:
		return "", joinError(red, KindInvalid, 0, "the joinUrl must be a wss:// URL", nil)
	}
	version = strings.TrimSpace(version)
	if version == "" {
		version = "dev"
	}
	q := u.Query()
	q.Set("apiVersion", "1")
	q.Set("clientVersion", "ultravox-tray_"+version)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// dialError turns a failed handshake into an *Error whose message never
// holds the join URL: cancellation, network, or what the status means.
func dialError(ctx context.Context, err error, resp *http.Response, joinURL, full, red string) *Error {
	status := 0
	if resp != nil {
		status = resp.StatusCode
		if resp.Body != nil {
			resp.Body.Close()
		}
	}
	msg := scrubURL(err.Error(), joinURL, full)
	if cerr := ctx.Err(); cerr != nil {
		kind := KindCanceled
		if errors.Is(cerr, context.DeadlineExceeded) {
			kind = KindTimeout
		}
		return joinError(red, kind, status, msg, cerr)
	}
	if status == 0 {
		return joinError(red, KindNetwork, 0, "", errors.New(msg))
	}
	kind := kindForStatus(status)
	switch status {
	case http.StatusNotFound:
		msg = "no such call (or its join URL expired)"
	case http.StatusGone:
		kind = KindNotActive
		msg = "the call has already ended"
	case http.StatusConflict:
		kind = KindNotActive
		msg = "the call is already joined by another client (one joiner per call)"
	default:
		if kind == KindUnknown {
			kind = KindRejected
		}
		msg = "the server refused the websocket handshake"
	}
	return joinError(red, kind, status, msg, nil)
}

// newCallSocket wraps a joined connection, applying the option defaults.
func newCallSocket(conn *websocket.Conn, raw *rawConn, log *slog.Logger, red string, opts JoinOptions) *CallSocket {
	s := &CallSocket{
		conn:         conn,
		raw:          raw,
		log:          log,
		redacted:     red,
		writeTimeout: opts.WriteTimeout,
		queueWait:    opts.AudioQueueWait,
		in:           make(chan Incoming, 256),
		ctrlQ:        make(chan ctrlMsg, 16),
		closing:      make(chan struct{}),
		done:         make(chan struct{}),
		writerDone:   make(chan struct{}),
		pending:      map[float64]time.Time{},
		epoch:        time.Now(),
	}
	if s.writeTimeout <= 0 {
		s.writeTimeout = 5 * time.Second
	}
	if s.queueWait <= 0 {
		s.queueWait = 20 * time.Millisecond
	}
	qn := opts.AudioQueue
	if qn <= 0 {
		qn = 50
	}
	s.audioQ = make(chan []byte, qn)
	return s
}

func (s *CallSocket) reader() {
	var endErr error
	code, reason := 0, ""
	for {
		typ, data, err := s.conn.Read(context.Background())
		if err != nil {
			var ce websocket.CloseError
			switch {
			case errors.As(err, &ce):
				code, reason = int(ce.Code), ce.Reason
				if ce.Code != websocket.StatusNormalClosure {
					endErr = &CloseError{Code: code, Reason: reason}
				}
			default:
				select {
				case <-s.closing: // we closed it
					code, reason = int(websocket.StatusNormalClosure), "closed by client"
				default:
					code, reason = int(websocket.StatusAbnormalClosure), "connection lost"
					endErr = fmt.Errorf("ultravox: call socket lost: %s", scrubURL(err.Error()))
				}
			}
			break
		}
		var item Incoming
		if typ == websocket.MessageBinary {
			item = Audio(data)
		} else {
			item = s.decode(data)
		}
		select {
		case s.in <- item:
		case <-s.closing:
		}
	}
	s.mu.Lock()
	if s.code == 0 {
		s.code, s.reason, s.err = code, reason, endErr
	}
	s.mu.Unlock()
	s.log.Debug("ultravox call socket ended", "url", s.redacted, "code", code, "reason", reason)
	s.closeOnce.Do(func() { close(s.closing) })
	s.conn.CloseNow()
	<-s.writerDone
	close(s.in)
	close(s.done)
}

func (s *CallSocket) writer() {
	defer close(s.writerDone)
	for {
		// Control messages first.
		select {
		case m := <-s.ctrlQ:
			m.res <- s.write(websocket.MessageText, m.data)
			continue
		default:
		}
		select {
		case m := <-s.ctrlQ:
			m.res <- s.write(websocket.MessageText, m.data)
		case pcm := <-s.audioQ:
			if err := s.write(websocket.MessageBinary, pcm); err != nil {
				s.log.Debug("ultravox call socket: audio write failed", "err", err)
			}
		case <-s.closing:
			// Fail waiting control messages.
			for {
				select {
				case m := <-s.ctrlQ:
					m.res <- ErrSocketClosed
				default:
					return
				}
			}
		}
	}
}

func (s *CallSocket) write(typ websocket.MessageType, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout)
	defer cancel()
	err := s.conn.Write(ctx, typ, data)
	if err != nil {
		s.writeFailed.Store(true)
		select {
		case <-s.closing:
			return ErrSocketClosed
		default:
		}
		return fmt.Errorf("ultravox: call socket write failed: %s", scrubURL(err.Error()))
	}
	return nil
}

// Next returns the next incoming item. After the socket ends it returns
// io.EOF for a normal end (close code 1000, or our own Close or abort) and
// the end's error otherwise (*CloseError for other close codes).
func (s *CallSocket) Next(ctx context.Context) (Incoming, error) {
	select {
	case it, ok := <-s.in:
		if ok {
			return it, nil
		}
		if err := s.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SendAudio queues one frame of s16le mono PCM at the call's
// inputSampleRate (20 ms frames, one second of audio per second). pcm is
// copied. It waits at most AudioQueueWait for room, then drops the frame
// and returns ErrAudioBacklog.
func (s *CallSocket) SendAudio(pcm []byte) error {
	if len(pcm) == 0 {
		return nil
	}
	if len(pcm)%2 != 0 {
		return fmt.Errorf("ultravox: audio frame of %d bytes is not whole 16-bit samples", len(pcm))
	}
	select {
	case <-s.closing:
		return ErrSocketClosed
	default:
	}
	buf := append([]byte(nil), pcm...)
	select {
	case s.audioQ <- buf:
		return nil
	default:
	}
	t := time.NewTimer(s.queueWait)
	defer t.Stop()
	select {
	case s.audioQ <- buf:
		return nil
	case <-s.closing:
		return ErrSocketClosed
	case <-t.C:
		return ErrAudioBacklog
	}
}

// sendJSON sends v as a text data message and waits until it is written (at
// most about twice the write timeout).
func (s *CallSocket) sendJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ultravox: cannot encode data message: %w", err)
	}
	m := ctrlMsg{data: b, res: make(chan error, 1)}
	t := time.NewTimer(s.writeTimeout)
	defer t.Stop()
	select {
	case s.ctrlQ <- m:
	case <-s.closing:
		return ErrSocketClosed
	case <-t.C:
		return errors.New("ultravox: call socket send queue stuck")
	}
	select {
	case err := <-m.res:
		return err
	case <-s.writerDone:
		select {
		case err := <-m.res:
			return err
		default:
			return ErrSocketClosed
		}
	}
}

// HangUp asks the server to end the call ({"type":"hang_up"}); the server
// then closes the socket.
func (s *CallSocket) HangUp(message string) error {
	return s.sendJSON(map[string]string{"type": "hang_up", "message": message})
}

// SendText sends a user text message ({"type":"user_text_message"}).
func (s *CallSocket) SendText(text string) error {
	return s.sendJSON(map[string]string{"type": "user_text_message", "text": text})
}

// Ping sends {"type":"ping","timestamp":t}; the matching pong updates RTT.
func (s *CallSocket) Ping() error {
	// Seconds since join, millisecond resolution: exact in a float64 and
	// echoed back unchanged by the server.
	ts := float64(time.Since(s.epoch).Milliseconds()) / 1000
	s.pingMu.Lock()
	for len(s.pending) >= 64 { // forget pings that never got a pong
		for k := range s.pending {
			delete(s.pending, k)
			break
		}
	}
	s.pending[ts] = time.Now()
	s.pingMu.Unlock()
	return s.sendJSON(map[string]any{"type": "ping", "timestamp": ts})
}

func (s *CallSocket) pong(ts float64) {
	s.pingMu.Lock()
	sent, ok := s.pending[ts]
	delete(s.pending, ts)
	s.pingMu.Unlock()
	if ok {
		s.rtt.Store(int64(time.Since(sent)))
	}
}

// RTT is the round-trip time of the latest answered Ping, 0 before one.
func (s *CallSocket) RTT() time.Duration { return time.Duration(s.rtt.Load()) }

// Close closes the socket with code 1000 (for the server this is the client
// hanging up) and waits for the socket's goroutines to end. The close
// handshake waits for the peer at most a second, then the connection is
// dropped; after a failed write it is dropped at once. It returns nil for a normal end. Safe to call more than once.
func (s *CallSocket) Close() error {
	s.shutdown(false)
	<-s.done
	return s.Err()
}

// abort drops the connection at once, without a close handshake (the server
// ends the call as a hangup all the same), and waits for the socket's
// goroutines to end. For quitting when every second counts.
func (s *CallSocket) abort() error {
	s.shutdown(true)
	<-s.done
	return s.Err()
}

// closeGrace bounds the polite close handshake; after it the connection is
// dropped.
const closeGrace = time.Second

func (s *CallSocket) shutdown(now bool) {
	first := false
	s.closeOnce.Do(func() {
		first = true
		s.mu.Lock()
		if s.code == 0 {
			s.code, s.reason = int(websocket.StatusNormalClosure), "closed by client"
		}
		s.mu.Unlock()
		close(s.closing)
	})
	if !first {
		return
	}
	if now || s.writeFailed.Load() {
		s.raw.close()
		s.conn.CloseNow()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.conn.Close(websocket.StatusNormalClosure, "")
	}()
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		// The peer does not answer the handshake: drop the connection,
		// which ends the handshake at once.
		s.raw.close()
		<-done
	}
}

// Done is closed once the socket has ended and its goroutines are gone.
func (s *CallSocket) Done() <-chan struct{} { return s.done }

// CloseStatus is the close code and reason once the socket ended: the
// server's close frame, 1000 "closed by client" after Close, or 1006
// "connection lost" when the connection dropped. (0, "") while open.
func (s *CallSocket) CloseStatus() (code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.reason
}

// Err is nil while open and after a normal end (1000, our Close or abort);
// otherwise why the socket ended.
func (s *CallSocket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// CloseError is a socket ended by the server with a failure code (1008,
// 4000 and up, ...).
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return "ultravox: call socket closed by the server with code " + strconv.Itoa(e.Code)
	}
	return "ultravox: call socket closed by the server with code " + strconv.Itoa(e.Code) + ": " + e.Reason
}
