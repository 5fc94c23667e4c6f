package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// CloseSocket closes the media socket with the code asked for and leaves
// the call live (billing) until a REST hang_up ends it.
func TestCloseSocketLeavesTheCallLive(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t)
	a := newAPI(t, sim)
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"maxDuration": "60s", "medium": wsMedium(16000, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	a.waitCall(c.CallID, "joined", func(c simulator.Call) bool { return c.Joined != nil })
	if err := sim.CloseSocket(c.CallID, websocket.StatusInternalError, "media server error"); err != nil {
		t.Fatal(err)
	}
	if code := w.closeStatus(2 * time.Second); code != websocket.StatusInternalError {
		t.Fatalf("close code %d, want 1011", code)
	}
	time.Sleep(200 * time.Millisecond)
	if got := a.getCall(c.CallID); got.Ended != nil {
		t.Fatalf("the call ended with its socket (%s); CloseSocket must leave it live", deref(got.EndReason))
	}
	if err := sim.CloseSocket(c.CallID, websocket.StatusInternalError, "again"); err == nil {
		t.Error("a second CloseSocket on a call without a socket succeeded")
	}
	a.json("POST", "/api/calls/"+c.CallID+"/send_data_message", map[string]any{"type": "hang_up"}, http.StatusNoContent, nil)
	a.waitCall(c.CallID, "ended", ended)
}

// During an Outage every REST request is cut without an answer; after it
// the same server answers again.
func TestOutageCutsRequestsThenEnds(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t)
	sim.Outage(300 * time.Millisecond)
	req, _ := http.NewRequest("GET", sim.URL()+"/api/accounts/me", nil)
	req.Header.Set("X-API-Key", sim.APIKey())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a request during the outage was answered %d", resp.StatusCode)
	}
	time.Sleep(350 * time.Millisecond)
	newAPI(t, sim).json("GET", "/api/accounts/me", nil, http.StatusOK, nil)
	rs := sim.RequestsTo("GET", "/api/accounts/me")
	if len(rs) != 2 || rs[0].Status != 0 || rs[0].Fault != "outage" || rs[1].Status != 200 || rs[1].Fault != "" {
		t.Errorf("recorded %+v, want a cut request (status 0, fault outage) then a 200", rs)
	}
}

// Restart drops the sockets (the calls end: a dropped connection ends a
// call), refuses connections while down, and serves the same calls on the
// same address afterwards. ClearFaults drops queued faults.
func TestRestartKeepsStateOnTheSameAddress(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t)
	a := newAPI(t, sim)
	url := sim.URL()
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"maxDuration": "60s", "medium": wsMedium(16000, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	idle := a.createCall(sim.Agents()[0].AgentID, map[string]any{"maxDuration": "60s", "joinTimeout": "30s", "medium": wsMedium(16000, nil)})
	done := make(chan error, 1)
	go func() { done <- sim.Restart(400 * time.Millisecond) }()
	time.Sleep(150 * time.Millisecond)
	if resp, err := http.Get(url + "/api/accounts/me"); err == nil {
		resp.Body.Close()
		t.Fatalf("the server answered %d while down", resp.StatusCode)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sim.URL() != url {
		t.Fatalf("restarted on %s, want %s", sim.URL(), url)
	}
	if got := a.waitCall(c.CallID, "ended", ended); deref(got.EndReason) != "hangup" {
		t.Errorf("the joined call ended with %q, want hangup (its socket dropped)", deref(got.EndReason))
	}
	if got := a.getCall(idle.CallID); got.Ended != nil {
		t.Errorf("the unjoined call did not survive the restart: %+v", got)
	}
	sim.FailNext(3, 503)
	sim.Malformed(2)
	sim.ClearFaults()
	a.json("GET", "/api/calls/"+idle.CallID, nil, http.StatusOK, nil)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
