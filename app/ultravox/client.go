package ultravox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults.
const (
	DefaultBaseURL        = "https://api.ultravox.ai"
	DefaultRequestTimeout = 10 * time.Second
	DefaultMaxRetries     = 3
	// EnvBaseURL overrides the base URL (see BaseURLFromEnv).
	EnvBaseURL = "ULTRAVOX_API_URL"

	// maxRetryAfter caps how long one wait honouring Retry-After lasts.
	maxRetryAfter = 30 * time.Second
	// maxBody bounds how much of a response is read.
	maxBody = 16 << 20
	// lookupSkew widens the fromDate of a create's recovery lookup to
	// tolerate clock skew between us and the server.
	lookupSkew = 10 * time.Minute
)

// BaseURLFromEnv is $ULTRAVOX_API_URL, or DefaultBaseURL when unset.
func BaseURLFromEnv() string {
	if v := strings.TrimSpace(os.Getenv(EnvBaseURL)); v != "" {
		return v
	}
	return DefaultBaseURL
}

// Options configure a Client. The zero value of every field but APIKey is a
// sensible default. Options format themselves with the key redacted, but do
// not keep Options in your own structs: print the Client instead.
type Options struct {
	// BaseURL defaults to https://api.ultravox.ai. A trailing "/api" is
	// dropped. Plain http is refused unless the host is a loopback address.
	BaseURL string
	// APIKey is sent as X-API-Key and nowhere else. Required.
	APIKey string
	// Version goes into User-Agent: ultravox-tray/<version>. Default "dev".
	Version string
	// HTTPClient is copied (its redirect policy is replaced: the client never
	// follows redirects, so the key never reaches another host). Default: a
	// new client with a clone of http.DefaultTransport.
	HTTPClient *http.Client
	// RequestTimeout bounds every attempt, body included. Default 10 s.
	RequestTimeout time.Duration
	// MaxRetries is how many times a retryable request is tried again.
	// 0 means DefaultMaxRetries (3); negative means never retry.
	MaxRetries int
	// Logger receives debug records of requests and retries. Default: none.
	Logger *slog.Logger
}

func (o Options) redacted() string {
	return fmt.Sprintf("ultravox.Options{BaseURL:%q APIKey:%q Version:%q RequestTimeout:%s MaxRetries:%d}",
		o.BaseURL, redactKey(o.APIKey), o.Version, o.RequestTimeout, o.MaxRetries)
}

// String shows the options with the key reduced to its prefix.
func (o Options) String() string { return o.redacted() }

// GoString is String (for %#v).
func (o Options) GoString() string { return o.redacted() }

// Format makes every verb (%v, %+v, %#v, %s, %q) print the redacted form.
func (o Options) Format(f fmt.State, verb rune) { io.WriteString(f, o.redacted()) }

// LogValue keeps the key out of slog records.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.redacted()) }

// redactKey shows at most the key's 8-character prefix.
func redactKey(k string) string {
	if k == "" {
		return ""
	}
	if p := keyPrefix(k); p != "" {
		return p + "…(redacted)"
	}
	return "(redacted)"
}

// keyPrefix is the part of an Ultravox key before the dot (at most 8
// characters). A key without a dot shows its first 8 characters only when it
// is at least 32 long, so a short key is never mostly revealed.
func keyPrefix(k string) string {
	if i := strings.IndexByte(k, '.'); i > 0 {
		if i > 8 {
			i = 8
		}
		return k[:i]
	}
	if len(k) >= 32 {
		return k[:8]
	}
	return ""
}

// secret holds the key behind a pointer so that reflection-based printing of
// any struct holding a Client shows an address, not the key.
type secret struct{ v string }

// Client talks to the Ultravox REST API. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	key        *secret
	version    string
	userAgent  string
	hc         *http.Client
	timeout    time.Duration
	maxRetries int
	log        *slog.Logger

	// Retry pacing (tests shorten these).
	backoffBase   time.Duration
	backoffMax    time.Duration
	retryAfterCap time.Duration
	now           func() time.Time

	odd *oddFields // fields already logged as unreadable (tolerant.go)
}

// NewClient checks opts and makes a Client.
func NewClient(opts Options) (*Client, error) {
	key := strings.TrimSpace(opts.APIKey)
	if key == "" {
		return nil, errors.New("ultravox: no API key: set one in the keychain or ULTRAVOX_API_KEY")
	}
	for _, r := range key {
		if r <= ' ' || r >= 0x7f {
			return nil, errors.New("ultravox: the API key contains spaces, control or non-ASCII characters; paste the key again (it looks like 8 letters or digits, a dot, then 32 more)")
		}
	}
	raw := opts.BaseURL
	if strings.TrimSpace(raw) == "" {
		raw = DefaultBaseURL
	}
	base, err := parseBaseURL(raw)
	if err != nil {
		return nil, err
	}
	version := strings.TrimSpace(opts.Version)
	if version == "" {
		version = "dev"
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Keep up to 4 connections warm (Go keeps 2): a poll makes 3
		// requests at once, and ending a call needs 2 without a new
		// connection's handshake (a round trip or more).
		tr.MaxIdleConnsPerHost = 4
		hc.Transport = tr
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	timeout := opts.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	retries := opts.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	} else if retries < 0 {
		retries = 0
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		base:          base,
		key:           &secret{key},
		odd:           &oddFields{},
		version:       version,
		userAgent:     "ultravox-tray/" + version,
		hc:            &hc,
		timeout:       timeout,
		maxRetries:    retries,
		log:           log,
		backoffBase:   250 * time.Millisecond,
		backoffMax:    5 * time.Second,
		retryAfterCap: maxRetryAfter,
		now:           time.Now,
	}, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("ultravox: base URL %q is not a URL: %v", clip(raw, 80), err)
	}
	if u.User != nil {
		return nil, errors.New("ultravox: the base URL must not contain a user name or password")
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("ultravox: base URL %q must look like https://api.ultravox.ai", clip(raw, 80))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("ultravox: refusing plain http base URL %q: the API key would travel unencrypted; use https (plain http is allowed only for loopback hosts such as 127.0.0.1)", clip(raw, 80))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ultravox: base URL %q must not have a query or fragment", clip(raw, 80))
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api")
	u.Path = p
	u.RawPath = ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL is the API's base URL in use.
func (c *Client) BaseURL() string { return c.base.String() }

// Version is the version sent in User-Agent.
func (c *Client) Version() string { return c.version }

func (c *Client) describe() string {
	return fmt.Sprintf("ultravox.Client{BaseURL:%q APIKey:%q UserAgent:%q}", c.base.String(), redactKey(c.key.v), c.userAgent)
}

// String describes the client with the key reduced to its prefix.
func (c *Client) String() string { return c.describe() }

// GoString is String (for %#v).
func (c *Client) GoString() string { return c.describe() }

// Format makes every verb print the redacted description.
func (c *Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.describe()) }

// LogValue keeps the key out of slog records.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.describe()) }

// retryPolicy says which failures a request may be sent again after.
type retryPolicy int

const (
	// retryIdempotent: GET and DELETE: network errors, timeouts, 5xx, 429.
	retryIdempotent retryPolicy = iota
	// retryHangUp: hang_up is idempotent in effect: network errors,
	// timeouts, 429, 503.
	retryHangUp
	// retryUnsent: 429/503, and network errors before the request was sent.
	retryUnsent
)

type request struct {
	op     string
	method string
	path   string // starts with /api/
	query  url.Values
	body   any // JSON-encoded when non-nil
	out    any // decoded from a 2xx answer when non-nil
	policy retryPolicy
	// notActive422 maps 422 to KindNotActive (data messages).
	notActive422 bool
	// goneIsDone: a 404 on a retry means an earlier attempt succeeded.
	goneIsDone bool
}

// do runs r with retries as its policy allows.
func (c *Client) do(ctx context.Context, r request) error {
	body, err := c.encode(r)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		wrote, e := c.once(ctx, r, body)
		if e == nil {
			return nil
		}
		if r.goneIsDone && attempt > 0 && e.Kind == KindNotFound {
			return nil
		}
		if attempt >= c.maxRetries || !retryable(r.policy, e, wrote) {
			return e
		}
		wait := c.backoff(attempt, e.RetryAfter)
		c.log.Debug("ultravox request failed; retrying", "op", r.op, "attempt", attempt+1, "status", e.Status, "kind", e.Kind.String(), "wait", wait)
		if !c.sleep(ctx, wait) {
			return e
		}
	}
}

func retryable(p retryPolicy, e *Error, wrote bool) bool {
	switch e.Kind {
	case KindCanceled, KindInvalid:
		return false
	case KindRateLimited:
		return true
	}
	switch p {
	case retryIdempotent:
		return e.Kind == KindNetwork || e.Kind == KindTimeout || e.Kind == KindServer
	case retryHangUp:
		return e.Kind == KindNetwork || e.Kind == KindTimeout
	case retryUnsent:
		return !wrote && (e.Kind == KindNetwork || e.Kind == KindTimeout)
	}
	return false
}

// backoff is the wait before retry number attempt+1: the server's
// Retry-After (capped) when given, else jittered exponential backoff.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, c.retryAfterCap)
	}
	d := c.backoffBase << min(attempt, 16)
	if d <= 0 || d > c.backoffMax {
		d = c.backoffMax
	}
	// Jitter in [d/2, d].
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// sleep waits d; false when ctx ends first or its deadline leaves no room.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *Client) encode(r request) ([]byte, error) {
	if r.body == nil {
		return nil, nil
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		return nil, &Error{Op: r.op, Method: r.method, Path: r.path, Kind: KindInvalid, Err: fmt.Errorf("cannot encode the request body: %w", err)}
	}
	return b, nil
}

// once sends r one time. wrote reports whether the request was fully
// written to the connection (after that, a failure is ambiguous).
func (c *Client) once(ctx context.Context, r request, body []byte) (wrote bool, _ *Error) {
	if err := ctx.Err(); err != nil {
		return false, c.ctxError(r, ctx, err)
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, written, err := c.newRequest(actx, r, body)
	if err != nil {
		return false, c.fail(r, KindInvalid, 0, "", err)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return written.Load(), c.transportError(r, ctx, actx, err)
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	c.log.Debug("ultravox request", "op", r.op, "method", r.method, "path", r.path, "status", resp.StatusCode, "elapsed", time.Since(start).Round(time.Millisecond))
	if rerr != nil {
		return true, c.transportError(r, ctx, actx, rerr)
	}
	if len(data) > maxBody {
		return true, c.fail(r, KindMalformed, resp.StatusCode, "", fmt.Errorf("answer larger than %d MB", maxBody>>20))
	}
	if st := resp.StatusCode; st < 200 || st > 299 {
		return true, c.statusError(r, resp, data)
	}
	return true, c.decodeAnswer(r, resp, data)
}

// fail is an *Error for request r whose message is scrubbed of the key.
func (c *Client) fail(r request, kind ErrorKind, status int, msg string, err error) *Error {
	return &Error{Op: r.op, Method: r.method, Path: r.path, Status: status, Kind: kind, Message: c.scrub(msg), Err: err}
}

// newRequest builds the HTTP request for r with our headers; written turns
// true once the request went out, which decides whether a retry is safe.
func (c *Client) newRequest(ctx context.Context, r request, body []byte) (_ *http.Request, written *atomic.Bool, _ error) {
	u := *c.base
	u.Path = c.base.Path + r.path
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	written = &atomic.Bool{}
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			written.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.method, u.String(), rd)
	if err != nil {
		return nil, written, err
	}
	req.Header.Set("X-API-Key", c.key.v)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, written, nil
}

// statusError is the *Error for a non-2xx answer, with Retry-After when the
// server is busy.
func (c *Client) statusError(r request, resp *http.Response, data []byte) *Error {
	st := resp.StatusCode
	kind := kindForStatus(st)
	if st == http.StatusUnprocessableEntity && r.notActive422 {
		kind = KindNotActive
	}
	if st == http.StatusForbidden && !(r.method == http.MethodGet && r.path == accountPath) {
		// Only the account check speaks for the key: elsewhere a 403 is a
		// refusal of this request (a plan or feature limit), not a bad key.
		kind = KindRejected
	}
	e := c.fail(r, kind, st, errorMessage(data), nil)
	if st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	if st >= 300 && st < 400 {
		e.Message = "the API answered with a redirect, which this client never follows"
	}
	return e
}

// decodeAnswer fills r.out from a 2xx answer, which must be JSON when r
// expects a body.
func (c *Client) decodeAnswer(r request, resp *http.Response, data []byte) *Error {
	if r.out == nil {
		return nil
	}
	st := resp.StatusCode
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return c.fail(r, KindMalformed, st, "expected JSON, got "+clip(ct, 60)+": "+clip(collapseSpace(string(data)), 80), nil)
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return c.fail(r, KindMalformed, st, "empty body where JSON was expected", nil)
	}
	dropped, err := unmarshalTolerant(data, r.out) // tolerant.go
	if err != nil {
		return c.fail(r, KindMalformed, st, "invalid JSON ("+jsonErrorText(err)+"): "+clip(collapseSpace(string(data)), 80), nil)
	}
	c.logOdd(r.op, dropped)
	return nil
}

func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %s: %s where %s was expected", te.Field, te.Value, te.Type)
		}
		return fmt.Sprintf("%s where %s was expected", te.Value, te.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// scrub removes the key from text that came from the server (a broken proxy
// might echo headers).
func (c *Client) scrub(s string) string {
	if s == "" || c.key.v == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key.v, redactKey(c.key.v))
}

func (c *Client) ctxError(r request, ctx context.Context, err error) *Error {
	kind := KindCanceled
	msg := ""
	if errors.Is(err, context.DeadlineExceeded) {
		kind = KindTimeout
		msg = "the caller's deadline passed"
	}
	return &Error{Op: r.op, Method: r.method, Path: r.path, Kind: kind, Message: msg, Err: context.Cause(ctx)}
}

func (c *Client) transportError(r request, parent, attempt context.Context, err error) *Error {
	if perr := parent.Err(); perr != nil {
		return c.ctxError(r, parent, perr)
	}
	// Strip *url.Error: its text repeats the method and URL.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if attempt.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: r.op, Method: r.method, Path: r.path, Kind: KindTimeout,
			Message: "no answer within " + c.timeout.String(), Err: context.DeadlineExceeded}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{Op: r.op, Method: r.method, Path: r.path, Kind: KindTimeout, Err: err}
	}
	return &Error{Op: r.op, Method: r.method, Path: r.path, Kind: KindNetwork, Err: err}
}

// shortID shortens an id for an operation name: "1a2b3c4d…".
func shortID(id string) string {
	if len(id) <= 9 {
		return id
	}
	return id[:8] + "…"
}

func invalid(op, format string, args ...any) *Error {
	return &Error{Op: op, Kind: KindInvalid, Err: fmt.Errorf(format, args...)}
}
