package ultravox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const callID = "12345678-aaaa-bbbb-cccc-1234567890ab"

func TestNewClientValidation(t *testing.T) {
	bad := []struct {
		opts Options
		want string
	}{
		{Options{}, "no API key"},
		{Options{APIKey: "   "}, "no API key"},
		{Options{APIKey: "abc def"}, "contains spaces"},
		{Options{APIKey: "abc\ndef"}, "control"},
		{Options{APIKey: testKey, BaseURL: "http://api.example.com"}, "refusing plain http"},
		{Options{APIKey: testKey, BaseURL: "http://10.0.0.1:8080"}, "refusing plain http"},
		{Options{APIKey: testKey, BaseURL: "ftp://api.example.com"}, "must look like https://"},
		{Options{APIKey: testKey, BaseURL: "api.example.com"}, "must look like https://"},
		{Options{APIKey: testKey, BaseURL: "https://u:p@api.example.com"}, "user name or password"},
		{Options{APIKey: testKey, BaseURL: "https://api.example.com/?x=1"}, "query"},
	}
	for _, b := range bad {
		_, err := NewClient(b.opts)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("NewClient(%v) error = %v, want it to say %q", b.opts, err, b.want)
			continue
		}
		assertNoKey(t, "NewClient error", err.Error())
	}
	good := map[string]string{
		"":                              "https://api.ultravox.ai",
		"https://api.ultravox.ai/":      "https://api.ultravox.ai",
		"https://api.ultravox.ai/api/":  "https://api.ultravox.ai",
		"http://127.0.0.1:8123":         "http://127.0.0.1:8123",
		"http://localhost:9/prefix/api": "http://localhost:9/prefix",
		"http://[::1]:8080":             "http://[::1]:8080",
	}
	for in, want := range good {
		c, err := NewClient(Options{APIKey: testKey, BaseURL: in})
		if err != nil {
			t.Errorf("NewClient(BaseURL %q): %v", in, err)
			continue
		}
		if c.BaseURL() != want {
			t.Errorf("BaseURL %q -> %q, want %q", in, c.BaseURL(), want)
		}
	}
	t.Setenv(EnvBaseURL, "http://127.0.0.1:4321")
	if BaseURLFromEnv() != "http://127.0.0.1:4321" {
		t.Errorf("BaseURLFromEnv = %q", BaseURLFromEnv())
	}
	t.Setenv(EnvBaseURL, "")
	if BaseURLFromEnv() != DefaultBaseURL {
		t.Errorf("BaseURLFromEnv with it unset = %q", BaseURLFromEnv())
	}
}

func TestKeyPrefix(t *testing.T) {
	cases := map[string]string{
		testKey:                 "Zq7Kx2Lm",
		"abcdefghijkl.rest":     "abcdefgh",
		"short":                 "",
		"ab.cdefghijklmnopqrst": "ab",
		strings.Repeat("x", 40): "xxxxxxxx",
	}
	for key, want := range cases {
		c, err := NewClient(Options{APIKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if got := keyPrefix(c.key.v); got != want {
			t.Errorf("KeyPrefix(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestHeadersAndAccount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != testKey || r.Header.Get("User-Agent") != "ultravox-tray/1.2.3" ||
			r.Header.Get("Accept") != "application/json" || r.URL.Path != "/api/accounts/me" {
			writeJSON(w, 400, map[string]string{"detail": fmt.Sprintf("bad request: ua=%q path=%q", r.Header.Get("User-Agent"), r.URL.Path)})
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"accountId":"0b0e6b3c-1111-2222-3333-444455556666","name":"Ada","billingUrl":"https://b",
			"freeTimeUsed":"120s","freeTimeRemaining":"1680.5s","hasActiveSubscription":false,
			"subscriptionTier":null,"subscriptionCadence":null,"subscriptionExpiration":null,
			"subscriptionScheduledUpdate":null,"subscriptionRenewal":"2026-12-01T00:00:00Z",
			"activeCalls":2,"allowedConcurrentCalls":5,"allowedVoices":null,"allowedCorpora":1,"newField":{"x":1}}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	a, err := c.GetAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Ada" || a.ActiveCalls != 2 || a.AllowedConcurrentCalls == nil || *a.AllowedConcurrentCalls != 5 ||
		a.FreeTimeRemaining.Std() != 1680500*time.Millisecond || a.FreeTimeUsed != Seconds(120) ||
		a.SubscriptionTier != nil || a.SubscriptionRenewal == nil || a.AllowedVoices != nil {
		t.Fatalf("account decoded wrong: %+v", a)
	}
}

func TestErrorShapes(t *testing.T) {
	long := "<html><body>" + strings.Repeat("Bad gateway from the proxy. ", 30) + "</body></html>"
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name        string
		status      int
		ctype       string
		body        string
		retryAfter  string
		is          func(error) bool
		wantText    string // exact Error() when set
		wantMessage string
		wantRetry   time.Duration
	}{
		{name: "401 detail", status: 401, body: `{"detail":"Invalid API key"}`, is: IsUnauthorized,
			wantText: "get call 12345678…: API key rejected (401): Invalid API key"},
		// A 403 other than on the account check is a refusal of the request
		// (a plan or feature limit), not a bad key (TestForbiddenMeansKeyOnlyOnAccount).
		{name: "403", status: 403, body: `{"detail":"You do not have permission to perform this action."}`, is: func(err error) bool { k, _ := kindOf(err); return k == KindRejected },
			wantText: "get call 12345678…: request rejected (403): You do not have permission to perform this action."},
		{name: "404", status: 404, body: `{"detail":"Not found."}`, is: IsNotFound,
			wantText: "get call 12345678…: not found (404): Not found."},
		{name: "400 field errors", status: 400, body: `{"maxDuration":["Invalid duration."],"joinTimeout":"too long"}`,
			is: func(err error) bool { return statusOf(err) == 400 }, wantMessage: "joinTimeout: too long; maxDuration: Invalid duration."},
		{name: "400 non_field_errors", status: 400, body: `{"non_field_errors":["Only one medium may be set.","and another"]}`,
			is: func(err error) bool { return statusOf(err) == 400 }, wantMessage: "Only one medium may be set.; and another"},
		{name: "message shape", status: 409, body: `{"message":"Conflict here"}`,
			is: func(err error) bool { return statusOf(err) == 409 }, wantMessage: "Conflict here"},
		{name: "raw body truncated", status: 502, ctype: "text/html", body: long, is: isServerError},
		{name: "429 seconds", status: 429, body: `{"detail":"Request was throttled. Expected available in 2 seconds."}`,
			retryAfter: "2", is: IsRateLimited, wantRetry: 2 * time.Second,
			wantText: "get call 12345678…: rate limited (429): Request was throttled. Expected available in 2 seconds. (retry after 2s)"},
		{name: "503 http date", status: 503, body: `upstream unavailable`, retryAfter: date, is: IsRateLimited},
		{name: "500 empty", status: 500, body: ``, is: isServerError, wantText: "get call 12345678…: server error (500)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ct := tc.ctype
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = -1 })
			_, err := c.GetCall(context.Background(), callID)
			if err == nil {
				t.Fatal("no error")
			}
			if !tc.is(err) {
				t.Errorf("helper does not match %v", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Method != "GET" || e.Path != "/api/calls/"+callID {
				t.Fatalf("error fields wrong: %#v", e)
			}
			if tc.wantText != "" && err.Error() != tc.wantText {
				t.Errorf("Error() = %q\nwant      %q", err.Error(), tc.wantText)
			}
			if tc.wantMessage != "" && e.Message != tc.wantMessage {
				t.Errorf("Message = %q, want %q", e.Message, tc.wantMessage)
			}
			if tc.wantRetry != 0 && RetryAfter(err) != tc.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", RetryAfter(err), tc.wantRetry)
			}
			if tc.name == "503 http date" && (RetryAfter(err) < 80*time.Second || RetryAfter(err) > 91*time.Second) {
				t.Errorf("RetryAfter from an HTTP date = %v, want about 90s", RetryAfter(err))
			}
			if tc.name == "raw body truncated" {
				if n := len([]rune(e.Message)); n > 201 || !strings.HasPrefix(e.Message, "<html><body>Bad gateway") || !strings.HasSuffix(e.Message, "…") {
					t.Errorf("raw message not truncated to 200 chars (%d): %q", n, e.Message)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-1":                            0,
		"soon":                          0,
		"Sun, 22 Nov 2026 03:00:30 GMT": 30 * time.Second,
		"Sun, 22 Nov 2026 02:59:00 GMT": 0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// statusSequence answers GETs with the given statuses in turn (then 200 {}).
func statusSequence(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if statuses[i] == 429 || statuses[i] == 503 {
				w.Header().Set("Retry-After", "0.01")
			}
			writeJSON(w, statuses[i], map[string]string{"detail": "status " + strconv.Itoa(statuses[i])})
			return
		}
		writeJSON(w, 200, map[string]any{"callId": callID, "created": time.Now()})
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetries(t *testing.T) {
	t.Run("GET retried on 5xx and 429", func(t *testing.T) {
		srv, n := statusSequence(t, 502, 429, 500)
		c := newTestClient(t, srv.URL)
		call, err := c.GetCall(context.Background(), callID)
		if err != nil || call.CallID != callID || n.Load() != 4 {
			t.Fatalf("got %v %v after %d requests", call, err, n.Load())
		}
	})
	t.Run("retries exhausted", func(t *testing.T) {
		srv, n := statusSequence(t, 500, 500, 500, 500, 500)
		c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 2 })
		_, err := c.GetCall(context.Background(), callID)
		if !isServerError(err) || n.Load() != 3 {
			t.Fatalf("err %v after %d requests, want server error after 3", err, n.Load())
		}
	})
	t.Run("4xx not retried", func(t *testing.T) {
		srv, n := statusSequence(t, 400, 400)
		c := newTestClient(t, srv.URL)
		_, err := c.GetCall(context.Background(), callID)
		if statusOf(err) != 400 || n.Load() != 1 {
			t.Fatalf("err %v after %d requests", err, n.Load())
		}
	})
	t.Run("MaxRetries negative means none", func(t *testing.T) {
		srv, n := statusSequence(t, 503, 503)
		c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = -1 })
		_, err := c.GetCall(context.Background(), callID)
		if !IsRateLimited(err) || n.Load() != 1 {
			t.Fatalf("err %v after %d requests", err, n.Load())
		}
	})
	t.Run("Retry-After honoured", func(t *testing.T) {
		var n atomic.Int32
		var first time.Time
		var gap time.Duration
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				first = time.Now()
				w.Header().Set("Retry-After", "1")
				writeJSON(w, 429, map[string]string{"detail": "slow down"})
				return
			}
			gap = time.Since(first)
			writeJSON(w, 200, map[string]any{"accountId": "x", "activeCalls": 0})
		}))
		defer srv.Close()
		c := newTestClient(t, srv.URL)
		if _, err := c.GetAccount(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n.Load() != 2 || gap < 900*time.Millisecond {
			t.Fatalf("%d requests, second after %v; want it after Retry-After (1s)", n.Load(), gap)
		}
	})
	t.Run("Retry-After capped", func(t *testing.T) {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.Header().Set("Retry-After", "3600")
				writeJSON(w, 503, map[string]string{"detail": "maintenance"})
				return
			}
			writeJSON(w, 200, map[string]any{"accountId": "x"})
		}))
		defer srv.Close()
		c := newTestClient(t, srv.URL)
		c.retryAfterCap = 20 * time.Millisecond
		start := time.Now()
		if _, err := c.GetAccount(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("waited %v for a Retry-After of an hour; the cap is 20ms", d)
		}
	})
	t.Run("deadline shorter than Retry-After returns at once", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "20")
			writeJSON(w, 429, map[string]string{"detail": "Too many concurrent calls"})
		}))
		defer srv.Close()
		c := newTestClient(t, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.GetAccount(ctx)
		if !IsRateLimited(err) || RetryAfter(err) != 20*time.Second || time.Since(start) > time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
	})
}

func TestMalformedAnswers(t *testing.T) {
	cases := []struct {
		name, ctype, body, want string
	}{
		{"truncated JSON", "application/json", `{"callId": "x", "created":`, "invalid JSON"},
		{"HTML login page", "text/html; charset=utf-8", `<html>Please log in to the Wi-Fi</html>`, "expected JSON, got text/html"},
		{"empty body", "application/json", ``, "empty body"},
		{"wrong field type", "application/json", `{"callId": 12}`, "field callId"},
		{"bad duration", "application/json", `{"callId":"x","maxDuration":"forever"}`, `invalid duration "forever"`},
		{"bad time", "application/json", `{"callId":"x","joined":"yesterday"}`, "invalid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("Content-Type", tc.ctype)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL)
			_, err := c.GetCall(context.Background(), callID)
			if !IsMalformed(err) || !strings.Contains(err.Error(), tc.want) || statusOf(err) != 200 {
				t.Fatalf("err = %v, want a malformed-response error mentioning %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "get call 12345678…: malformed response (200): ") {
				t.Errorf("unclear message %q", err)
			}
			if n.Load() != 1 {
				t.Errorf("malformed answer retried: %d requests", n.Load())
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv.URL, func(o *Options) { o.RequestTimeout = 100 * time.Millisecond; o.MaxRetries = 2 })
	start := time.Now()
	_, err := c.GetCall(context.Background(), callID)
	if !IsTimeout(err) || isNetwork(err) || n.Load() != 3 {
		t.Fatalf("err %v after %d requests, want a timeout after 3 attempts", err, n.Load())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("timeouts took %v", d)
	}
	if want := "get call 12345678…: timed out: no answer within 100ms"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout does not wrap context.DeadlineExceeded")
	}

	// The caller's own deadline counts too, and is reported as a timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c2 := newTestClient(t, srv.URL)
	_, err = c2.GetAccount(ctx)
	if !IsTimeout(err) {
		t.Fatalf("caller deadline: %v", err)
	}

	// A canceled context is not retried and says so.
	ctx3, cancel3 := context.WithCancel(context.Background())
	cancel3()
	_, err = c2.GetAccount(ctx3)
	if !IsCanceled(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

func TestNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newTestClient(t, "http://"+addr)
	_, err = c.GetAccount(context.Background())
	if !isNetwork(err) || IsTimeout(err) {
		t.Fatalf("connection refused: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "get account: network error: ") || strings.Contains(err.Error(), "Get \"") {
		t.Errorf("unclear network error %q", err)
	}

	// A server that cuts every connection: GET is retried, then fails.
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); cut(w) }))
	defer srv.Close()
	c = newTestClient(t, srv.URL)
	_, err = c.GetCall(context.Background(), callID)
	if !isNetwork(err) || n.Load() != 4 {
		t.Fatalf("cut connections: %v after %d requests", err, n.Load())
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(true)
		writeJSON(w, 200, map[string]any{})
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/accounts/me", http.StatusFound)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	_, err := c.GetAccount(context.Background())
	if err == nil || statusOf(err) != 302 || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("redirect: %v", err)
	}
	if leaked.Load() {
		t.Fatal("the client followed a redirect to another host")
	}
}

// pagedServer serves n calls (newest first) in pages of size, with next
// links on a wrong host and scheme, as a proxy-confused server would.
func pagedServer(t *testing.T, n, size int, loop bool) (*httptest.Server, *atomic.Int32) {
	var reqs atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		q := r.URL.Query()
		if q.Get("sort") != "-created" {
			writeJSON(w, 400, map[string]string{"detail": "sort lost: " + r.URL.RawQuery})
			return
		}
		start, _ := strconv.Atoi(q.Get("cursor"))
		end := min(start+size, n)
		page := Page[Call]{Total: &n, Results: []Call{}}
		for i := start; i < end; i++ {
			page.Results = append(page.Results, Call{CallID: fmt.Sprintf("call-%03d", i)})
		}
		if end < n {
			next := "http://wrong-host.invalid/api/calls?cursor=" + strconv.Itoa(end) + "&pageSize=" + strconv.Itoa(size)
			if loop {
				next = "http://wrong-host.invalid/api/calls?cursor=0"
			}
			page.Next = &next
		}
		writeJSON(w, 200, page)
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

func TestPagination(t *testing.T) {
	srv, reqs := pagedServer(t, 250, 100, false)
	c := newTestClient(t, srv.URL)
	var got []string
	for call, err := range c.Calls(context.Background(), ListCallsParams{Sort: "-created", PageSize: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, call.CallID)
	}
	if len(got) != 250 || got[0] != "call-000" || got[249] != "call-249" || reqs.Load() != 3 {
		t.Fatalf("iterated %d calls in %d requests (first %v)", len(got), reqs.Load(), got[:min(3, len(got))])
	}
	for i, id := range got {
		if id != fmt.Sprintf("call-%03d", i) {
			t.Fatalf("call %d is %s", i, id)
		}
	}

	// One page at a time, by cursor.
	p, err := c.ListCalls(context.Background(), ListCallsParams{Sort: "-created", PageSize: 100})
	if err != nil || len(p.Results) != 100 || p.NextCursor() != "100" || p.Total == nil || *p.Total != 250 {
		t.Fatalf("first page: %v %v", p, err)
	}
	p, err = c.ListCalls(context.Background(), ListCallsParams{Sort: "-created", PageSize: 100, Cursor: p.NextCursor()})
	if err != nil || p.Results[0].CallID != "call-100" {
		t.Fatalf("second page: %v %v", p, err)
	}

	// Breaking out of the loop stops fetching.
	reqs.Store(0)
	for range c.Calls(context.Background(), ListCallsParams{Sort: "-created", PageSize: 100}) {
		break
	}
	if reqs.Load() != 1 {
		t.Fatalf("break after the first item still made %d requests", reqs.Load())
	}

	// A server whose next link never advances is caught.
	loopSrv, _ := pagedServer(t, 250, 100, true)
	c = newTestClient(t, loopSrv.URL)
	var lastErr error
	count := 0
	for _, err := range c.Calls(context.Background(), ListCallsParams{Sort: "-created"}) {
		if err != nil {
			lastErr = err
			break
		}
		count++
	}
	if !IsMalformed(lastErr) || !strings.Contains(lastErr.Error(), "pagination loop") || count > 200 {
		t.Fatalf("loop: %v after %d items", lastErr, count)
	}
}

func TestListAgentsAndMessagesFollowPages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cursor := r.URL.Query().Get("cursor")
		switch r.URL.Path {
		case "/api/agents":
			if cursor == "" {
				next := "https://api.ultravox.ai/api/agents?cursor=p2"
				writeJSON(w, 200, map[string]any{"next": next, "previous": nil, "results": []map[string]any{{"agentId": "a1", "name": "Alice", "created": "2026-01-01T00:00:00Z", "publishedRevisionId": nil, "statistics": map[string]int{"calls": 3}}}})
				return
			}
			writeJSON(w, 200, map[string]any{"next": nil, "results": []map[string]any{{"agentId": "a2", "name": "Bob", "callTemplate": map[string]any{"maxDuration": "240s", "medium": map[string]any{"serverWebSocket": map[string]any{"inputSampleRate": 48000}}}}}})
		case "/api/calls/" + callID + "/messages":
			if cursor == "" {
				next := "/api/calls/" + callID + "/messages?cursor=2"
				writeJSON(w, 200, map[string]any{"next": next, "results": []map[string]any{{"role": MessageRoleAgent, "text": "Hello", "medium": MessageMediumVoice}}})
				return
			}
			writeJSON(w, 200, map[string]any{"results": []map[string]any{{"role": MessageRoleUser, "text": "Hi", "timespan": map[string]string{"start": "1.5s", "end": "2s"}}}})
		default:
			writeJSON(w, 404, map[string]string{"detail": "Not found."})
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	agents, err := c.ListAgents(context.Background())
	if err != nil || len(agents) != 2 || agents[0].Name != "Alice" || agents[0].Statistics.Calls != 3 ||
		agents[1].CallTemplate == nil || agents[1].CallTemplate.MaxDuration.Std() != 240*time.Second ||
		agents[1].CallTemplate.Medium.ServerWebSocket.InputSampleRate != 48000 {
		t.Fatalf("agents %+v %v", agents, err)
	}
	msgs, err := c.ListMessages(context.Background(), callID)
	if err != nil || len(msgs) != 2 || msgs[1].Timespan.Start.Std() != 1500*time.Millisecond {
		t.Fatalf("messages %+v %v", msgs, err)
	}
	if _, err := c.GetAgent(context.Background(), "nope"); !IsNotFound(err) || !strings.HasPrefix(err.Error(), "get agent nope: not found (404)") {
		t.Fatalf("GetAgent: %v", err)
	}
}

func TestPageWithoutResultsIsMalformed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"calls": []any{}})
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	if _, err := c.ListCalls(context.Background(), ListCallsParams{}); !IsMalformed(err) || !strings.Contains(err.Error(), `no "results"`) {
		t.Fatalf("got %v", err)
	}
}

func TestInvalidArguments(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["GetCall empty"] = c.GetCall(ctx, "")
	_, checks["GetCall slash"] = c.GetCall(ctx, "../accounts/me")
	checks["HangUp empty"] = c.HangUp(ctx, " ", "bye")
	checks["SendDataMessage string"] = c.SendDataMessage(ctx, callID, "hang_up")
	checks["SendDataMessage no type"] = c.SendDataMessage(ctx, callID, map[string]string{"text": "hi"})
	checks["SendDataMessage bad value"] = c.SendDataMessage(ctx, callID, map[string]any{"type": "x", "f": func() {}})
	_, checks["CreateCall without request id"] = c.CreateCall(ctx, StartCallRequest{SystemPrompt: "x"})
	_, checks["CreateAgentCall without agent"] = c.CreateAgentCall(ctx, "", StartAgentCallRequest{Metadata: map[string]string{MetaRequestID: "r"}})
	_, checks["BillingUsage backwards"] = c.BillingUsage(ctx, time.Now(), time.Now().Add(-48*time.Hour))
	_, checks["Find empty"] = c.FindCallByMetadata(ctx, "", "", time.Time{})
	_, checks["reserved metadata key"] = c.CreateCall(ctx, StartCallRequest{Metadata: map[string]string{MetaRequestID: "r", "ultravox.x": "y"}})
	for name, err := range checks {
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalid {
			t.Errorf("%s: %v, want an invalid-request error", name, err)
		}
	}
	if n.Load() != 0 {
		t.Fatalf("%d requests were sent for invalid arguments", n.Load())
	}
	_, err := c.CreateCall(ctx, StartCallRequest{})
	if !strings.Contains(err.Error(), `metadata["ultravoxTray.requestId"] must hold a unique request id`) {
		t.Errorf("create without request id: %q", err)
	}
}

func TestHangUpAndDataMessages(t *testing.T) {
	var bodies []string
	var seq []int
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		i := int(n.Add(1)) - 1
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+string(b))
		if i < len(seq) && seq[i] != 204 {
			if seq[i] == 503 {
				w.Header().Set("Retry-After", "0")
			}
			writeJSON(w, seq[i], map[string]string{"detail": map[int]string{422: "Call is not active", 500: "boom", 503: "busy"}[seq[i]]})
			return
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	reset := func(s ...int) { n.Store(0); bodies = nil; seq = s }

	reset()
	if err := c.HangUp(ctx, callID, "Goodbye"); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || bodies[0] != `POST /api/calls/`+callID+`/send_data_message {"message":"Goodbye","type":"hang_up"}` {
		t.Fatalf("hang_up sent %q", bodies)
	}

	reset(422)
	err := c.HangUp(ctx, callID, "Goodbye")
	if !IsNotActive(err) || err.Error() != "hang up call 12345678…: call is not active (422): Call is not active" || n.Load() != 1 {
		t.Fatalf("422: %v (%d requests)", err, n.Load())
	}

	reset(503, 503)
	if err := c.HangUp(ctx, callID, "Goodbye"); err != nil || n.Load() != 3 {
		t.Fatalf("503 twice then 204: %v after %d requests", err, n.Load())
	}

	reset(500)
	if err := c.HangUp(ctx, callID, "Goodbye"); !isServerError(err) || n.Load() != 1 {
		t.Fatalf("500 on hang_up must not be retried: %v after %d", err, n.Load())
	}

	reset(500)
	err = c.SendDataMessage(ctx, callID, map[string]string{"type": "user_text_message", "text": "hello"})
	if !isServerError(err) || n.Load() != 1 || !strings.Contains(err.Error(), "(user_text_message)") {
		t.Fatalf("user_text_message on 500: %v after %d", err, n.Load())
	}

	reset(422)
	err = c.SendDataMessage(ctx, callID, struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{"hang_up", "bye"})
	if !IsNotActive(err) {
		t.Fatalf("hang_up through SendDataMessage: %v", err)
	}
}

func TestDeleteCall(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodDelete {
			writeJSON(w, 405, map[string]string{"detail": "Method not allowed"})
			return
		}
		switch n.Add(1) {
		case 1: // deleted, but the answer is lost
			cut(w)
		default:
			writeJSON(w, 404, map[string]string{"detail": "Not found."})
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	if err := c.DeleteCall(context.Background(), callID); err != nil || n.Load() != 2 {
		t.Fatalf("delete with a lost answer: %v after %d", err, n.Load())
	}
	n.Store(1) // next answer is 404 on the first attempt
	if err := c.DeleteCall(context.Background(), callID); !IsNotFound(err) {
		t.Fatalf("404 on the first attempt must be reported: %v", err)
	}
}

func TestBillingUsage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/accounts/me/billing/usage" || r.URL.Query().Get("fromDate") != "2026-11-20" || r.URL.Query().Get("toDate") != "2026-11-23" {
			writeJSON(w, 400, map[string]string{"detail": "bad query " + r.URL.RawQuery})
			return
		}
		writeJSON(w, 200, map[string]any{"dailyUsage": []map[string]any{{"date": "2026-11-21", "minutes": 1.5, "sipMinutes": 0}}, "totalMinutes": 1.5, "totalSipMinutes": 0})
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	// Local times are sent as their UTC day: 23:00 at UTC-1 is the 21st.
	from := time.Date(2026, 11, 19, 23, 30, 0, 0, time.FixedZone("UTC-1", -3600))
	u, err := c.BillingUsage(context.Background(), from, from.Add(72*time.Hour))
	if err != nil || u.TotalMinutes != 1.5 || len(u.DailyUsage) != 1 {
		t.Fatalf("usage %+v %v", u, err)
	}
	if d, err := u.DailyUsage[0].Day(); err != nil || d.Day() != 21 {
		t.Fatalf("day %v %v", d, err)
	}
}

func TestCreateSendsRequestAndDecodesCall(t *testing.T) {
	f, srv := newFake(t)
	c := newTestClient(t, srv.URL)
	req := StartAgentCallRequest{
		Metadata:    map[string]string{MetaRequestID: "req-1", MetaApp: "ultravox-tray/1.2.3"},
		Medium:      &CallMedium{ServerWebSocket: &ServerWebSocketMedium{InputSampleRate: 48000, OutputSampleRate: 48000, ClientBufferSizeMs: 30000, MediaIdleTimeout: Seconds(30).Ptr()}},
		MaxDuration: Seconds(240).Ptr(),
		JoinTimeout: Seconds(15).Ptr(),
	}
	call, err := c.CreateAgentCall(context.Background(), "0b0e6b3c-1111-2222-3333-444455556666", req)
	if err != nil {
		t.Fatal(err)
	}
	if call.RequestID() != "req-1" || call.MaxDuration != Seconds(240) || call.JoinURL == nil || !call.Live() || call.Billing() || f.count() != 1 {
		t.Fatalf("created %+v", call)
	}
	b, _ := json.Marshal(req)
	want := `{"metadata":{"ultravoxTray.app":"ultravox-tray/1.2.3","ultravoxTray.requestId":"req-1"},"medium":{"serverWebSocket":{"inputSampleRate":48000,"outputSampleRate":48000,"clientBufferSizeMs":30000,"mediaIdleTimeout":"30s"}},"joinTimeout":"15s","maxDuration":"240s"}`
	if string(b) != want {
		t.Fatalf("request encodes as\n%s\nwant\n%s", b, want)
	}
}

// TestCreateNeverDuplicates is the create-retry rule: whatever goes wrong
// after the server created the call, the client ends up with exactly one
// call, the one the server created.
func TestCreateNeverDuplicates(t *testing.T) {
	cases := []struct {
		name         string
		ignoreFilter bool
		before       func(n int, w http.ResponseWriter) bool
		after        func(n int, w http.ResponseWriter, c Call) bool
		wantPosts    int
	}{
		{name: "connection cut after create", wantPosts: 1,
			after: func(n int, w http.ResponseWriter, c Call) bool { cut(w); return true }},
		{name: "connection cut, server ignores the metadata filter", ignoreFilter: true, wantPosts: 1,
			after: func(n int, w http.ResponseWriter, c Call) bool { cut(w); return true }},
		{name: "500 after create", wantPosts: 1,
			after: func(n int, w http.ResponseWriter, c Call) bool {
				writeJSON(w, 500, map[string]string{"detail": "oops"})
				return true
			}},
		{name: "answer too slow", wantPosts: 1,
			after: func(n int, w http.ResponseWriter, c Call) bool { time.Sleep(400 * time.Millisecond); return false }},
		{name: "garbled 201", wantPosts: 1,
			after: func(n int, w http.ResponseWriter, c Call) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(201)
				io.WriteString(w, `{"callId": "`)
				return true
			}},
		{name: "cut before create, then created", wantPosts: 2,
			before: func(n int, w http.ResponseWriter) bool {
				if n == 1 {
					cut(w)
					return true
				}
				return false
			}},
		{name: "502 before create, then created", wantPosts: 2,
			before: func(n int, w http.ResponseWriter) bool {
				if n == 1 {
					writeJSON(w, 502, map[string]string{"detail": "bad gateway"})
					return true
				}
				return false
			}},
		{name: "429 then created", wantPosts: 2,
			before: func(n int, w http.ResponseWriter) bool {
				if n == 1 {
					w.Header().Set("Retry-After", "0.05")
					writeJSON(w, 429, map[string]string{"detail": "Too many concurrent calls"})
					return true
				}
				return false
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.ignoreFilter = tc.ignoreFilter
			f.beforeCreate = tc.before
			f.afterCreate = func(n int, w http.ResponseWriter, c Call) bool {
				if tc.after != nil && n == 1 {
					return tc.after(n, w, c)
				}
				return false
			}
			// Another call of the account, with another request id: the
			// lookup must never return it.
			other := Call{CallID: "other", Created: time.Now(), Metadata: map[string]string{MetaRequestID: "someone-else"}}
			f.calls = append(f.calls, other)
			c := newTestClient(t, srv.URL, func(o *Options) { o.RequestTimeout = 200 * time.Millisecond })
			call, err := c.CreateCall(context.Background(), StartCallRequest{SystemPrompt: "hi", Metadata: map[string]string{MetaRequestID: "req-42"}})
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			var ours []Call
			for _, x := range f.calls {
				if x.Metadata[MetaRequestID] == "req-42" {
					ours = append(ours, x)
				}
			}
			if len(ours) != 1 || call.CallID != ours[0].CallID {
				t.Fatalf("server holds %d calls for the request (returned %s)", len(ours), call.CallID)
			}
			if f.posts != tc.wantPosts {
				t.Fatalf("%d create requests, want %d", f.posts, tc.wantPosts)
			}
			// Each lookup is filtered by metadata; one that finds nothing is
			// followed by the same lookup unfiltered (a server's filter may
			// lag), and both are bounded by fromDate.
			for i, q := range f.listQueries {
				filtered := strings.Contains(q, "metadata.ultravoxTray.requestId=req-42")
				if !strings.Contains(q, "fromDate=") || (!filtered && (i == 0 || !strings.Contains(f.listQueries[i-1], "metadata."))) {
					t.Errorf("lookup query %q lacks fromDate, or is unfiltered without a filtered one first (%q)", q, f.listQueries)
				}
			}
		})
	}
}

func TestCreateFinalAndUnverifiable(t *testing.T) {
	t.Run("4xx is final", func(t *testing.T) {
		f, srv := newFake(t)
		f.beforeCreate = func(n int, w http.ResponseWriter) bool {
			writeJSON(w, 400, map[string][]string{"maxDuration": {"Ensure this value is at most 3600s."}})
			return true
		}
		c := newTestClient(t, srv.URL)
		_, err := c.CreateCall(context.Background(), StartCallRequest{Metadata: map[string]string{MetaRequestID: "r"}})
		if statusOf(err) != 400 || f.posts != 1 || f.lists != 0 || MaybeCreated(err) {
			t.Fatalf("%v after %d posts, %d lookups", err, f.posts, f.lists)
		}
		if err.Error() != "create call: request rejected (400): maxDuration: Ensure this value is at most 3600s." {
			t.Errorf("Error() = %q", err)
		}
	})
	t.Run("lookup fails too", func(t *testing.T) {
		f, srv := newFake(t)
		f.listStatus = 500
		f.afterCreate = func(n int, w http.ResponseWriter, c Call) bool { cut(w); return true }
		c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 1 })
		_, err := c.CreateCall(context.Background(), StartCallRequest{Metadata: map[string]string{MetaRequestID: "req-lost"}})
		// The request id is for the log and the journal, not the user's
		// eyes (issue 12, defect 5).
		if !isNetwork(err) || !strings.Contains(err.Error(), "the call may have been created") || strings.Contains(err.Error(), "req-lost") ||
			!strings.Contains(err.Error(), "lookup failed too") || f.posts != 1 || !MaybeCreated(err) {
			t.Fatalf("%v after %d posts", err, f.posts)
		}
	})
	t.Run("caller cancels after sending", func(t *testing.T) {
		f, srv := newFake(t)
		arrived, release := make(chan struct{}), make(chan struct{})
		f.afterCreate = func(n int, w http.ResponseWriter, c Call) bool {
			close(arrived)
			<-release
			return true
		}
		c := newTestClient(t, srv.URL)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		_, err := c.CreateCall(ctx, StartCallRequest{Metadata: map[string]string{MetaRequestID: "req-gone"}})
		close(release)
		if !IsCanceled(err) || !MaybeCreated(err) || f.posts != 1 || f.count() != 1 ||
			!strings.Contains(err.Error(), "the call may have been created") || strings.Contains(err.Error(), "req-gone") {
			t.Fatalf("%v (maybe created %v) after %d posts", err, MaybeCreated(err), f.posts)
		}
	})
	t.Run("nothing sent is not maybe created", func(t *testing.T) {
		f, srv := newFake(t)
		c := newTestClient(t, srv.URL)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.CreateCall(ctx, StartCallRequest{Metadata: map[string]string{MetaRequestID: "r"}})
		if !IsCanceled(err) || MaybeCreated(err) || f.posts != 0 {
			t.Fatalf("canceled before sending: %v (maybe created %v) after %d posts", err, MaybeCreated(err), f.posts)
		}
		srv.Close() // connection refused: the request never left
		c = newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = -1 })
		_, err = c.CreateCall(context.Background(), StartCallRequest{Metadata: map[string]string{MetaRequestID: "r"}})
		if !isNetwork(err) || MaybeCreated(err) {
			t.Fatalf("refused: %v (maybe created %v)", err, MaybeCreated(err))
		}
	})
	t.Run("401 is final", func(t *testing.T) {
		f, srv := newFake(t)
		c := newTestClient(t, srv.URL, func(o *Options) { o.APIKey = "Wrong123." + strings.Repeat("abcdef", 5) + "ab" })
		_, err := c.CreateCall(context.Background(), StartCallRequest{Metadata: map[string]string{MetaRequestID: "r"}})
		if !IsUnauthorized(err) || f.posts != 0 || f.count() != 0 {
			t.Fatalf("%v", err)
		}
		if strings.Contains(err.Error(), "abcdefabcdef") {
			t.Fatalf("key in error: %v", err)
		}
	})
}

func TestFindCallByMetadata(t *testing.T) {
	f, srv := newFake(t)
	now := time.Now()
	f.calls = []Call{
		{CallID: "a", Created: now.Add(-3 * time.Minute), Metadata: map[string]string{MetaRequestID: "x"}},
		{CallID: "b", Created: now.Add(-2 * time.Minute), Metadata: map[string]string{MetaRequestID: "y"}},
		{CallID: "c", Created: now.Add(-1 * time.Minute), Metadata: map[string]string{MetaRequestID: "y"}},
	}
	f.ignoreFilter = true
	c := newTestClient(t, srv.URL)
	got, err := c.FindCallByMetadata(context.Background(), MetaRequestID, "y", now.Add(-time.Hour))
	if err != nil || got == nil || got.CallID != "c" {
		t.Fatalf("found %v %v, want the newest match c", got, err)
	}
	got, err = c.FindCallByMetadata(context.Background(), MetaRequestID, "zzz", now.Add(-time.Hour))
	if err != nil || got != nil {
		t.Fatalf("no match: %v %v", got, err)
	}
}

// TestKeyNeverPrinted formats every error this file can provoke, the client
// and the options, with every verb, and greps for the key.
func TestKeyNeverPrinted(t *testing.T) {
	// A broken proxy that echoes the key back in its error body.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, map[string]string{"detail": "bad key header " + r.Header.Get("X-API-Key")})
	}))
	defer echo.Close()
	c := newTestClient(t, echo.URL)
	var errs []error
	_, err := c.GetAccount(context.Background())
	errs = append(errs, err)
	if !strings.Contains(err.Error(), "Zq7Kx2Lm…(redacted)") {
		t.Errorf("echoed key not replaced by its prefix: %v", err)
	}
	_, err = c.CreateCall(context.Background(), StartCallRequest{Metadata: map[string]string{MetaRequestID: "r"}})
	errs = append(errs, err)
	_, err = NewClient(Options{APIKey: testKey, BaseURL: "http://example.com"})
	errs = append(errs, err)
	_, err = NewClient(Options{APIKey: testKey + " x"})
	errs = append(errs, err)
	for _, e := range errs {
		if e == nil {
			t.Fatal("expected an error")
		}
		assertNoKey(t, "error", printAll(e))
		var ae *Error
		if errors.As(e, &ae) {
			assertNoKey(t, "error struct", printAll(*ae))
		}
	}
	opts := Options{APIKey: testKey, BaseURL: echo.URL}
	assertNoKey(t, "Options", printAll(opts))
	assertNoKey(t, "*Options", printAll(&opts))
	assertNoKey(t, "Client", printAll(c))
	type holder struct {
		C    *Client
		c    *Client
		Opts Options
	}
	assertNoKey(t, "struct holding a client", printAll(holder{c, c, opts}))
	if s := fmt.Sprint(c); !strings.Contains(s, "Zq7Kx2Lm") {
		t.Errorf("client does not show the key prefix: %s", s)
	}
}
