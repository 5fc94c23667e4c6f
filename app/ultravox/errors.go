package ultravox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ErrorKind is the case of an API error the app must tell apart.
type ErrorKind int

const (
	KindUnknown      ErrorKind = iota
	KindInvalid                // the request was refused before sending (bad argument)
	KindUnauthorized           // 401 or 403: the key is wrong or lacks access
	KindNotFound               // 404
	KindNotActive              // 422 on send_data_message: the call is not joined or already ended
	KindRejected               // another 4xx: the server refused the request as sent
	KindRateLimited            // 429 or 503: try again after RetryAfter
	KindServer                 // 5xx other than 503
	KindNetwork                // no answer: connection refused/reset, DNS, TLS
	KindTimeout                // no answer within the deadline
	KindMalformed              // an answer that is not the JSON it should be
	KindCanceled               // the caller's context was canceled
)

func (k ErrorKind) String() string {
	switch k {
	case KindInvalid:
		return "invalid request"
	case KindUnauthorized:
		return "unauthorized"
	case KindNotFound:
		return "not found"
	case KindNotActive:
		return "not active"
	case KindRejected:
		return "rejected"
	case KindRateLimited:
		return "rate limited"
	case KindServer:
		return "server error"
	case KindNetwork:
		return "network error"
	case KindTimeout:
		return "timeout"
	case KindMalformed:
		return "malformed response"
	case KindCanceled:
		return "canceled"
	default:
		return "unknown"
	}
}

// Error is every error the REST client and Join return. Op is what was being
// done ("get call 1a2b3c4d…"), Method and Path the request (never with the
// key, never a joinUrl in full), Status the HTTP status (0 when there was no
// answer), Message the server's words, RetryAfter the server's Retry-After.
type Error struct {
	Op         string
	Method     string
	Path       string
	Status     int
	Message    string
	RetryAfter time.Duration
	Kind       ErrorKind
	Err        error

	// maybeCreated: a create whose outcome could not be verified.
	maybeCreated bool
}

// Error is one clear sentence, e.g.
// "get call 1a2b3c4d…: API key rejected (401): Invalid API key".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.summary())
	if e.Err != nil && (e.Kind == KindNetwork || e.Kind == KindTimeout || e.Kind == KindMalformed || e.Kind == KindCanceled || e.Kind == KindInvalid) {
		redundant := e.Message != "" && errors.Is(e.Err, context.DeadlineExceeded)
		if m := e.Err.Error(); m != "" && m != e.Message && !redundant {
			b.WriteString(": ")
			b.WriteString(m)
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter.Round(time.Millisecond))
	}
	return b.String()
}

func (e *Error) summary() string {
	st := ""
	if e.Status != 0 {
		st = " (" + strconv.Itoa(e.Status) + ")"
	}
	switch e.Kind {
	case KindInvalid:
		return "invalid request"
	case KindUnauthorized:
		if e.Status == http.StatusForbidden {
			return "API key not allowed" + st
		}
		return "API key rejected" + st
	case KindNotFound:
		return "not found" + st
	case KindNotActive:
		return "call is not active" + st
	case KindRejected:
		return "request rejected" + st
	case KindRateLimited:
		if e.Status == http.StatusServiceUnavailable {
			return "service unavailable" + st
		}
		return "rate limited" + st
	case KindServer:
		return "server error" + st
	case KindNetwork:
		return "network error"
	case KindTimeout:
		return "timed out"
	case KindMalformed:
		return "malformed response" + st
	case KindCanceled:
		return "canceled"
	default:
		if e.Status != 0 {
			return "unexpected answer" + st
		}
		return "failed"
	}
}

// Unwrap returns the cause (a context error, a network error, a JSON error).
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the error is a timeout (net.Error style).
func (e *Error) Timeout() bool { return e.Kind == KindTimeout }

func kindOf(err error) (ErrorKind, *Error) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, e
	}
	return KindUnknown, nil
}

// IsUnauthorized: the API key was rejected (401) or lacks access (403).
func IsUnauthorized(err error) bool { k, _ := kindOf(err); return k == KindUnauthorized }

// IsNotFound: 404.
func IsNotFound(err error) bool { k, _ := kindOf(err); return k == KindNotFound }

// IsNotActive: 422 on a data message (hang_up): the call is not joined yet or
// already ended. Join reports it too for a call that has ended (410) or is
// joined by another client (409).
func IsNotActive(err error) bool { k, _ := kindOf(err); return k == KindNotActive }

// IsRateLimited: 429 or 503; see RetryAfter.
func IsRateLimited(err error) bool { k, _ := kindOf(err); return k == KindRateLimited }

// isServerError: a 5xx answer (503 counts as rate-limited and as a server
// error).
func isServerError(err error) bool {
	k, e := kindOf(err)
	return k == KindServer || (e != nil && e.Status >= 500)
}

// isNetwork: no answer arrived (connection refused or reset, DNS, TLS).
// Timeouts are reported by IsTimeout, not here.
func isNetwork(err error) bool { k, _ := kindOf(err); return k == KindNetwork }

// IsTimeout: no answer within the request deadline.
func IsTimeout(err error) bool { k, _ := kindOf(err); return k == KindTimeout }

// IsMalformed: the answer was not the JSON it should have been.
func IsMalformed(err error) bool { k, _ := kindOf(err); return k == KindMalformed }

// IsCanceled: the caller's context was canceled.
func IsCanceled(err error) bool { k, _ := kindOf(err); return k == KindCanceled }

// MaybeCreated reports whether err is a failed create whose outcome could
// not be verified: the server may hold the call. Keep its request id (the
// journal does) and look it up later with FindCallByMetadata.
func MaybeCreated(err error) bool {
	_, e := kindOf(err)
	return e != nil && e.maybeCreated
}

// RetryAfter is the server's Retry-After on err, or 0.
func RetryAfter(err error) time.Duration {
	if _, e := kindOf(err); e != nil {
		return e.RetryAfter
	}
	return 0
}

// statusOf is the HTTP status on err, or 0.
func statusOf(err error) int {
	if _, e := kindOf(err); e != nil {
		return e.Status
	}
	return 0
}

func kindForStatus(status int) ErrorKind {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return KindUnauthorized
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return KindRateLimited
	case status >= 500:
		return KindServer
	case status >= 400:
		return KindRejected
	default:
		return KindUnknown
	}
}

// parseRetryAfter reads a Retry-After header: delta seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(h, 64); err == nil {
		if n <= 0 || n > 1e6 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil {
		d := t.Sub(now)
		if d <= 0 {
			return 0
		}
		return d
	}
	return 0
}

const maxMessageLen = 200

// errorMessage extracts the server's words from an error body: DRF's
// {"detail": ...}, {"message": ...}, {"non_field_errors": [...]}, field
// errors {"field": ["msg"]}, or else the raw body; always on one line
// (whitespace and control characters collapsed) and truncated to 200
// characters.
func errorMessage(body []byte) string {
	return clip(collapseSpace(rawErrorMessage(body)), maxMessageLen)
}

func rawErrorMessage(body []byte) string {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal([]byte(trimmed), &obj) == nil && obj != nil {
		for _, k := range []string{"detail", "message", "error"} {
			if v, ok := obj[k]; ok {
				if s := flatten(v); s != "" {
					return s
				}
			}
		}
		if v, ok := obj["non_field_errors"]; ok {
			if s := flatten(v); s != "" {
				return s
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if s := flatten(obj[k]); s != "" {
				parts = append(parts, k+": "+s)
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "; ")
		}
	}
	var list []any
	if json.Unmarshal([]byte(trimmed), &list) == nil && len(list) > 0 {
		if s := flatten(list); s != "" {
			return s
		}
	}
	return trimmed
}

// flatten turns a JSON value from an error body into words.
func flatten(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case []any:
		var parts []string
		for _, it := range x {
			if s := flatten(it); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if s := flatten(x[k]); s != "" {
				parts = append(parts, k+": "+s)
			}
		}
		return strings.Join(parts, "; ")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
