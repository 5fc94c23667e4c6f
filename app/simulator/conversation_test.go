package simulator_test

import (
	"context"
	"errors"
	"math"
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
	t.Parallel()
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

func agentFinal(f wsFrame) bool {
	return !f.binary && f.msg["type"] == "transcript" && f.msg["role"] == "agent" && f.msg["final"] == true
}

// TestBargeIn: talking over the greeting clears the client's playback and
// stops the agent; it answers once the user is quiet.
func TestBargeIn(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t)
	a := newAPI(t, sim)
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
	w := dial(t, *c.JoinURL)
	if _, ok := w.until(3*time.Second, func(f wsFrame) bool { return f.binary }); !ok {
		t.Fatal("the agent did not start speaking")
	}
	w.stream(rate, tone(rate, 300*time.Millisecond, 8000), false)
	w.next("playback_clear_buffer", 2*time.Second)
	cut, ok := w.until(2*time.Second, agentFinal)
	greeting := "Hi, this is Support agent. How can I help?"
	if !ok || len(cut.msg["text"].(string)) >= len(greeting) {
		t.Fatalf("interrupted greeting's final transcript = %v, want it cut short", cut.msg)
	}
	// No agent audio until the user has finished and the agent thought.
	w.stream(rate, make([]byte, rate*2), false)
	audioBefore := 0
	f, ok := w.until(3*time.Second, func(f wsFrame) bool {
		if f.binary {
			audioBefore++
		}
		return !f.binary && f.msg["type"] == "state" && f.msg["state"] == "thinking"
	})
	if !ok || audioBefore != 0 {
		t.Fatalf("thinking state %v; %d agent audio frames after the barge-in", f.msg, audioBefore)
	}
	reply, ok := w.until(5*time.Second, agentFinal)
	if !ok || !strings.Contains(reply.msg["text"].(string), "I heard you speak for 0.3 seconds") {
		t.Fatalf("reply = %v", reply.msg)
	}
	msgs := sim.Messages(c.CallID)
	if n := len(msgs); n < 2 || msgs[n-2].Role != "MESSAGE_ROLE_USER" || msgs[n-1].Role != "MESSAGE_ROLE_AGENT" || msgs[n-1].Text != reply.msg["text"] {
		t.Fatalf("messages = %+v", msgs)
	}
}

// TestPacedSpeechWithNoise: real-time 20 ms frames with a noise floor, and a
// user who stops sending audio mid-word.
func TestPacedSpeechWithNoise(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	noise := tone(rate, 500*time.Millisecond, 150) // well below speech
	w.stream(rate, noise, true)
	w.stream(rate, tone(rate, 1400*time.Millisecond, 6000), true)
	w.stream(rate, tone(rate, 800*time.Millisecond, 150), true)
	reply, ok := w.until(5*time.Second, agentFinal)
	if !ok || !strings.Contains(reply.msg["text"].(string), "1.4 seconds") {
		t.Fatalf("reply = %v", reply.msg)
	}
	// Audio stops while the user speaks: the silence on the wire ends the turn.
	w.stream(rate, tone(rate, 500*time.Millisecond, 6000), false)
	reply, ok = w.until(5*time.Second, agentFinal)
	if !ok || !strings.Contains(reply.msg["text"].(string), "0.5 seconds") {
		t.Fatalf("reply after the audio stopped = %v", reply.msg)
	}
	audio, _ := sim.CallAudio(c.CallID)
	if len(audio.Received) != (500+1400+800+500)/20 || audio.InputRate != rate {
		t.Fatalf("recorded %d frames at %d Hz, want %d at %d", len(audio.Received), audio.InputRate, (500+1400+800+500)/20, rate)
	}
	// Arrival times are recorded: the paced part took about real time.
	paced := audio.Received[(500+1400+800)/20-1].At.Sub(audio.Received[0].At)
	if paced < 2*time.Second || paced > 6*time.Second {
		t.Fatalf("2.7 s of paced audio arrived over %v", paced)
	}
}

// TestAgentAudioIsPaced: the greeting arrives at the output rate, in 20-60 ms
// chunks, at about one second of audio per second.
func TestAgentAudioIsPaced(t *testing.T) {
	t.Parallel()
	const out = 24000
	sim := simtest.New(t)
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": map[string]any{"serverWebSocket": map[string]any{"inputSampleRate": rate, "outputSampleRate": out}},
		"firstSpeakerSettings": map[string]any{"agent": map[string]any{"text": "Testing the pacing of agent audio."}}})
	w := dial(t, *c.JoinURL)
	final, ok := w.until(10*time.Second, agentFinal)
	if !ok || final.msg["text"] != "Testing the pacing of agent audio." {
		t.Fatalf("greeting = %v", final.msg)
	}
	audio, _ := sim.CallAudio(c.CallID)
	if audio.OutputRate != out || len(audio.Sent) < 10 {
		t.Fatalf("sent %d chunks at %d Hz", len(audio.Sent), audio.OutputRate)
	}
	for i, ch := range audio.Sent {
		if len(ch.Data)%2 != 0 || len(ch.Data) > out*2*60/1000 {
			t.Fatalf("chunk %d is %d bytes: want whole samples, at most 60 ms", i, len(ch.Data))
		}
	}
	seconds := float64(audio.SentBytes()) / (2 * out)
	span := audio.Sent[len(audio.Sent)-1].At.Sub(audio.Sent[0].At).Seconds()
	if span < seconds*0.8-0.1 || span > seconds*1.5+0.2 {
		t.Fatalf("%.2f s of audio sent over %.2f s: not real time", seconds, span)
	}
	// The greeting's audio is speech-like: loud syllables and quiet gaps.
	var loud, quiet int
	for _, ch := range audio.Sent {
		if level := rmsOf(ch.Data); level > 1500 {
			loud++
		} else if level < 800 {
			quiet++
		}
	}
	if loud == 0 || quiet == 0 {
		t.Fatalf("%d loud and %d quiet chunks: want both", loud, quiet)
	}
}

func TestTextMessages(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	for _, typ := range []string{"user_text_message", "input_text_message"} {
		w.sendJSON(map[string]any{"type": typ, "text": "hello there"})
		user, ok := w.until(2*time.Second, func(f wsFrame) bool { return !f.binary && f.msg["role"] == "user" })
		if !ok || user.msg["text"] != "hello there" || user.msg["medium"] != "text" {
			t.Fatalf("%s: user transcript %v", typ, user.msg)
		}
		reply, ok := w.until(5*time.Second, agentFinal)
		if !ok || !strings.Contains(reply.msg["text"].(string), `"hello there"`) || reply.msg["medium"] != "voice" {
			t.Fatalf("%s: reply %v", typ, reply.msg)
		}
	}
	// Over REST too.
	a.json("POST", "/api/calls/"+c.CallID+"/send_data_message", map[string]any{"type": "user_text_message", "text": "via rest"}, 204, nil)
	if reply, ok := w.until(5*time.Second, agentFinal); !ok || !strings.Contains(reply.msg["text"].(string), "via rest") {
		t.Fatalf("REST user_text_message reply %v", reply.msg)
	}
	// Text output: no audio, transcript medium text.
	w.sendJSON(map[string]any{"type": "set_output_medium", "medium": "text"})
	w.sendJSON(map[string]any{"type": "user_text_message", "text": "quietly"})
	audioFrames := 0
	reply, ok := w.until(5*time.Second, func(f wsFrame) bool {
		if f.binary {
			audioFrames++
		}
		return agentFinal(f)
	})
	if !ok || reply.msg["medium"] != "text" || audioFrames != 0 {
		t.Fatalf("text-medium reply %v with %d audio frames", reply.msg, audioFrames)
	}
	// Unknown and broken messages get a debug note, never a dropped call.
	w.sendJSON(map[string]any{"type": "dance"})
	if d := w.next("debug", 2*time.Second); !strings.Contains(d["message"].(string), "dance") {
		t.Fatalf("debug = %v", d)
	}
	w.conn.Write(t.Context(), websocket.MessageText, []byte("{not json"))
	w.next("debug", 2*time.Second)
	w.sendJSON(map[string]any{"type": "ping"})
	if p := w.next("pong", 2*time.Second); p["timestamp"] != nil {
		t.Fatalf("pong without timestamp = %v", p)
	}
	// The transcript is available over REST.
	var msgs simulator.Page[simulator.Message]
	a.json("GET", "/api/calls/"+c.CallID+"/messages", nil, 200, &msgs)
	if msgs.Total < 7 || msgs.Results[0].Text != "hello there" || msgs.Results[0].Role != "MESSAGE_ROLE_USER" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func rmsOf(pcm []byte) float64 {
	var sum float64
	n := len(pcm) / 2
	for i := 0; i < n; i++ {
		v := float64(int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8))
		sum += v * v
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}

// TestAgentHangsUp: "bye" makes the agent say goodbye and end the call
// itself (agent_hangup, close 1000).
func TestAgentHangsUp(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	w.sendJSON(map[string]any{"type": "user_text_message", "text": "Bye!"})
	if said, ok := w.until(5*time.Second, agentFinal); !ok || said.msg["text"] != "Goodbye!" {
		t.Fatalf("agent said %v", said.msg)
	}
	if code := w.closeStatus(5 * time.Second); code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d", code)
	}
	if got := a.waitCall(c.CallID, "ended", ended); endReason(got) != simulator.EndAgentHangup {
		t.Fatalf("endReason %q, want agent_hangup", endReason(got))
	}
	if reqs := sim.Requests(); len(reqs) == 0 || !strings.HasPrefix(reqs[0].UserAgent, "Go-http-client") {
		t.Fatalf("recorded user agent %q", reqs[0].UserAgent)
	}
}

// TestAgentVoice: a pluggable voice (espeak-ng says the words); a failing
// voice falls back to the synthetic one instead of silence.
func TestAgentVoice(t *testing.T) {
	t.Parallel()
	voices := map[string]simulator.SpeechFunc{
		"failing": func(context.Context, string, int) ([]byte, error) { return nil, errors.New("no voice today") },
	}
	if simulator.EspeakPath() != "" {
		voices["espeak"] = simulator.EspeakSpeech
	}
	for name, voice := range voices {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := simtest.New(t, func(o *simulator.Options) { o.Speech = voice })
			a := newAPI(t, sim)
			c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil),
				"firstSpeakerSettings": map[string]any{"agent": map[string]any{"text": "Hello there."}}})
			w := dial(t, *c.JoinURL)
			if f, ok := w.until(5*time.Second, agentFinal); !ok || f.msg["text"] != "Hello there." {
				t.Fatalf("greeting %v", f.msg)
			}
			audio, _ := sim.CallAudio(c.CallID)
			if secs := float64(audio.SentBytes()) / 2 / rate; secs < 0.3 || secs > 4 {
				t.Fatalf("%.2f s of greeting audio", secs)
			}
		})
	}
}

// TestBurstAudio: with a large client buffer and SendAhead, the agent's
// audio arrives ahead of real time, and a barge-in still clears it.
func TestBurstAudio(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, func(o *simulator.Options) { o.SendAhead = 30 * time.Second })
	a := newAPI(t, sim)
	text := "This greeting is long enough to take a few seconds to say out loud."
	c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, map[string]any{"clientBufferSizeMs": 30000}),
		"firstSpeakerSettings": map[string]any{"agent": map[string]any{"text": text}}})
	w := dial(t, *c.JoinURL)
	start := time.Now()
	bytes := 0
	w.until(5*time.Second, func(f wsFrame) bool {
		if f.binary {
			bytes += len(f.data)
		}
		return bytes >= rate*2*4 // four seconds of audio
	})
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Fatalf("4 s of audio took %v: not sent ahead of real time", d)
	}
	w.stream(rate, tone(rate, 200*time.Millisecond, 8000), false)
	w.next("playback_clear_buffer", 2*time.Second)

	// Without a large client buffer the same server paces in real time.
	c2 := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil),
		"firstSpeakerSettings": map[string]any{"agent": map[string]any{"text": text}}})
	w2 := dial(t, *c2.JoinURL)
	start = time.Now()
	bytes = 0
	w2.until(5*time.Second, func(f wsFrame) bool {
		if f.binary {
			bytes += len(f.data)
		}
		return bytes >= rate*2
	})
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Fatalf("1 s of audio arrived in %v with a 60 ms client buffer", d)
	}
}
