package simulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// The agent invokes a client tool on request; the client's reply is recorded
// with its invocation, and the agent says what came back.
func TestClientToolInvocationAndReply(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false })
	a := newAPI(t, sim)
	agent := sim.Agents()[0].AgentID
	c := a.createCall(agent, map[string]any{"medium": wsMedium(16000, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	if _, err := sim.InvokeClientTool("no-such-call", "x", nil); err == nil {
		t.Fatal("InvokeClientTool on an unknown call: want an error")
	}
	id, err := sim.InvokeClientTool(c.CallID, "lookupOrder", map[string]any{"order": "A1"})
	if err != nil {
		t.Fatal(err)
	}
	inv := w.next("client_tool_invocation", 2*time.Second)
	if inv["invocationId"] != id || inv["toolName"] != "lookupOrder" {
		t.Fatalf("invocation %v, want id %s and toolName lookupOrder", inv, id)
	}
	if p, _ := inv["parameters"].(map[string]any); p["order"] != "A1" {
		t.Fatalf("parameters %v, want order A1", inv["parameters"])
	}
	if got := sim.ToolInvocations(c.CallID); len(got) != 1 || got[0].Answered() {
		t.Fatalf("before the reply: %+v, want one unanswered invocation", got)
	}
	w.sendJSON(map[string]any{"type": "client_tool_result", "invocationId": id, "errorType": "undefined", "errorMessage": "no such tool here"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := sim.WaitToolReply(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ErrorType != "undefined" || got.ErrorMessage != "no such tool here" || got.Latency() <= 0 {
		t.Fatalf("reply %+v, want errorType undefined with its message and a latency", got)
	}
	fr, ok := w.until(3*time.Second, func(f wsFrame) bool {
		return f.msg["type"] == "transcript" && f.msg["final"] == true && strings.Contains(str(f.msg["text"]), "could not use lookupOrder")
	})
	if !ok {
		t.Fatalf("the agent did not say the tool failed (%v)", fr)
	}
	var msgs struct {
		Results []simulator.Message `json:"results"`
	}
	a.json("GET", "/api/calls/"+c.CallID+"/messages", nil, http.StatusOK, &msgs)
	var roles []string
	for _, m := range msgs.Results {
		if m.ToolName == "lookupOrder" {
			roles = append(roles, m.Role)
		}
	}
	if strings.Join(roles, ",") != "MESSAGE_ROLE_TOOL_CALL,MESSAGE_ROLE_TOOL_RESULT" {
		t.Fatalf("tool messages %v, want the call then the result", roles)
	}
}

// An agent seeded with a client tool invokes it as soon as it is joined.
func TestSeededAgentInvokesItsTool(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) {
		o.Agents = []simulator.AgentSeed{{Name: "Tool agent", ClientTool: "localTime"}}
	})
	a := newAPI(t, sim)
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"medium": wsMedium(16000, nil)})
	w := dial(t, *c.JoinURL)
	inv := w.next("client_tool_invocation", 2*time.Second)
	if inv["toolName"] != "localTime" {
		t.Fatalf("invocation %v, want localTime", inv)
	}
	w.sendJSON(map[string]any{"type": "client_tool_result", "invocationId": inv["invocationId"], "result": `{"localTime":"x"}`, "responseType": "tool-response"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if got, err := sim.WaitToolReply(ctx, str(inv["invocationId"])); err != nil || got.Result != `{"localTime":"x"}` {
		t.Fatalf("reply %+v, %v", got, err)
	}
}

// A create body with a field the schema does not list is refused with 400
// naming it, at the top level and inside medium.serverWebSocket; every
// field the schema lists is accepted.
func TestCreateRejectsUnknownFields(t *testing.T) {
	sim := simtest.New(t)
	a := newAPI(t, sim)
	agent := sim.Agents()[0].AgentID
	for _, tc := range []struct {
		path string
		body map[string]any
		want string
	}{
		{"/api/agents/" + agent + "/calls", map[string]any{"medium": wsMedium(16000, nil), "maxDurationSecs": 20}, "maxDurationSecs"},
		{"/api/agents/" + agent + "/calls", map[string]any{"systemPromptx": "hi"}, "systemPromptx"},
		{"/api/calls", map[string]any{"templateContext": map[string]any{}}, "templateContext"},
		{"/api/calls", map[string]any{"medium": wsMedium(16000, map[string]any{"bufferMs": 10})}, "bufferMs"},
	} {
		status, _, body := a.do("POST", tc.path, tc.body)
		if status != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
			t.Errorf("POST %s %v: %d %s, want 400 naming %s", tc.path, tc.body, status, body, tc.want)
		}
	}
	a.createCall(agent, map[string]any{"medium": wsMedium(16000, map[string]any{"clientBufferSizeMs": 30000}),
		"templateContext": map[string]any{}, "metadata": map[string]string{"k": "v"}, "joinTimeout": "10s", "maxDuration": "20s"})
}

// An agent whose prompt uses {{variables}} shows them in its call template,
// refuses a create lacking one with a 400 that names it, and speaks with the
// values filled in.
func TestTemplateVariables(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) {
		o.Agents = []simulator.AgentSeed{{Name: "Order desk", SystemPrompt: "Help {{customerName}}.", TemplateVariables: []string{"orderId"},
			Greeting: "Hello {{customerName}}, about order {{orderId}}."}}
	})
	a := newAPI(t, sim)
	ag := sim.Agents()[0]
	var got simulator.Agent
	a.json("GET", "/api/agents/"+ag.AgentID, nil, http.StatusOK, &got)
	if vars := simulator.TemplateVariables(got.CallTemplate.SystemPrompt); strings.Join(vars, ",") != "customerName,orderId" {
		t.Fatalf("variables %v in %q, want customerName and orderId", vars, got.CallTemplate.SystemPrompt)
	}
	status, _, body := a.do("POST", "/api/agents/"+ag.AgentID+"/calls", map[string]any{"templateContext": map[string]any{"customerName": "Ada"}})
	var fe map[string][]string
	if status != http.StatusBadRequest || json.Unmarshal(body, &fe) != nil || len(fe["templateContext"]) != 1 || !strings.Contains(fe["templateContext"][0], `"orderId"`) {
		t.Fatalf("create without orderId: %d %s, want 400 {templateContext: [... \"orderId\" ...]}", status, body)
	}
	c := a.createCall(ag.AgentID, map[string]any{"medium": wsMedium(16000, nil), "templateContext": map[string]any{"customerName": "Ada", "orderId": "A-17"}})
	if tc := sim.TemplateContext(c.CallID); tc["orderId"] != "A-17" {
		t.Fatalf("recorded templateContext %v", tc)
	}
	w := dial(t, *c.JoinURL)
	if _, ok := w.until(10*time.Second, func(f wsFrame) bool {
		return f.msg["type"] == "transcript" && f.msg["final"] == true && f.msg["text"] == "Hello Ada, about order A-17."
	}); !ok {
		t.Fatal("the greeting was not said with the values filled in")
	}
}

// Alternative formats: string durations as clock and day forms and with
// fractions, timestamps with offsets, unknown enum values.
func TestAlternativeFormats(t *testing.T) {
	sim := simulator.New(simulator.Options{SettleDelay: -1})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	a := newAPI(t, sim)
	id, err := sim.StartCallElsewhere(sim.Agents()[0].AgentID, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := sim.ForceEnd(id, simulator.EndHangup); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    simulator.Formats
		want func(m map[string]any) bool
	}{
		{simulator.Formats{Durations: simulator.DurationClock}, func(m map[string]any) bool { return m["billedDuration"] == "0:00:06" }},
		{simulator.Formats{Durations: simulator.DurationDays}, func(m map[string]any) bool { return m["billedDuration"] == "0 00:00:06" }},
		{simulator.Formats{Durations: simulator.DurationFraction}, func(m map[string]any) bool { return m["billedDuration"] == "6.000s" }},
		{simulator.Formats{OffsetTimes: true}, func(m map[string]any) bool { return strings.HasSuffix(str(m["created"]), "+05:30") }},
		{simulator.Formats{UnknownEnums: true}, func(m map[string]any) bool {
			return m["billingStatus"] == simulator.UnknownBillingStatus && m["endReason"] == simulator.UnknownEndReason
		}},
	} {
		if err := sim.SetFormats(tc.f); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		a.json("GET", "/api/calls/"+id, nil, http.StatusOK, &m)
		if !tc.want(m) {
			t.Errorf("formats %+v: got billedDuration %v created %v billingStatus %v endReason %v", tc.f, m["billedDuration"], m["created"], m["billingStatus"], m["endReason"])
		}
	}
	if err := sim.SetFormats(simulator.Formats{Durations: "weeks"}); err == nil {
		t.Error("SetFormats with an unknown duration format: want an error")
	}
}

// With a farewell set, a socket hang_up lets the agent say it before the
// call ends.
func TestHangupFarewell(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false })
	sim.SetHangupFarewell("Goodbye, talk soon!")
	a := newAPI(t, sim)
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"medium": wsMedium(16000, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	w.sendJSON(map[string]any{"type": "hang_up"})
	if _, ok := w.until(10*time.Second, func(f wsFrame) bool {
		return f.msg["type"] == "transcript" && f.msg["final"] == true && f.msg["text"] == "Goodbye, talk soon!"
	}); !ok {
		t.Fatal("no farewell before the end")
	}
	got := a.waitCall(c.CallID, "ended", ended)
	if got.EndReason == nil || *got.EndReason != simulator.EndAgentHangup {
		t.Fatalf("end reason %v", got.EndReason)
	}
}

// With a metadata index lag, a metadata-filtered list misses a new call
// that the unfiltered list shows.
func TestMetadataIndexLag(t *testing.T) {
	sim := simtest.New(t)
	sim.SetMetadataIndexLag(time.Hour)
	a := newAPI(t, sim)
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"metadata": map[string]string{"rid": "r1"}})
	var page struct {
		Results []simulator.Call `json:"results"`
	}
	a.json("GET", "/api/calls?metadata.rid=r1", nil, http.StatusOK, &page)
	if len(page.Results) != 0 {
		t.Fatalf("filtered list during the lag: %d calls, want none", len(page.Results))
	}
	a.json("GET", "/api/calls", nil, http.StatusOK, &page)
	if len(page.Results) != 1 || page.Results[0].CallID != c.CallID {
		t.Fatalf("unfiltered list: %+v", page.Results)
	}
}

func str(v any) string { s, _ := v.(string); return s }

// The new controls work over HTTP too (for the standalone simulator).
func TestControlsOverHTTP(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.ControlAPI = true; o.SpeakGreeting = false })
	a := newAPI(t, sim)
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"medium": wsMedium(16000, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	var inv map[string]string
	a.json("POST", "/sim/control/invoke-tool?call="+c.CallID+"&tool=lookupOrder&parameters=%7B%22id%22%3A1%7D", nil, http.StatusOK, &inv)
	got := w.next("client_tool_invocation", 2*time.Second)
	if got["invocationId"] != inv["invocationId"] {
		t.Fatalf("invocation %v, control said %v", got, inv)
	}
	w.sendJSON(map[string]any{"type": "client_tool_result", "invocationId": inv["invocationId"], "result": "ok"})
	deadline := time.Now().Add(2 * time.Second)
	for {
		var replies []map[string]any
		a.json("POST", "/sim/control/tool-replies?call="+c.CallID, nil, http.StatusOK, &replies)
		if len(replies) == 1 && replies[0]["answered"] == true && replies[0]["result"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replies %v", replies)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.json("POST", "/sim/control/alt-formats?durations=clock&offsetTimes=true", nil, http.StatusOK, nil)
	if status, _, body := a.do("POST", "/sim/control/alt-formats?durations=weeks", nil); status != http.StatusBadRequest {
		t.Fatalf("unknown format: %d %s", status, body)
	}
	a.json("POST", "/sim/control/strict?metadataLag=1s&farewell=Bye", nil, http.StatusOK, nil)
}
