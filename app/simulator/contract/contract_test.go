package contract_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/simulator/contract"
)

// The embedded schema is the repository's copy, byte for byte.
func TestEmbeddedSchemaIsTheRepositoryCopy(t *testing.T) {
	repo, err := os.ReadFile("../../ultravox/testdata/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(repo, contract.Schema) {
		t.Fatal("app/simulator/contract/openapi.yaml differs from app/ultravox/testdata/openapi.yaml; copy it again")
	}
}

func TestDeviationsAreExplained(t *testing.T) {
	if len(contract.Deviations) == 0 {
		t.Fatal("no deviations listed")
	}
	for _, d := range contract.Deviations {
		if d.Where == "" || d.What == "" || len(d.Why) < 40 {
			t.Errorf("deviation %+v lacks a place, a description or a reason", d)
		}
	}
}

const callID = "6a3c4f0e-2b1d-4c8e-9f7a-1b2c3d4e5f60"

func validCall() string {
	return `{"callId":"` + callID + `","clientVersion":null,"created":"2026-11-22T02:00:00Z","joined":null,"ended":null,
"endReason":null,"billedDuration":null,"billedSideInputTokens":null,"billedSideOutputTokens":null,
"billingStatus":"BILLING_STATUS_PENDING","firstSpeaker":"FIRST_SPEAKER_AGENT","firstSpeakerSettings":{"agent":{}},
"initialOutputMedium":"MESSAGE_MEDIUM_VOICE","joinTimeout":"30s","joinUrl":"ws://127.0.0.1:1/x","maxDuration":"240s",
"medium":{"serverWebSocket":{"inputSampleRate":48000}},"shortSummary":null,"summary":null,"agent":null,"agentId":null,
"experimentalSettings":{},"metadata":{},"initialState":{},"requestContext":{},"sipDetails":null}`
}

// serve answers every request with status and body through the validator.
func serve(t *testing.T, v *contract.Validator, status int, body string, header map[string]string) *httptest.Server {
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for k, val := range header {
			w.Header().Set(k, val)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, srv *httptest.Server, method, path, key, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestCatchesBadResponses(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		status           int
	}{
		{"valid", validCall(), "", 200},
		{"unknown billing status", strings.Replace(validCall(), "BILLING_STATUS_PENDING", "PENDING", 1), "billingStatus", 200},
		{"missing required field", strings.Replace(validCall(), `"endReason":null,`, "", 1), "endReason", 200},
		{"bad date-time", strings.Replace(validCall(), "2026-11-22T02:00:00Z", "22/11/2026", 1), "created", 200},
		{"bad uuid", strings.Replace(validCall(), callID, "call-1", 1), "callId", 200},
		{"end reason outside the enum", strings.Replace(validCall(), `"endReason":null`, `"endReason":"quit"`, 1), "endReason", 200},
		{"error body not JSON", `oops`, "error body", 404},
		{"error body without detail or fields", `{"detail":""}`, "detail", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := contract.New()
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, v, tc.status, tc.body, nil)
			send(t, srv, "GET", "/api/calls/"+callID, "k", "")
			got := v.Violations()
			if tc.want == "" {
				for _, x := range got {
					t.Errorf("unexpected violation: %s", x)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("bad response not caught")
			}
			if !strings.Contains(got[0].String(), tc.want) || got[0].Direction != "response" || got[0].Operation != "calls_retrieve" {
				t.Fatalf("violation %s, want one about %q in calls_retrieve's response", got[0], tc.want)
			}
		})
	}
}

func TestCatchesBadRequests(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, key, body, want string
	}{
		{"valid create", "POST", "/api/calls", "k", `{"maxDuration":"240s","joinTimeout":"10s","medium":{"serverWebSocket":{"inputSampleRate":48000}}}`, ""},
		{"bad duration", "POST", "/api/calls", "k", `{"maxDuration":"4m"}`, "maxDuration"},
		{"metadata value not a string", "POST", "/api/calls", "k", `{"metadata":{"n":1}}`, "metadata"},
		{"no key", "GET", "/api/accounts/me", "", "", "X-API-Key"},
		{"no such operation", "GET", "/api/calls/" + callID + "/nothing", "k", "", "no operation"},
		{"data message without type", "POST", "/api/calls/" + callID + "/send_data_message", "k", `{"message":"bye"}`, "type"},
		{"non-uuid path", "GET", "/api/calls/123", "k", "", "call_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := contract.New()
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, v, 204, "", nil)
			send(t, srv, tc.method, tc.path, tc.key, tc.body)
			got := v.Violations()
			if tc.want == "" {
				for _, x := range got {
					t.Errorf("unexpected violation: %s", x)
				}
				return
			}
			if len(got) == 0 || got[0].Direction != "request" || !strings.Contains(got[0].String(), tc.want) {
				t.Fatalf("violations %v, want a request violation about %q", got, tc.want)
			}
		})
	}
}

func TestInjectedFaultsAreNotValidated(t *testing.T) {
	v, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, v, 200, `{"callId":`, map[string]string{contract.FaultHeader: "malformed"})
	send(t, srv, "GET", "/api/calls/"+callID, "k", "")
	if got := v.Violations(); len(got) != 0 {
		t.Fatalf("violations for a marked fault: %v", got)
	}
	if req, resp := v.Checked(); req != 1 || resp != 0 {
		t.Fatalf("checked %d requests %d responses, want 1 and 0", req, resp)
	}
}

func TestAdHocCallAgentMayBeNull(t *testing.T) {
	v, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, v, 201, validCall(), nil)
	send(t, srv, "POST", "/api/calls", "k", `{}`)
	if got := v.Violations(); len(got) != 0 {
		t.Fatalf("violations: %v", got)
	}
}
