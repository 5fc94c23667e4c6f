package ultravox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The recording endpoint redirects to storage on another host: the client
// follows it without the key, refuses plain http to a host that is not
// loopback, and reports a call without recording as not found.
func TestRecordingRedirectNeverCarriesTheKey(t *testing.T) {
	var keyAtStorage atomic.Bool
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "" || strings.Contains(r.URL.String(), testSecret) {
			keyAtStorage.Store(true)
		}
		if r.URL.Query().Get("sig") != "ok" {
			http.Error(w, "bad signature", 403)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		io.WriteString(w, "RIFF....WAVEdata")
	}))
	defer storage.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != testKey {
			http.Error(w, `{"detail":"no key"}`, 401)
			return
		}
		switch r.URL.Path {
		case "/api/calls/rec/recording":
			http.Redirect(w, r, storage.URL+"/r.wav?sig=ok", http.StatusFound)
		case "/api/calls/far/recording":
			http.Redirect(w, r, "http://storage.example.com/r.wav?sig=ok", http.StatusFound)
		case "/api/calls/direct/recording":
			w.Header().Set("Content-Type", "audio/wav")
			io.WriteString(w, "RIFFdirect")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			io.WriteString(w, `{"detail":"Not found."}`)
		}
	}))
	defer api.Close()
	c := newTestClient(t, api.URL)
	ctx := context.Background()
	var b bytes.Buffer
	n, ct, err := c.Recording(ctx, "rec", &b)
	if err != nil || n != 16 || ct != "audio/wav" || b.String() != "RIFF....WAVEdata" {
		t.Fatalf("redirected recording: %d %q %q %v", n, ct, b.String(), err)
	}
	if keyAtStorage.Load() {
		t.Fatal("the API key reached the storage host")
	}
	b.Reset()
	if _, _, err := c.Recording(ctx, "direct", &b); err != nil || b.String() != "RIFFdirect" {
		t.Fatalf("direct recording %q %v", b.String(), err)
	}
	if _, _, err := c.Recording(ctx, "far", &b); err == nil || !strings.Contains(err.Error(), "only https") {
		t.Fatalf("plain http storage off loopback: %v", err)
	}
	if _, _, err := c.Recording(ctx, "none", &b); !IsNotFound(err) {
		t.Fatalf("no recording: %v", err)
	}
}

// ContinueCall posts to /api/calls with priorCallId in the query and our
// overrides in the body, and refuses initial messages.
func TestContinueCallSendsPriorCallID(t *testing.T) {
	var query, body string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"callId":"new","created":"2026-12-06T10:00:00Z","joinTimeout":"15s","maxDuration":"60s","billingStatus":"BILLING_STATUS_PENDING","temperature":0,"recordingEnabled":false}`)
	}))
	defer api.Close()
	c := newTestClient(t, api.URL)
	req := StartCallRequest{Metadata: map[string]string{MetaRequestID: "rid-1"}, MaxDuration: Duration(60e9).Ptr()}
	call, err := c.ContinueCall(context.Background(), "prior-1", req)
	if err != nil || call.CallID != "new" {
		t.Fatalf("ContinueCall: %+v %v", call, err)
	}
	if query != "priorCallId=prior-1" || !strings.Contains(body, `"maxDuration":"60s"`) || !strings.Contains(body, "rid-1") {
		t.Errorf("sent ?%s %s", query, body)
	}
	req.InitialMessages = []Message{{Role: MessageRoleUser, Text: "x"}}
	if _, err := c.ContinueCall(context.Background(), "prior-1", req); err == nil || !strings.Contains(err.Error(), "initial messages") {
		t.Errorf("with initial messages: %v", err)
	}
}
