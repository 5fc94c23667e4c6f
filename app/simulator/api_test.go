package simulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

func TestAccountAndAgents(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t)
	a := newAPI(t, sim)
	var acct simulator.Account
	a.json("GET", "/api/accounts/me", nil, 200, &acct)
	if acct.Name != "Demo account" || acct.FreeTimeRemaining != "1800s" || acct.FreeTimeUsed != "0s" ||
		acct.ActiveCalls != 0 || acct.AllowedConcurrentCalls == nil || *acct.AllowedConcurrentCalls != 5 {
		t.Fatalf("account = %+v", acct)
	}
	var agents simulator.Page[simulator.Agent]
	a.json("GET", "/api/agents", nil, 200, &agents)
	if agents.Total != 2 || len(agents.Results) != 2 || agents.Next != nil || agents.Previous != nil {
		t.Fatalf("agents page = %+v", agents)
	}
	// Listed newest first, which is the seed order: the default agent first.
	support := &agents.Results[0]
	if support.Name != "Support agent" || agents.Results[1].Name != "Sales agent" {
		t.Fatalf("agents = %+v, want Support agent then Sales agent", agents.Results)
	}
	var one simulator.Agent
	a.json("GET", "/api/agents/"+support.AgentID, nil, 200, &one)
	if one.Name != "Support agent" {
		t.Fatalf("agent = %+v", one)
	}
	a.json("GET", "/api/agents?search=sales", nil, 200, &agents)
	if agents.Total != 1 || agents.Results[0].Name != "Sales agent" {
		t.Fatalf("search=sales: %+v", agents)
	}
	// Agent IDs are stable across runs (derived from the names), so demo
	// scripts can keep them.
	again := simulator.New(simulator.Options{})
	defer again.Close()
	if again.Agents()[0].AgentID != sim.Agents()[0].AgentID {
		t.Fatal("agent IDs differ between two simulators")
	}
	// An agent's template applies: the Sales agent caps calls at 300 s.
	c := a.createCall(sim.Agents()[1].AgentID, map[string]any{})
	if c.MaxDuration != "300s" || c.JoinTimeout != "30s" || c.Agent == nil || c.Agent.Name != "Sales agent" {
		t.Fatalf("agent call = maxDuration %s joinTimeout %s agent %+v", c.MaxDuration, c.JoinTimeout, c.Agent)
	}
}

func TestDefaultsFollowTheAPI(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t)
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{})
	if c.MaxDuration != "3600s" || c.JoinTimeout != "30s" || c.BillingStatus != simulator.BillingPending {
		t.Fatalf("defaults: maxDuration %s joinTimeout %s billing %s", c.MaxDuration, c.JoinTimeout, c.BillingStatus)
	}
	if c.Agent != nil || c.AgentID != nil || c.Joined != nil || c.Ended != nil || c.EndReason != nil {
		t.Fatalf("a fresh ad-hoc call: %+v", c)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.DefaultOptions()) // no contract validator: these requests break the schema on purpose
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	a := newAPI(t, sim)
	for _, tc := range []struct {
		name   string
		body   any
		field  string
		detail string
	}{
		{"bad duration", map[string]any{"maxDuration": "4m"}, "maxDuration", `invalid duration "4m"`},
		{"numeric duration", map[string]any{"joinTimeout": 30}, "", "JSON parse error"},
		{"zero duration", map[string]any{"maxDuration": "0s"}, "maxDuration", "must be positive"},
		{"not JSON", "{maxDuration:", "", "JSON parse error"},
		{"no input rate", map[string]any{"medium": map[string]any{"serverWebSocket": map[string]any{}}}, "medium.serverWebSocket.inputSampleRate", "required"},
		{"odd rate", map[string]any{"medium": wsMedium(100, nil)}, "medium.serverWebSocket.inputSampleRate", "outside 8000..48000"},
		{"two media", map[string]any{"medium": map[string]any{"webRtc": map[string]any{}, "serverWebSocket": map[string]any{"inputSampleRate": 16000}}}, "medium", "at most one"},
		{"bad idle timeout", map[string]any{"medium": wsMedium(rate, map[string]any{"mediaIdleTimeout": "soon"})}, "medium.serverWebSocket.mediaIdleTimeout", "invalid duration"},
		{"reserved metadata", map[string]any{"metadata": map[string]any{"ultravox.x": "1"}}, "metadata", "reserved"},
		{"temperature", map[string]any{"temperature": 3}, "temperature", "between 0 and 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t, sim)
			status, hdr, raw := a.do("POST", "/api/calls", tc.body)
			if status != 400 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Fatalf("status %d (%s), want 400 JSON; body %s", status, hdr.Get("Content-Type"), raw)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %s: %v", raw, err)
			}
			if tc.field != "" {
				msgs, ok := body[tc.field].([]any)
				if !ok || len(msgs) == 0 || !strings.Contains(msgs[0].(string), tc.detail) {
					t.Fatalf("body %s, want field error %q containing %q", raw, tc.field, tc.detail)
				}
			} else if d, _ := body["detail"].(string); !strings.Contains(d, tc.detail) {
				t.Fatalf("body %s, want detail containing %q", raw, tc.detail)
			}
		})
	}
	if n := len(sim.Calls()); n != 0 {
		t.Fatalf("%d calls created by bad requests", n)
	}
	// An agent call may not override the agent's prompt.
	status, _, raw := a.do("POST", "/api/agents/"+sim.Agents()[0].AgentID+"/calls", map[string]any{"systemPrompt": "x"})
	if status != 400 || !strings.Contains(string(raw), "systemPrompt") {
		t.Fatalf("agent call with systemPrompt: %d %s", status, raw)
	}
	// Unsupported data messages name what is accepted.
	status, _, raw = a.do("POST", "/api/calls/"+"6a3c4f0e-2b1d-4c8e-9f7a-1b2c3d4e5f60"+"/send_data_message", map[string]any{"type": "dance"})
	if status != 400 || !strings.Contains(string(raw), "hang_up, user_text_message and forced_agent_message") {
		t.Fatalf("unsupported data message: %d %s", status, raw)
	}
}

func TestErrorsAndAuth(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.DefaultOptions())
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	a := newAPI(t, sim)
	wrong := &api{t: t, base: sim.URL(), key: "wrong-key"}
	none := &api{t: t, base: sim.URL()}
	check := func(a *api, method, path string, body any, want int, detail string) {
		t.Helper()
		status, hdr, raw := a.do(method, path, body)
		if status != want || !strings.Contains(string(raw), detail) || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Fatalf("%s %s: %d %s, want %d with %q", method, path, status, raw, want, detail)
		}
	}
	check(none, "GET", "/api/accounts/me", nil, 401, "Authentication credentials were not provided.")
	check(wrong, "GET", "/api/accounts/me", nil, 401, "Invalid API key.")
	check(a, "GET", "/api/calls/6a3c4f0e-2b1d-4c8e-9f7a-1b2c3d4e5f60", nil, 404, `"detail":"No Call matches the given query."`)
	check(a, "GET", "/api/agents/6a3c4f0e-2b1d-4c8e-9f7a-1b2c3d4e5f60", nil, 404, "No Agent")
	check(a, "POST", "/api/agents/6a3c4f0e-2b1d-4c8e-9f7a-1b2c3d4e5f60/calls", map[string]any{}, 404, "No Agent")
	check(a, "GET", "/api/nothing", nil, 404, "Not found.")
	c := a.createCall("", map[string]any{"maxDuration": "60s"})
	check(a, "POST", "/api/calls/"+c.CallID+"/send_data_message", map[string]any{"type": "hang_up"}, 422, `"detail":"Call is not active"`)
	check(a, "GET", "/api/calls?sort=duration", nil, 400, "Unsupported sort")
	check(a, "GET", "/api/calls?fromDate=yesterday", nil, 400, "fromDate")
	check(a, "GET", "/api/calls?pageSize=0", nil, 400, "pageSize")
	check(a, "GET", "/api/calls?cursor=garbage", nil, 404, "Invalid cursor")

	sim.SetUnauthorized(true)
	check(a, "GET", "/api/accounts/me", nil, 401, "Invalid API key.")
	check(a, "GET", "/api/agents", nil, 401, "Invalid API key.")
	sim.SetUnauthorized(false)
	check(a, "GET", "/api/accounts/me", nil, 200, "activeCalls")

	// The key never shows up in what the simulator recorded or answered.
	for _, r := range sim.Requests() {
		if strings.Contains(string(r.Body)+r.Query.Encode(), sim.APIKey()) {
			t.Fatalf("key recorded in %+v", r)
		}
	}
}

func TestConcurrencyCap(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet, func(o *simulator.Options) {
		o.MaxConcurrent = 2
		o.RetryAfter = 3 * time.Second
	})
	a := newAPI(t, sim)
	first := a.createCall("", map[string]any{"maxDuration": "60s"}) // unjoined calls count
	if _, err := sim.StartCallElsewhere(sim.Agents()[0].AgentID, true, time.Minute); err != nil {
		t.Fatal(err)
	}
	status, hdr, raw := a.do("POST", "/api/calls", map[string]any{"maxDuration": "60s"})
	if status != 429 || hdr.Get("Retry-After") != "3" || !strings.Contains(string(raw), "allows 2") {
		t.Fatalf("third call: %d Retry-After %q %s, want 429 with Retry-After 3", status, hdr.Get("Retry-After"), raw)
	}
	if _, err := sim.StartCallElsewhere("", false, 0); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("StartCallElsewhere over the cap: %v", err)
	}
	var acct simulator.Account
	a.json("GET", "/api/accounts/me", nil, 200, &acct)
	if acct.ActiveCalls != 2 {
		t.Fatalf("activeCalls %d, want 2", acct.ActiveCalls)
	}
	if err := sim.ForceEnd(first.CallID, simulator.EndUnjoined); err != nil {
		t.Fatal(err)
	}
	a.createCall("", map[string]any{"maxDuration": "60s"})
}

func TestPagination(t *testing.T) {
	t.Parallel()
	clock := simulator.NewFakeClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	sim := simtest.New(t, quiet, func(o *simulator.Options) { o.Clock = clock; o.MaxConcurrent = -1 })
	a := newAPI(t, sim)
	var ids []string // oldest first
	for i := 0; i < 7; i++ {
		meta := map[string]any{"n": string(rune('a' + i))}
		if i%2 == 0 {
			meta["even"] = "yes"
		}
		ids = append(ids, a.createCall("", map[string]any{"maxDuration": "60s", "metadata": meta}).CallID)
		clock.Advance(time.Minute)
	}
	// Newest first, three at a time, following full-URL next links.
	var got []string
	next := "/api/calls?sort=-created&pageSize=3"
	pages := 0
	var last simulator.Page[simulator.Call]
	for next != "" {
		a.json("GET", next, nil, 200, &last)
		pages++
		if last.Total != 7 {
			t.Fatalf("total %d, want 7", last.Total)
		}
		for _, c := range last.Results {
			got = append(got, c.CallID)
		}
		next = ""
		if last.Next != nil {
			u, err := url.Parse(*last.Next)
			if err != nil || u.Scheme != "http" || u.Host == "" || u.Query().Get("pageSize") != "3" || u.Query().Get("sort") != "-created" {
				t.Fatalf("next %q is not a full URL keeping the query", *last.Next)
			}
			next = u.RequestURI()
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(reverse(ids), ",") {
		t.Fatalf("%d pages: %v, want newest first %v", pages, got, reverse(ids))
	}
	// And back with previous.
	u, _ := url.Parse(*last.Previous)
	var prev simulator.Page[simulator.Call]
	a.json("GET", u.RequestURI(), nil, 200, &prev)
	if len(prev.Results) != 3 || prev.Results[0].CallID != ids[3] || prev.Results[2].CallID != ids[1] {
		t.Fatalf("previous page = %v", callIDs(prev.Results))
	}
	// Oldest first.
	var asc simulator.Page[simulator.Call]
	a.json("GET", "/api/calls?sort=created&pageSize=2", nil, 200, &asc)
	if asc.Results[0].CallID != ids[0] || asc.Results[1].CallID != ids[1] || asc.Previous != nil {
		t.Fatalf("ascending = %v", callIDs(asc.Results))
	}
	// A page boundary survives a new call being created meanwhile.
	var p1 simulator.Page[simulator.Call]
	a.json("GET", "/api/calls?pageSize=2", nil, 200, &p1)
	a.createCall("", map[string]any{"maxDuration": "60s"})
	u, _ = url.Parse(*p1.Next)
	var p2 simulator.Page[simulator.Call]
	a.json("GET", u.RequestURI(), nil, 200, &p2)
	if p2.Results[0].CallID != ids[4] {
		t.Fatalf("second page after an insert starts with %s, want %s", p2.Results[0].CallID, ids[4])
	}
	// fromDate and metadata filters.
	var recent simulator.Page[simulator.Call]
	from := time.Date(2026, 11, 22, 10, 4, 0, 0, time.UTC).Format(time.RFC3339)
	a.json("GET", "/api/calls?fromDate="+url.QueryEscape(from), nil, 200, &recent)
	if recent.Total != 4 {
		t.Fatalf("fromDate %s: %d calls, want 4 (three old + the new one)", from, recent.Total)
	}
	var even simulator.Page[simulator.Call]
	a.json("GET", "/api/calls?metadata.even=yes&metadata.n=c", nil, 200, &even)
	if even.Total != 1 || even.Results[0].CallID != ids[2] || even.Results[0].Metadata["n"] != "c" {
		t.Fatalf("metadata filter: %v", callIDs(even.Results))
	}
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func callIDs(cs []simulator.Call) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.CallID)
	}
	return out
}

func TestTombstones(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{"maxDuration": "60s"})
	status, _, raw := a.do("DELETE", "/api/calls/"+c.CallID, nil)
	if status != 422 || !strings.Contains(string(raw), "still active") {
		t.Fatalf("delete live call: %d %s", status, raw)
	}
	if err := sim.ForceEnd(c.CallID, simulator.EndUnjoined); err != nil {
		t.Fatal(err)
	}
	a.json("DELETE", "/api/calls/"+c.CallID, nil, 204, nil)
	for _, path := range []string{"/api/calls/" + c.CallID, "/api/calls/" + c.CallID + "/messages"} {
		if status, _, _ := a.do("GET", path, nil); status != 404 {
			t.Fatalf("GET %s after delete: %d, want 404", path, status)
		}
	}
	if status, _, _ := a.do("DELETE", "/api/calls/"+c.CallID, nil); status != 404 {
		t.Fatalf("second delete: %d, want 404", status)
	}
	var list simulator.Page[simulator.Call]
	a.json("GET", "/api/calls", nil, 200, &list)
	if list.Total != 0 {
		t.Fatalf("deleted call still listed: %v", callIDs(list.Results))
	}
	var tombs simulator.Page[simulator.CallTombstone]
	a.json("GET", "/api/deleted_calls", nil, 200, &tombs)
	if tombs.Total != 1 || tombs.Results[0].CallID != c.CallID || tombs.Results[0].EndReason == nil || *tombs.Results[0].EndReason != "unjoined" {
		t.Fatalf("tombstones = %+v", tombs)
	}
	var one simulator.CallTombstone
	a.json("GET", "/api/deleted_calls/"+c.CallID, nil, 200, &one)
	if one.DeletionTime.IsZero() {
		t.Fatalf("tombstone = %+v", one)
	}
	// The test API still shows it.
	if got, ok := sim.Call(c.CallID); !ok || got.CallID != c.CallID {
		t.Fatal("Call() lost the deleted call")
	}
}

func TestCallsElsewhere(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)
	id, err := sim.StartCallElsewhere(sim.Agents()[0].AgentID, true, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := a.getCall(id)
	if c.Joined == nil || c.Ended != nil || c.MaxDuration != "90s" || c.ClientVersion == nil {
		t.Fatalf("call elsewhere = %+v", c)
	}
	var list simulator.Page[simulator.Call]
	a.json("GET", "/api/calls?sort=-created", nil, 200, &list)
	if list.Total != 1 || list.Results[0].CallID != id {
		t.Fatalf("list = %v", callIDs(list.Results))
	}
	// Our app can end it with REST hang_up.
	a.json("POST", "/api/calls/"+id+"/send_data_message", map[string]any{"type": "hang_up", "message": "Ending from the tray"}, 204, nil)
	if got := a.waitCall(id, "ended", ended); endReason(got) != simulator.EndAgentHangup {
		t.Fatalf("endReason %q", endReason(got))
	}
	unjoined, err := sim.StartCallElsewhere("", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.JoinElsewhere(unjoined); err != nil {
		t.Fatal(err)
	}
	if err := sim.JoinElsewhere(unjoined); err == nil {
		t.Fatal("joined twice")
	}
	if _, err := sim.StartCallElsewhere("6a3c4f0e-2b1d-4c8e-9f7a-1b2c3d4e5f60", true, 0); err == nil {
		t.Fatal("unknown agent accepted")
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)

	sim.FailNext(2, 503)
	for i := 0; i < 2; i++ {
		status, hdr, raw := a.do("GET", "/api/accounts/me", nil)
		if status != 503 || hdr.Get("Retry-After") != "1" || !strings.Contains(string(raw), "detail") {
			t.Fatalf("failure %d: %d %q %s", i, status, hdr.Get("Retry-After"), raw)
		}
	}
	a.json("GET", "/api/accounts/me", nil, 200, nil)
	// FailNext fails before acting: no call created.
	sim.FailNext(1, 500)
	if status, _, _ := a.do("POST", "/api/calls", map[string]any{"maxDuration": "60s"}); status != 500 {
		t.Fatalf("status %d, want 500", status)
	}
	if n := len(sim.Calls()); n != 0 {
		t.Fatalf("%d calls after a failed-before create", n)
	}
	// FailNextAfterHandling acts, then fails: the call exists.
	sim.FailNextAfterHandling(1, 502)
	if status, _, _ := a.do("POST", "/api/calls", map[string]any{"maxDuration": "60s", "metadata": map[string]any{"requestId": "r1"}}); status != 502 {
		t.Fatalf("status %d, want 502", status)
	}
	var found simulator.Page[simulator.Call]
	a.json("GET", "/api/calls?metadata.requestId=r1", nil, 200, &found)
	if found.Total != 1 {
		t.Fatalf("lookup by metadata after an ambiguous failure: %d calls, want 1", found.Total)
	}
	// CutNext acts, then drops the connection.
	sim.CutNext(1)
	req, _ := http.NewRequest("POST", sim.URL()+"/api/calls", strings.NewReader(`{"maxDuration":"60s"}`))
	req.Header.Set("X-API-Key", sim.APIKey())
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("cut request answered %d", resp.StatusCode)
	}
	if n := len(sim.Calls()); n != 2 {
		t.Fatalf("%d calls, want 2 (the cut create took effect)", n)
	}
	// Malformed answers are cut-off JSON.
	sim.Malformed(1)
	_, _, raw := a.do("GET", "/api/accounts/me", nil)
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		t.Fatalf("malformed answer parsed: %s", raw)
	}
	a.json("GET", "/api/accounts/me", nil, 200, nil)

	// The record names each fault, so that a test can tell when the last
	// one was answered; honest answers name none.
	var faults []string
	for _, r := range sim.Requests() {
		faults = append(faults, fmt.Sprintf("%d %s", r.Status, r.Fault))
	}
	want := []string{"503 injected", "503 injected", "200 ", "500 injected", "502 after-handling", "200 ", "0 cut", "200 malformed", "200 "}
	if strings.Join(faults, ",") != strings.Join(want, ",") {
		t.Fatalf("recorded faults %q, want %q", faults, want)
	}

	// Latency.
	sim.SetLatency(150 * time.Millisecond)
	start := time.Now()
	a.json("GET", "/api/accounts/me", nil, 200, nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered in %v with 150 ms latency", d)
	}
	sim.SetLatency(0)

	// Unresponsive: the request hangs until turned off.
	sim.SetUnresponsive(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", sim.URL()+"/api/accounts/me", nil)
	req.Header.Set("X-API-Key", sim.APIKey())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("unresponsive server answered")
	}
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", sim.URL()+"/api/accounts/me", nil)
		req.Header.Set("X-API-Key", sim.APIKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case <-done:
		t.Fatal("answered while unresponsive")
	case <-time.After(100 * time.Millisecond):
	}
	sim.SetUnresponsive(false)
	if st := <-done; st != 200 {
		t.Fatalf("after turning unresponsive off: %d", st)
	}

	// Every request was recorded with its outcome.
	reqs := sim.RequestsTo("POST", "/api/calls")
	if len(reqs) != 3 || reqs[0].Status != 500 || reqs[1].Status != 502 || reqs[2].Status != 0 || !strings.Contains(string(reqs[1].Body), "r1") {
		t.Fatalf("recorded creates = %+v", reqs)
	}
}

// A request whose client gives up while the simulator delays its answer
// (SetLatency) is dropped: no response is written, so the validator checks
// none and sees no violation, and the request log says 0 (cut).
func TestAbandonedRequestGetsNoAnswer(t *testing.T) {
	t.Parallel()
	sim, v := simtest.NewWithValidator(t, quiet)
	a := newAPI(t, sim)
	a.json("GET", "/api/accounts/me", nil, 200, nil)
	reqs0, resps0 := v.Checked()
	sim.SetLatency(2 * time.Second)
	for _, op := range []struct{ method, path, body string }{
		{"GET", "/api/calls", ""},
		{"POST", "/api/calls", `{"maxDuration":"60s"}`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, op.method, sim.URL()+op.path, strings.NewReader(op.body))
		req.Header.Set("X-API-Key", sim.APIKey())
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("%s %s answered %d before the latency passed", op.method, op.path, resp.StatusCode)
		}
		cancel()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(sim.RequestsTo("", "/api/calls")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("abandoned requests not recorded: %+v", sim.Requests())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, r := range sim.RequestsTo("", "/api/calls") {
		if r.Status != 0 {
			t.Fatalf("abandoned %s %s recorded with status %d", r.Method, r.Path, r.Status)
		}
	}
	if reqs, resps := v.Checked(); reqs != reqs0+2 || resps != resps0 {
		t.Fatalf("validator checked %d requests and %d responses more, want 2 and 0", reqs-reqs0, resps-resps0)
	}
	if n := len(sim.Calls()); n != 0 {
		t.Fatalf("the abandoned create made %d calls", n)
	}
	sim.SetLatency(0)
	a.json("GET", "/api/accounts/me", nil, 200, nil)
}

// Close ends a request held by SetUnresponsive and leaves nothing behind
// (goleak checks in TestMain).
func TestCloseWhileUnresponsive(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	sim.SetUnresponsive(true)
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", sim.URL()+"/api/accounts/me", nil)
		req.Header.Set("X-API-Key", sim.APIKey())
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	sim.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("request still hanging after Close")
	}
}

func TestBillingUsage(t *testing.T) {
	t.Parallel()
	clock := simulator.NewFakeClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	sim := simtest.New(t, quiet, func(o *simulator.Options) { o.Clock = clock; o.FreeTime = -1; o.SettleDelay = -1 })
	a := newAPI(t, sim)
	id, err := sim.StartCallElsewhere("", true, 0)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(90 * time.Second)
	if err := sim.ForceEnd(id, simulator.EndHangup); err != nil {
		t.Fatal(err)
	}
	var u simulator.UsageResponse
	a.json("GET", "/api/accounts/me/billing/usage?fromDate=2026-11-21&toDate=2026-11-23", nil, 200, &u)
	if len(u.DailyUsage) != 2 || u.DailyUsage[1].Date != "2026-11-22" || u.DailyUsage[1].Minutes != 1.5 || u.TotalMinutes != 1.5 || u.DailyUsage[0].Minutes != 0 {
		t.Fatalf("usage = %+v", u)
	}
	status, _, raw := a.do("GET", "/api/accounts/me/billing/usage?fromDate=2026-11-23&toDate=2026-11-22", nil)
	if status != 400 || !strings.Contains(string(raw), "toDate") {
		t.Fatalf("reversed range: %d %s", status, raw)
	}
}

func TestCreateRateLimit(t *testing.T) {
	t.Parallel()
	clock := simulator.NewFakeClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	sim := simtest.New(t, quiet, func(o *simulator.Options) { o.Clock = clock; o.CreatesPerMinute = 3; o.MaxConcurrent = -1 })
	a := newAPI(t, sim)
	for i := 0; i < 3; i++ {
		a.createCall("", map[string]any{"maxDuration": "60s"})
		clock.Advance(10 * time.Second)
	}
	status, hdr, raw := a.do("POST", "/api/calls", map[string]any{"maxDuration": "60s"})
	if status != 429 || hdr.Get("Retry-After") != "30" || !strings.Contains(string(raw), "3 calls may be created per minute") {
		t.Fatalf("fourth create within a minute: %d Retry-After %q %s", status, hdr.Get("Retry-After"), raw)
	}
	clock.Advance(30 * time.Second)
	a.createCall("", map[string]any{"maxDuration": "60s"})
	if n := len(sim.Calls()); n != 4 {
		t.Fatalf("%d calls, want 4", n)
	}
}

// TestControlAPI drives the test controls over HTTP, as a person would
// with curl against the standalone simulator.
func TestControlAPI(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet, func(o *simulator.Options) { o.ControlAPI = true; o.SettleDelay = -1 })
	a := newAPI(t, sim)
	var started map[string]string
	a.json("POST", "/sim/control/elsewhere?joined=true&maxDuration=300s&agent="+sim.Agents()[0].AgentID, nil, 200, &started)
	c := a.getCall(started["callId"])
	if c.Joined == nil || c.MaxDuration != "300s" || c.Agent == nil {
		t.Fatalf("call elsewhere = %+v", c)
	}
	a.json("POST", "/sim/control/end?reason=timeout&call="+c.CallID, nil, 200, nil)
	if got := a.getCall(c.CallID); endReason(got) != simulator.EndTimeout {
		t.Fatalf("endReason %q", endReason(got))
	}
	a.json("POST", "/sim/control/unauthorized?on=true", nil, 200, nil)
	if st, _, _ := a.do("GET", "/api/accounts/me", nil); st != 401 {
		t.Fatalf("status %d while unauthorized", st)
	}
	a.json("POST", "/sim/control/unauthorized?on=false", nil, 200, nil)
	a.json("POST", "/sim/control/unresponsive", nil, 200, nil)
	a.json("POST", "/sim/control/unresponsive?on=false", nil, 200, nil) // the controls keep answering
	a.json("POST", "/sim/control/fail-next?n=1&status=429", nil, 200, nil)
	if st, _, _ := a.do("GET", "/api/accounts/me", nil); st != 429 {
		t.Fatalf("status %d after fail-next", st)
	}
	for _, bad := range []string{"end?call=nope", "fail-next?status=200", "latency?d=soon", "unauthorized?on=maybe", "hangup-reason?reason=quit", "elsewhere?maxDuration=5m", "malformed?n=-1"} {
		status, _, raw := a.do("POST", "/sim/control/"+bad, nil)
		if status != 400 || !strings.Contains(string(raw), "detail") {
			t.Errorf("%s: %d %s, want 400 with a detail", bad, status, raw)
		}
	}
	wrong := &api{t: t, base: sim.URL(), key: "other"}
	if st, _, _ := wrong.do("POST", "/sim/control/drop-sockets", nil); st != 401 {
		t.Fatalf("control without the key: %d", st)
	}
	// Off by default.
	plain := simtest.New(t)
	if st, _, _ := newAPI(t, plain).do("POST", "/sim/control/drop-sockets", nil); st != 404 {
		t.Fatalf("control API served without ControlAPI: %d", st)
	}
}

// TestRecordingIsBounded: long sessions keep frame times and sizes but not
// unbounded PCM, and the request log keeps the newest entries.
func TestRecordingIsBounded(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet, func(o *simulator.Options) { o.AudioRecordLimit = 3200; o.MaxRecordedRequests = 3 })
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	w.stream(rate, tone(rate, 500*time.Millisecond, 100), false)
	w.sendJSON(map[string]any{"type": "ping"})
	w.next("pong", 2*time.Second) // all audio frames were read before the ping
	audio, _ := sim.CallAudio(c.CallID)
	if audio.ReceivedBytes() != rate*2/2 || len(audio.Received) != 25 {
		t.Fatalf("received %d bytes in %d frames, want 16000 in 25", audio.ReceivedBytes(), len(audio.Received))
	}
	kept := 0
	for _, ch := range audio.Received {
		kept += len(ch.Data)
		if ch.At.IsZero() || ch.Len != 640 {
			t.Fatalf("frame %+v lacks its time or length", ch)
		}
	}
	if kept != 3200 {
		t.Fatalf("kept %d bytes of PCM, want the 3200-byte limit", kept)
	}
	for i := 0; i < 4; i++ {
		a.json("GET", "/api/accounts/me", nil, 200, nil)
	}
	if reqs := sim.Requests(); len(reqs) != 3 || reqs[0].Path != "/api/accounts/me" {
		t.Fatalf("request log = %d entries starting %s, want the newest 3", len(reqs), reqs[0].Path)
	}
}
