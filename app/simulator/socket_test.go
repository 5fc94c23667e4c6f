package simulator_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// TestOddAudioFrames sends what a careless client might: empty frames,
// single bytes and odd byte counts, while the agent talks at another rate
// than it hears and switches to text and back mid-sentence. The call lives
// on, every byte is recorded, and the user's speech cut at odd places is
// still heard at its true length (the audio is one s16le byte stream).
func TestOddAudioFrames(t *testing.T) {
	t.Parallel()
	const in, out = 8000, 24000
	sim := simtest.New(t)
	a := newAPI(t, sim)
	medium := map[string]any{"serverWebSocket": map[string]any{"inputSampleRate": in, "outputSampleRate": out}}
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"maxDuration": "60s", "medium": medium})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)

	sent := 0
	send := func(pcm []byte, sizes ...int) {
		t.Helper()
		for off, i := 0, 0; off < len(pcm) || i == 0; i++ {
			end := min(off+sizes[i%len(sizes)], len(pcm))
			if err := w.sendPCM(pcm[off:end]); err != nil {
				t.Fatalf("send %d bytes: %v", end-off, err)
			}
			sent += end - off
			off = end
		}
	}
	// While the greeting plays (the agent's audio is paced by its ticks).
	if st := w.next("state", 2*time.Second); st["state"] != "listening" {
		t.Fatalf("first state %v", st)
	}
	if st := w.next("state", 2*time.Second); st["state"] != "speaking" {
		t.Fatalf("second state %v", st)
	}
	quiet := make([]byte, in*2/5)
	for _, sizes := range [][]int{{0, 2}, {1}, {3}, {0, 1, 0, 641}, {7, 1}} {
		send(quiet[:min(len(quiet), 1400)], sizes...)
	}
	w.sendJSON(map[string]any{"type": "set_output_medium", "medium": "text"})
	send(quiet, 1, 0, 3)
	w.sendJSON(map[string]any{"type": "set_output_medium", "medium": "voice"})
	send(quiet, 641, 0, 5)
	if _, ok := w.until(15*time.Second, agentFinal); !ok {
		t.Fatalf("no end of the greeting (socket: %v)", w.err)
	}

	// Speech cut anywhere, then quiet cut anywhere.
	send(tone(in, 1200*time.Millisecond, 8000), 1, 0, 3, 641, 7, 2)
	send(make([]byte, in*2), 319, 1, 0)
	reply, ok := w.until(5*time.Second, agentFinal)
	if !ok || !strings.Contains(reply.msg["text"].(string), "I heard you speak for 1.2 seconds") {
		t.Fatalf("reply %v (socket: %v)", reply.msg, w.err)
	}
	if got := a.getCall(c.CallID); got.Ended != nil {
		t.Fatalf("the call ended: %v", endReason(got))
	}
	audio, _ := sim.CallAudio(c.CallID)
	if audio.ReceivedBytes() != sent || audio.InputRate != in || audio.OutputRate != out {
		t.Fatalf("recorded %d bytes at %d/%d Hz, sent %d at %d/%d", audio.ReceivedBytes(), audio.InputRate, audio.OutputRate, sent, in, out)
	}
	if audio.SentBytes()%2 != 0 {
		t.Fatalf("the agent sent %d bytes: not whole samples", audio.SentBytes())
	}
	w.sendJSON(map[string]any{"type": "hang_up"})
	if code := w.closeStatus(5 * time.Second); code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d", code)
	}
}

// joinRace dials joinURL and reports how the socket ended: "" when the
// dial was refused or dropped, else the close code.
func joinRace(t *testing.T, joinURL string) (joined bool, code websocket.StatusCode) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, joinURL, nil)
	if err != nil {
		return false, 0
	}
	defer conn.CloseNow()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Errorf("socket still open 10 s after the call ended or the server closed")
			}
			return true, websocket.CloseStatus(err)
		}
	}
}

// An end of the call (ForceEnd, as a timer or the control API would do it)
// racing a join: whichever wins, nothing crashes, the joiner is refused or
// told the call ended, and the call ends once.
func TestJoinRacesCallEnd(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)
	joinedEnded := 0
	for i := 0; i < 150; i++ {
		c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
		var wg sync.WaitGroup
		var joined bool
		var code websocket.StatusCode
		wg.Add(1)
		go func() {
			defer wg.Done()
			joined, code = joinRace(t, *c.JoinURL)
		}()
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
		if err := sim.ForceEnd(c.CallID, simulator.EndHangup); err != nil {
			t.Fatalf("ForceEnd: %v", err)
		}
		wg.Wait()
		got := a.getCall(c.CallID)
		if got.Ended == nil || endReason(got) != simulator.EndHangup {
			t.Fatalf("call %d after the race: ended %v reason %q", i, got.Ended, endReason(got))
		}
		if joined {
			joinedEnded++
			if code != websocket.StatusNormalClosure {
				t.Fatalf("call %d: the joiner's socket closed with %d, want 1000", i, code)
			}
		}
	}
	t.Logf("%d of 150 joins got a socket before the end", joinedEnded)
}

// Close racing joins: Close returns, every joiner is refused or dropped,
// and nothing started for a join outlives Close (goleak in TestMain).
func TestJoinRacesClose(t *testing.T) {
	t.Parallel()
	for i := 0; i < 40; i++ {
		o := simulator.DefaultOptions()
		o.SpeakGreeting = false
		sim := simulator.New(o)
		if err := sim.Start(); err != nil {
			t.Fatal(err)
		}
		a := newAPI(t, sim)
		var urls []string
		for j := 0; j < 3; j++ {
			c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
			urls = append(urls, *c.JoinURL)
		}
		var wg sync.WaitGroup
		for _, u := range urls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				joinRace(t, u)
			}()
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		closed := make(chan struct{})
		go func() {
			sim.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Close still running after 10 s", i)
		}
		wg.Wait()
	}
}
