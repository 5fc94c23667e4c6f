package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// The round trip delays REST and the call socket alike: a request on a kept
// connection costs one round trip, a fresh connection one more (the TCP
// handshake), a websocket ping its pong one round trip. Only lower bounds
// are checked: a busy machine may add time, never take it away.
func TestRoundTripDelaysRESTAndSocket(t *testing.T) {
	t.Parallel()
	const rtt = 120 * time.Millisecond
	sim := simtest.New(t, func(o *simulator.Options) { o.ControlAPI = true })
	a := newAPI(t, sim)
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"maxDuration": "60s", "medium": wsMedium(16000, nil)})

	// Over HTTP, as the standalone simulator is driven.
	a.json("POST", "/sim/control/round-trip?d=120ms", nil, 200, nil)
	if got := sim.RoundTrip(); got != rtt {
		t.Fatalf("RoundTrip() = %v after the control set 120ms", got)
	}
	a.json("POST", "/sim/control/round-trip?d=-1s", nil, 400, nil)

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func() time.Duration {
		t.Helper()
		req, _ := http.NewRequest("GET", sim.URL()+"/api/calls/"+c.CallID, nil)
		req.Header.Set("X-API-Key", sim.APIKey())
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 1<<16)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		if resp.StatusCode != 200 {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	if d := get(); d < 2*rtt {
		t.Errorf("first GET (new connection) took %v, want at least two round trips (%v)", d, 2*rtt)
	}
	if d := get(); d < rtt {
		t.Errorf("second GET (kept connection) took %v, want at least one round trip (%v)", d, rtt)
	}

	start := time.Now()
	w := dial(t, *c.JoinURL)
	if d := time.Since(start); d < 2*rtt {
		t.Errorf("websocket handshake took %v, want at least two round trips (%v)", d, 2*rtt)
	}
	w.next("call_started", 5*time.Second)
	start = time.Now()
	w.sendJSON(map[string]any{"type": "ping", "timestamp": 1})
	w.next("pong", 5*time.Second)
	if d := time.Since(start); d < rtt {
		t.Errorf("ping to pong took %v, want at least one round trip (%v)", d, rtt)
	}

	// Turned off, the link passes everything on, and the call still works.
	sim.SetRoundTrip(0)
	w.sendJSON(map[string]any{"type": "hang_up", "message": "bye"})
	a.waitCall(c.CallID, "ended", ended)
}
