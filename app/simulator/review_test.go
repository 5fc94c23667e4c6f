package simulator_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// A recorded call with a few messages, ended by the client, settled.
func finishedCall(t *testing.T, sim *simulator.Server, a *api) simulator.Call {
	t.Helper()
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"medium": wsMedium(16000, nil), "recordingEnabled": true})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 5*time.Second)
	w.stream(16000, tone(16000, 400*time.Millisecond, 0.3), false)
	for _, text := range []string{"one", "two", "three"} {
		a.json("POST", "/api/calls/"+c.CallID+"/send_data_message", map[string]any{"type": "user_text_message", "text": text}, 204, nil)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(sim.Messages(c.CallID)) < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	w.conn.Close(websocket.StatusNormalClosure, "bye")
	return a.waitCall(c.CallID, "settled", func(c simulator.Call) bool { return c.BillingStatus != simulator.BillingPending && c.Ended != nil })
}

func TestMessagesPagesRecordingAndSummary(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.SettleDelay = -1; o.FreeTime = -1 })
	a := newAPI(t, sim)
	c := finishedCall(t, sim, a)
	want := sim.Messages(c.CallID)
	if len(want) < 4 {
		t.Fatalf("only %d messages", len(want))
	}
	// Pages of 2, followed by their next links, give every message once.
	var got []simulator.Message
	path := "/api/calls/" + c.CallID + "/messages?pageSize=2"
	for pages := 0; path != ""; pages++ {
		var p simulator.Page[simulator.Message]
		a.json("GET", path, nil, 200, &p)
		got = append(got, p.Results...)
		path = ""
		if p.Next != nil {
			u, _ := url.Parse(*p.Next)
			path = u.RequestURI()
		}
		if pages > 10 {
			t.Fatal("no end of pages")
		}
	}
	if len(got) != len(want) || got[0].Text != want[0].Text || got[len(got)-1].Text != want[len(want)-1].Text {
		t.Fatalf("paged %d messages, want %d", len(got), len(want))
	}
	if c.ShortSummary == nil || !strings.Contains(*c.Summary, "the caller hung up") {
		t.Errorf("summaries %v %v", c.ShortSummary, c.Summary)
	}
	// The recording itself (validated as audio/wav by the contract).
	st, h, wav := a.do("GET", "/api/calls/"+c.CallID+"/recording", nil)
	if st != 200 || h.Get("Content-Type") != "audio/wav" || !bytes.HasPrefix(wav, []byte("RIFF")) || len(wav) < 44+16000 ||
		string(wav[12:16]) != "fmt " || binary.LittleEndian.Uint16(wav[20:]) != 1 || binary.LittleEndian.Uint32(wav[24:]) != 16000 || string(wav[36:40]) != "data" {
		t.Fatalf("recording: %d %s, %d bytes", st, h.Get("Content-Type"), len(wav))
	}
	// Through the storage redirect: another host, which refuses the key.
	if err := sim.SetRecordingRedirect(true); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	noFollow := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", sim.URL()+"/api/calls/"+c.CallID+"/recording", nil)
	req.Header.Set("X-API-Key", sim.APIKey())
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || loc == "" || strings.HasPrefix(loc, sim.URL()) {
		t.Fatalf("redirect %d to %q", resp.StatusCode, loc)
	}
	withKey, _ := http.NewRequest("GET", loc, nil)
	withKey.Header.Set("X-API-Key", sim.APIKey())
	r, err := hc.Do(withKey)
	if err != nil || r.StatusCode != 400 {
		t.Fatalf("storage with the key: %v %v", r, err)
	}
	r.Body.Close()
	r, err = hc.Get(loc)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("storage without the key: %v %v", r, err)
	}
	r.Body.Close()
	if reqs := sim.StorageRequests(); len(reqs) != 2 || !reqs[0].HadAPIKey || reqs[1].HadAPIKey {
		t.Errorf("storage requests %+v", reqs)
	}
	// A call without recordingEnabled has none.
	plain := a.createCall("", map[string]any{"medium": wsMedium(16000, nil)})
	if st, _, body := a.do("GET", "/api/calls/"+plain.CallID+"/recording", nil); st != 404 || !strings.Contains(string(body), "recordingEnabled") {
		t.Errorf("recording of an unrecorded call: %d %s", st, body)
	}
}

func TestContinueWithPriorCallID(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.SettleDelay = -1 })
	a := newAPI(t, sim)
	prior := finishedCall(t, sim, a)
	var next simulator.Call
	a.json("POST", "/api/calls?priorCallId="+prior.CallID, map[string]any{"medium": wsMedium(16000, nil), "maxDuration": "30s"}, 201, &next)
	if sim.PriorCallID(next.CallID) != prior.CallID || next.MaxDuration != "30s" || !next.RecordingEnabled || next.Agent == nil || next.Agent.AgentID != prior.Agent.AgentID {
		t.Errorf("continued call %+v (prior %q)", next, sim.PriorCallID(next.CallID))
	}
	pm, nm := sim.Messages(prior.CallID), sim.Messages(next.CallID)
	if len(nm) != len(pm) || nm[0].Text != pm[0].Text || nm[0].CallStageID != next.CallID {
		t.Errorf("continued call's messages %+v, prior %d", nm, len(pm))
	}
	if st, _, body := a.do("POST", "/api/calls?priorCallId="+prior.CallID, map[string]any{"initialMessages": []any{map[string]any{"role": "MESSAGE_ROLE_USER", "text": "x"}}}); st != 400 || !strings.Contains(string(body), "initialMessages") {
		t.Errorf("priorCallId with initialMessages: %d %s", st, body)
	}
	if st, _, body := a.do("POST", "/api/calls?priorCallId=00000000-0000-4000-8000-000000000000", map[string]any{}); st != 400 || !strings.Contains(string(body), "priorCallId") {
		t.Errorf("unknown prior call: %d %s", st, body)
	}
}
