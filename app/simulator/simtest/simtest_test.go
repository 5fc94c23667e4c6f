package simtest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recordingTB stands in for a test so that we can see whether simtest
// fails it.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.TB.FailNow()
}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// breakBillingStatus corrupts every JSON answer as a buggy simulator would.
func breakBillingStatus(o *simulator.Options) {
	o.Middleware = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &capture{header: http.Header{}}
			next.ServeHTTP(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			w.Write(bytes.ReplaceAll(rec.body.Bytes(), []byte("BILLING_STATUS_PENDING"), []byte("PENDING")))
		})
	}
}

type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) WriteHeader(s int)           { c.status = s }
func (c *capture) Write(b []byte) (int, error) { return c.body.Write(b) }

func post(t *testing.T, sim *simulator.Server, path, body string) int {
	req, _ := http.NewRequest("POST", sim.URL()+path, strings.NewReader(body))
	req.Header.Set("X-API-Key", sim.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A schema-breaking response fails the test that caused it.
func TestWrongResponseFailsTheTest(t *testing.T) {
	tb := &recordingTB{TB: t}
	sim := simtest.New(tb, breakBillingStatus)
	if st := post(t, sim, "/api/calls", `{"maxDuration":"60s"}`); st != 201 {
		t.Fatalf("create: %d", st)
	}
	tb.runCleanups()
	if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "schema violation") || !strings.Contains(tb.errors[0], "billingStatus") {
		t.Fatalf("simtest reported %q, want one schema violation about billingStatus", tb.errors)
	}
}

// A schema-breaking request (the client's fault) fails the test too.
func TestWrongRequestFailsTheTest(t *testing.T) {
	tb := &recordingTB{TB: t}
	sim := simtest.New(tb)
	if st := post(t, sim, "/api/calls", `{"maxDuration":240}`); st != 400 {
		t.Fatalf("create with a numeric maxDuration: %d, want 400", st)
	}
	tb.runCleanups()
	if len(tb.errors) == 0 || !strings.Contains(tb.errors[0], "request POST /api/calls") || !strings.Contains(tb.errors[0], "maxDuration") {
		t.Fatalf("simtest reported %q, want a request violation about maxDuration", tb.errors)
	}
}

// Clean traffic passes, and it really was validated.
func TestCleanTrafficPasses(t *testing.T) {
	tb := &recordingTB{TB: t}
	sim, v := simtest.NewWithValidator(tb)
	if st := post(t, sim, "/api/calls", `{"maxDuration":"60s","metadata":{"k":"v"}}`); st != 201 {
		t.Fatalf("create: %d", st)
	}
	tb.runCleanups()
	if len(tb.errors) != 0 {
		t.Fatalf("errors: %q", tb.errors)
	}
	if req, resp := v.Checked(); req != 1 || resp != 1 {
		t.Fatalf("validated %d requests and %d responses, want 1 and 1", req, resp)
	}
}
