package ultravox

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseDurationAlternativeForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"42.300s", 42300 * time.Millisecond},
		{"0:00:42.300000", 42300 * time.Millisecond},
		{"00:01:00", time.Minute},
		{"12:34:56", 12*time.Hour + 34*time.Minute + 56*time.Second},
		{"1 02:03:04", 26*time.Hour + 3*time.Minute + 4*time.Second},
		{"2 00:00:01.5", 48*time.Hour + 1500*time.Millisecond},
		{"1 day, 0:00:06", 24*time.Hour + 6*time.Second},
		{"3 days, 1:00:00", 73 * time.Hour},
		{"-0:00:05", -5 * time.Second},
		{"0:00:00.000000001", time.Nanosecond},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got.Std() != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got.Std(), err, tc.want)
		}
	}
	for _, bad := range []string{"1:2:3", "0:60:00", "0:00:61", "x 00:00:01", "1 00:00", "0:00:1.", "1:00:00:00"} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, d.Std())
		}
	}
}

// tolerantServer answers every GET with body.
func tolerantServer(t *testing.T, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return newTestClient(t, srv.URL)
}

// An odd string-typed field never fails the account check: it is dropped,
// logged once, and the rest is used.
func TestOddFieldDroppedAndLoggedOnce(t *testing.T) {
	logs := &syncBuffer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"accountId":"acc","name":"Team","freeTimeUsed":"about an hour","freeTimeRemaining":"0:20:00","activeCalls":2,"subscriptionRenewal":"2026-12-06T18:00:00.123456789+05:30"}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	for i := 0; i < 3; i++ {
		a, err := c.GetAccount(context.Background())
		if err != nil {
			t.Fatalf("GetAccount with an odd freeTimeUsed: %v", err)
		}
		if a.Name != "Team" || a.ActiveCalls != 2 || a.FreeTimeUsed != 0 || a.FreeTimeRemaining.Std() != 20*time.Minute {
			t.Fatalf("account %+v: want the rest used (name, activeCalls, freeTimeRemaining 20m)", a)
		}
		want := time.Date(2026, 12, 6, 12, 30, 0, 123456789, time.UTC)
		if a.SubscriptionRenewal == nil || !a.SubscriptionRenewal.Equal(want) {
			t.Fatalf("subscriptionRenewal %v, want %v", a.SubscriptionRenewal, want)
		}
	}
	if n := strings.Count(logs.String(), "freeTimeUsed"); n != 1 {
		t.Fatalf("odd field logged %d times, want once:\n%s", n, logs.String())
	}
}

// One call with an odd billedDuration does not fail a list page; a call
// whose billing state cannot be read does.
func TestOddFieldInListPage(t *testing.T) {
	c := tolerantServer(t, `{"next":null,"previous":null,"total":2,"results":[
		{"callId":"a","created":"2026-12-06T18:00:00Z","billedDuration":"six seconds","billingStatus":"BILLING_STATUS_BILLED","metadata":{"k":"v","n":5}},
		{"callId":"b","created":"2026-12-06T18:00:01.5-08:00","billedDuration":"1 00:00:06","billingStatus":"BILLING_STATUS_NEW_KIND"}]}`)
	p, err := c.ListCalls(context.Background(), ListCallsParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 2 || p.Results[0].BilledDuration != nil || p.Results[0].Metadata["k"] != "v" {
		t.Fatalf("page %+v: want both calls, the first without billedDuration and with its readable metadata", p.Results)
	}
	if b := p.Results[1]; b.BilledDuration == nil || b.BilledDuration.Std() != 24*time.Hour+6*time.Second || b.BillingStatus != "BILLING_STATUS_NEW_KIND" ||
		!b.Created.Equal(time.Date(2026, 12, 7, 2, 0, 1, 5e8, time.UTC)) {
		t.Fatalf("second call %+v", b)
	}
	bad := tolerantServer(t, `{"next":null,"previous":null,"results":[{"callId":"a","created":"2026-12-06T18:00:00Z","joined":"just now"}]}`)
	if _, err := bad.ListCalls(context.Background(), ListCallsParams{}); !IsMalformed(err) {
		t.Fatalf("a call whose joined time cannot be read: err %v, want malformed (dropping it would misstate billing)", err)
	}
}

// A 403 means "key rejected" only on the account check; elsewhere it is the
// server refusing the request, with its message.
func TestForbiddenMeansKeyOnlyOnAccount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"detail":"Your plan does not include this feature."}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	_, err := c.GetAccount(context.Background())
	if !IsUnauthorized(err) {
		t.Fatalf("403 on GET /api/accounts/me: %v, want unauthorized", err)
	}
	_, err = c.CreateAgentCall(context.Background(), "9b8f2f43-7a49-4b71-9d5e-4a1c1a7f2a10", StartAgentCallRequest{Metadata: map[string]string{MetaRequestID: "r"}})
	if IsUnauthorized(err) || !strings.Contains(err.Error(), "request rejected (403): Your plan does not include this feature.") {
		t.Fatalf("403 on create: %v, want a refusal with the server's message, not a key problem", err)
	}
	if _, err := c.ListAgents(context.Background()); IsUnauthorized(err) {
		t.Fatalf("403 on list agents: %v, want a refusal, not a key problem", err)
	}
}
