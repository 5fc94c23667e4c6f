package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/contract"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCurlLikeSession runs the command (its run function, flags and all) and
// talks to it with plain HTTP requests as the README's curl lines do; the
// traffic is validated against the schema.
func TestCurlLikeSession(t *testing.T) {
	v, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *simulator.Server, 1)
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-settle", "0", "-seed-agents", "Support agent,Billing bot", "-elsewhere", "1", "-quiet"}, &out, &errOut, func(s *simulator.Server) { ready <- s })
	}()
	var sim *simulator.Server
	select {
	case sim = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("simulator did not start")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	if !strings.Contains(out.String(), sim.URL()) || !strings.Contains(out.String(), "sim-demo-key") {
		t.Fatalf("banner does not show URL and key:\n%s", out.String())
	}

	curl := func(method, path, key, body string) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, sim.URL()+path, rd)
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
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		v.CheckRequest(req, []byte(body))
		v.CheckResponse(req, []byte(body), resp.StatusCode, resp.Header, raw)
		return resp.StatusCode, raw
	}
	const key = "sim-demo-key"

	if st, body := curl("GET", "/api/accounts/me", "", ""); st != 401 || !strings.Contains(string(body), "detail") {
		t.Fatalf("no key: %d %s", st, body)
	}
	st, body := curl("GET", "/api/accounts/me", key, "")
	var acct simulator.Account
	if st != 200 || json.Unmarshal(body, &acct) != nil || acct.FreeTimeRemaining != "0s" || acct.ActiveCalls != 1 {
		t.Fatalf("account with one hour-long call elsewhere: %d %s", st, body)
	}
	// End it through the control API, as the banner shows.
	var elsewhere simulator.Page[simulator.Call]
	st, body = curl("GET", "/api/calls", key, "")
	if st != 200 || json.Unmarshal(body, &elsewhere) != nil || elsewhere.Total != 1 || elsewhere.Results[0].Joined == nil {
		t.Fatalf("calls: %d %s", st, body)
	}
	req, _ := http.NewRequest("POST", sim.URL()+"/sim/control/end?reason=hangup&call="+elsewhere.Results[0].CallID, nil)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("control end: %v %v", resp, err)
	}
	resp.Body.Close()
	st, body = curl("GET", "/api/accounts/me", key, "")
	if st != 200 || json.Unmarshal(body, &acct) != nil || acct.FreeTimeRemaining != "1794s" || acct.ActiveCalls != 0 {
		t.Fatalf("account after ending it: %d %s", st, body)
	}
	st, body = curl("GET", "/api/agents", key, "")
	var agents simulator.Page[simulator.Agent]
	if st != 200 || json.Unmarshal(body, &agents) != nil || agents.Total != 2 {
		t.Fatalf("agents: %d %s", st, body)
	}
	names := agents.Results[0].Name + "," + agents.Results[1].Name
	if !strings.Contains(names, "Billing bot") || !strings.Contains(names, "Support agent") {
		t.Fatalf("seeded agents = %s", names)
	}
	agentID := agents.Results[0].AgentID
	st, body = curl("POST", "/api/agents/"+agentID+"/calls", key, `{"maxDuration":"240s","joinTimeout":"10s","medium":{"serverWebSocket":{"inputSampleRate":48000,"outputSampleRate":48000}}}`)
	var call simulator.Call
	if st != 201 || json.Unmarshal(body, &call) != nil || call.JoinURL == nil {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, body := curl("POST", "/api/calls/"+call.CallID+"/send_data_message", key, `{"type":"hang_up","message":"bye"}`); st != 422 || !strings.Contains(string(body), "Call is not active") {
		t.Fatalf("hang_up unjoined: %d %s", st, body)
	}
	if st, body := curl("POST", "/api/calls", key, `{"maxDuration":"4m"}`); st != 400 || !strings.Contains(string(body), "maxDuration") {
		t.Fatalf("bad duration: %d %s", st, body)
	}
	if err := sim.ForceEnd(call.CallID, simulator.EndUnjoined); err != nil {
		t.Fatal(err)
	}
	st, body = curl("GET", "/api/calls/"+call.CallID, key, "")
	if st != 200 || json.Unmarshal(body, &call) != nil || call.BillingStatus != simulator.BillingFreeZeroEffective {
		t.Fatalf("ended call: %d %s", st, body)
	}
	if st, _ := curl("DELETE", "/api/calls/"+call.CallID, key, ""); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := curl("GET", "/api/calls/"+call.CallID, key, ""); st != 404 {
		t.Fatalf("deleted call: %d", st)
	}
	// The two requests that broke the schema on purpose were caught; nothing
	// else was.
	got := v.Violations()
	if len(got) != 2 || got[0].Operation != "accounts_me_retrieve" || !strings.Contains(got[0].Reason, "X-API-Key") ||
		got[1].Operation != "calls_create" || !strings.Contains(got[1].Reason, "/maxDuration") {
		for _, x := range got {
			t.Errorf("violation: %s", x)
		}
		t.Fatalf("want exactly the missing-key and bad-duration request violations")
	}
	if req, resp := v.Checked(); req != 11 || resp != 11 {
		t.Errorf("validated only %d requests and %d responses", req, resp)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-key", "abcdEFGH." + strings.Repeat("0123456789abcdef", 2)}, "looks like a real Ultravox API key"},
		{[]string{"-hangup-reason", "bye"}, "-hangup-reason"},
		{[]string{"-fail-next", "2"}, "N:STATUS"},
		{[]string{"-fail-next", "1:200"}, "N:STATUS"},
		{[]string{"-settle", "-1s"}, "must not be negative"},
		{[]string{"-max-concurrent", "-2"}, "-max-concurrent"},
		{[]string{"-seed-agents", "a,,b"}, "empty agent name"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-voice", "robot"}, "want espeak, synth or auto"},
		{[]string{"-creates-per-minute", "-1"}, "-creates-per-minute"},
		{[]string{"-round-trip", "-5ms"}, "-round-trip"},
		{[]string{"-past-calls", "-1"}, "-past-calls"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	cfg, err := parseFlags([]string{"-fail-next", "2:503,1:429", "-latency", "50ms", "-round-trip", "80ms", "-agents", "200", "-settle", "0"}, io.Discard)
	if err != nil || len(cfg.fails) != 2 || cfg.fails[0] != (failSpec{2, 503}) || cfg.lat != 50*time.Millisecond || cfg.rtt != 80*time.Millisecond || len(cfg.opts.Agents) != 200 || cfg.opts.SettleDelay >= 0 {
		t.Fatalf("parse: %+v %v", cfg, err)
	}
}
