package ultravox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testKey looks like a real key: 8 characters, a dot, 32 characters.
const (
	testKey    = "Zq7Kx2Lm.S3cr3tPartOfTheKeyNeverShown0"
	testSecret = "S3cr3tPartOfTheKeyNeverShown0"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestClient makes a client for srv with fast retries, logging at debug
// level into a buffer that must never contain the key.
func newTestClient(t *testing.T, baseURL string, mod ...func(*Options)) *Client {
	t.Helper()
	logs := &syncBuffer{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	opts := Options{
		BaseURL:        baseURL,
		APIKey:         testKey,
		Version:        "1.2.3",
		HTTPClient:     &http.Client{Transport: tr},
		RequestTimeout: 2 * time.Second,
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range mod {
		f(&opts)
	}
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	c.backoffBase = time.Millisecond
	c.backoffMax = 5 * time.Millisecond
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		assertNoKey(t, "log", logs.String())
	})
	return c
}

func assertNoKey(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, testKey) || strings.Contains(s, testSecret) || strings.Contains(s, testSecret[:12]) {
		t.Errorf("%s contains the API key: %s", what, s)
	}
}

// printAll formats v with every verb a log line or crash report might use.
func printAll(v any) string {
	return fmt.Sprintf("%v|%+v|%#v|%s|%q", v, v, v, v, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// cut drops the connection without an answer.
func cut(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// fakeAPI is a small in-memory call store for the create/lookup rules. It is
// deliberately simple; the schema-faithful simulator lives in app/simulator.
type fakeAPI struct {
	mu           sync.Mutex
	calls        []Call
	posts        int
	lists        int
	listQueries  []string
	ignoreFilter bool
	listStatus   int // answer lists with this status when non-zero
	pageSize     int
	// onCreate runs after a create stored its call (created is false when
	// the hook asked to drop the request before storing). It returns true
	// when it answered (or cut) the request itself.
	beforeCreate func(n int, w http.ResponseWriter) bool
	afterCreate  func(n int, w http.ResponseWriter, c Call) bool
}

func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-API-Key") != testKey {
		writeJSON(w, 401, map[string]string{"detail": "Invalid API key"})
		return
	}
	switch {
	case r.Method == http.MethodPost && (r.URL.Path == "/api/calls" || strings.HasPrefix(r.URL.Path, "/api/agents/")):
		f.mu.Lock()
		f.posts++
		n := f.posts
		f.mu.Unlock()
		if f.beforeCreate != nil && f.beforeCreate(n, w) {
			return
		}
		var body struct {
			Metadata    map[string]string `json:"metadata"`
			MaxDuration *Duration         `json:"maxDuration"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, 400, map[string]any{"non_field_errors": []string{"Invalid JSON: " + err.Error()}})
			return
		}
		join := "wss://voice.example/calls/" + uuid.NewString() + "/server_web_socket"
		c := Call{CallID: uuid.NewString(), Created: time.Now().UTC(), Metadata: body.Metadata, JoinURL: &join,
			BillingStatus: BillingStatusPending, MaxDuration: Seconds(3600), JoinTimeout: Seconds(30)}
		if body.MaxDuration != nil {
			c.MaxDuration = *body.MaxDuration
		}
		f.mu.Lock()
		f.calls = append(f.calls, c)
		f.mu.Unlock()
		if f.afterCreate != nil && f.afterCreate(n, w, c) {
			return
		}
		writeJSON(w, 201, c)
	case r.Method == http.MethodGet && r.URL.Path == "/api/calls":
		f.mu.Lock()
		f.lists++
		f.listQueries = append(f.listQueries, r.URL.RawQuery)
		status := f.listStatus
		out := []Call{}
		for _, c := range f.calls {
			ok := true
			if !f.ignoreFilter {
				for k, vs := range r.URL.Query() {
					if strings.HasPrefix(k, "metadata.") && c.Metadata[strings.TrimPrefix(k, "metadata.")] != vs[0] {
						ok = false
					}
				}
			}
			if ok {
				out = append(out, c)
			}
		}
		f.mu.Unlock()
		if status != 0 {
			writeJSON(w, status, map[string]string{"detail": "list broken"})
			return
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
		writeJSON(w, 200, Page[Call]{Results: out})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/calls/"):
		id := strings.TrimPrefix(r.URL.Path, "/api/calls/")
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.calls {
			if c.CallID == id {
				writeJSON(w, 200, c)
				return
			}
		}
		writeJSON(w, 404, map[string]string{"detail": "Not found."})
	default:
		writeJSON(w, 404, map[string]string{"detail": "Not found."})
	}
}

func newFake(t *testing.T) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}
