package simulator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

const rate = 16000

// TestConversation joins a call, hears the greeting, talks, is answered with
// what the agent heard, pings, and hangs up over the socket.
func TestConversation(t *testing.T) {
	sim := simtest.New(t)
	a := newAPI(t, sim)
	agent := sim.Agents()[0]
	c := a.createCall(agent.AgentID, map[string]any{"maxDuration": "60s", "joinTimeout": "5s", "medium": wsMedium(rate, nil)})
	if c.JoinURL == nil || !strings.HasPrefix(*c.JoinURL, "ws://127.0.0.1:") {
		t.Fatalf("joinUrl = %v, want ws://127.0.0.1:...", c.JoinURL)
	}
	w := dial(t, *c.JoinURL)
	started := w.next("call_started", 2*time.Second)
	if started["callId"] != c.CallID {
		t.Fatalf("call_started callId = %v, want %s", started["callId"], c.CallID)
	}
	// The greeting: speaking state, audio, deltas, then a final transcript.
	w.next("state", time.Second)
	final, ok := w.until(10*time.Second, func(f wsFrame) bool {
		return !f.binary && f.msg["type"] == "transcript" && f.msg["final"] == true
	})
	if !ok || !strings.Contains(final.msg["text"].(string), agent.Name) {
		t.Fatalf("greeting transcript = %v", final.msg)
	}
	joined := a.getCall(c.CallID)
	if joined.Joined == nil || joined.ClientVersion == nil || *joined.ClientVersion != "simtest_1" {
		t.Fatalf("after join: joined=%v clientVersion=%v", joined.Joined, joined.ClientVersion)
	}
	// Speak 1.2 s, then silence: the agent answers with the length heard.
	w.stream(rate, tone(rate, 1200*time.Millisecond, 8000), false)
	w.stream(rate, make([]byte, rate*2), false)
	reply, ok := w.until(5*time.Second, func(f wsFrame) bool {
		return !f.binary && f.msg["type"] == "transcript" && f.msg["role"] == "agent" && f.msg["final"] == true
	})
	if !ok || !strings.Contains(reply.msg["text"].(string), "I heard you speak for 1.2 seconds") {
		t.Fatalf("reply = %v", reply.msg)
	}
	w.sendJSON(map[string]any{"type": "ping", "timestamp": 12.5})
	if pong := w.next("pong", 2*time.Second); pong["timestamp"] != 12.5 {
		t.Fatalf("pong = %v", pong)
	}
	w.sendJSON(map[string]any{"type": "hang_up", "message": "bye"})
	if code := w.closeStatus(5 * time.Second); code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d, want 1000", code)
	}
	got := a.waitCall(c.CallID, "ended", ended)
	if got.EndReason == nil || *got.EndReason != simulator.EndAgentHangup {
		t.Fatalf("endReason = %v, want agent_hangup", got.EndReason)
	}
	audio, _ := sim.CallAudio(c.CallID)
	if audio.ReceivedBytes() != rate*2*22/10 {
		t.Fatalf("received %d bytes, want %d", audio.ReceivedBytes(), rate*2*22/10)
	}
	if audio.SentBytes() == 0 {
		t.Fatal("agent sent no audio")
	}
}
