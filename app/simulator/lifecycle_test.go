package simulator_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func quiet(o *simulator.Options) { o.SpeakGreeting = false }

func endReason(c simulator.Call) string {
	if c.EndReason == nil {
		return ""
	}
	return *c.EndReason
}

func TestEndReasons(t *testing.T) {
	t.Parallel()
	t.Run("unjoined", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet, func(o *simulator.Options) { o.SettleDelay = -1 })
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"joinTimeout": "0.3s", "maxDuration": "60s", "medium": wsMedium(rate, nil)})
		got := a.waitCall(c.CallID, "ended", ended)
		if endReason(got) != simulator.EndUnjoined || got.Joined != nil {
			t.Fatalf("endReason %q joined %v, want unjoined and never joined", endReason(got), got.Joined)
		}
		if got.BillingStatus != simulator.BillingFreeZeroEffective || got.BilledDuration == nil || *got.BilledDuration != "0s" {
			t.Fatalf("billing %s %v, want FREE_ZERO_EFFECTIVE_DURATION 0s", got.BillingStatus, got.BilledDuration)
		}
		if d := got.Ended.Sub(got.Created); d < 300*time.Millisecond || d > 3*time.Second {
			t.Fatalf("ended %v after creation, want about 0.3 s", d)
		}
		// The join URL is dead now.
		if _, resp, err := websocket.Dial(t.Context(), *c.JoinURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusGone {
			t.Fatalf("join after end: err %v resp %v, want 410", err, resp)
		}
	})
	t.Run("hangup: client closes its socket", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet)
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		w.conn.Close(websocket.StatusNormalClosure, "user quit")
		got := a.waitCall(c.CallID, "ended", ended)
		if endReason(got) != simulator.EndHangup {
			t.Fatalf("endReason %q, want hangup", endReason(got))
		}
	})
	t.Run("agent_hangup: REST hang_up", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet)
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		a.json("POST", "/api/calls/"+c.CallID+"/send_data_message", map[string]any{"type": "hang_up", "message": "Goodbye"}, http.StatusNoContent, nil)
		if code := w.closeStatus(5 * time.Second); code != websocket.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
		got := a.waitCall(c.CallID, "ended", ended)
		if endReason(got) != simulator.EndAgentHangup {
			t.Fatalf("endReason %q, want agent_hangup", endReason(got))
		}
		// Once ended, hang_up is refused like on an unjoined call.
		status, _, body := a.do("POST", "/api/calls/"+c.CallID+"/send_data_message", map[string]any{"type": "hang_up"})
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"detail":"Call is not active"`) {
			t.Fatalf("hang_up on ended call: %d %s", status, body)
		}
	})
	t.Run("configurable hang_up reason", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet, func(o *simulator.Options) { o.HangupReason = simulator.EndHangup })
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		w.sendJSON(map[string]any{"type": "hang_up", "message": "bye"})
		w.closeStatus(5 * time.Second)
		if got := a.waitCall(c.CallID, "ended", ended); endReason(got) != simulator.EndHangup {
			t.Fatalf("endReason %q, want hangup (configured)", endReason(got))
		}
		if err := sim.SetHangupReason("later"); err == nil {
			t.Fatal("SetHangupReason accepted an unknown reason")
		}
	})
	t.Run("timeout: speaks timeExceededMessage then ends", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet)
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "1s", "timeExceededMessage": "Time is up.", "medium": wsMedium(rate, nil)})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		said, ok := w.until(5*time.Second, func(f wsFrame) bool {
			return !f.binary && f.msg["type"] == "transcript" && f.msg["final"] == true && f.msg["role"] == "agent"
		})
		if !ok || said.msg["text"] != "Time is up." {
			t.Fatalf("final agent transcript %v, want the timeExceededMessage", said.msg)
		}
		if code := w.closeStatus(5 * time.Second); code != websocket.StatusNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
		got := a.waitCall(c.CallID, "ended", ended)
		if endReason(got) != simulator.EndTimeout {
			t.Fatalf("endReason %q, want timeout", endReason(got))
		}
		if d := got.Ended.Sub(*got.Joined); d < time.Second || d > 4*time.Second {
			t.Fatalf("call lasted %v, want the 1 s limit plus the message", d)
		}
		audio, _ := sim.CallAudio(c.CallID)
		if audio.SentBytes() < rate*2/2 {
			t.Fatalf("agent sent %d bytes for the message, want about 0.8 s of audio", audio.SentBytes())
		}
	})
	t.Run("connection_error: no audio for mediaIdleTimeout", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet, func(o *simulator.Options) { o.MediaIdleFloor = -1 })
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, map[string]any{"mediaIdleTimeout": "1s"})})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		// Audio for longer than the timeout keeps it alive...
		w.stream(rate, make([]byte, rate*2*3/2), true)
		if got := a.getCall(c.CallID); got.Ended != nil {
			t.Fatalf("call ended while audio flowed: %s", endReason(got))
		}
		// ...then silence on the wire (no frames at all) ends it.
		if code := w.closeStatus(5 * time.Second); code != 4000 {
			t.Fatalf("close code %d, want 4000", code)
		}
		got := a.waitCall(c.CallID, "ended", ended)
		if endReason(got) != simulator.EndConnectionError {
			t.Fatalf("endReason %q, want connection_error", endReason(got))
		}
	})
	t.Run("mediaIdleTimeout below the floor is raised", func(t *testing.T) {
		t.Parallel()
		clock := simulator.NewFakeClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
		sim := simtest.New(t, quiet, func(o *simulator.Options) { o.Clock = clock })
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "600s", "medium": wsMedium(rate, map[string]any{"mediaIdleTimeout": "2s"})})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		clock.Advance(9 * time.Second)
		if got := a.getCall(c.CallID); got.Ended != nil {
			t.Fatalf("ended after 9 s idle; values below 10 s count as 10 s")
		}
		clock.Advance(1 * time.Second)
		if got := a.waitCall(c.CallID, "ended", ended); endReason(got) != simulator.EndConnectionError {
			t.Fatalf("endReason %q, want connection_error", endReason(got))
		}
	})
	t.Run("system_error via ForceEnd closes with 1011", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet)
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		if err := sim.ForceEnd(c.CallID, simulator.EndSystemError); err != nil {
			t.Fatal(err)
		}
		if code := w.closeStatus(5 * time.Second); code != websocket.StatusInternalError {
			t.Fatalf("close code %d, want 1011", code)
		}
		if err := sim.ForceEnd(c.CallID, simulator.EndHangup); err == nil || !strings.Contains(err.Error(), "already ended") {
			t.Fatalf("second ForceEnd: %v", err)
		}
		if err := sim.ForceEnd(c.CallID, "vanished"); err == nil || !strings.Contains(err.Error(), "unknown end reason") {
			t.Fatalf("ForceEnd with a bad reason: %v", err)
		}
	})
	t.Run("dropped sockets end calls", func(t *testing.T) {
		t.Parallel()
		sim := simtest.New(t, quiet)
		a := newAPI(t, sim)
		c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
		w := dial(t, *c.JoinURL)
		w.next("call_started", 2*time.Second)
		sim.DropSockets()
		if code := w.closeStatus(5 * time.Second); code != -1 {
			t.Fatalf("close code %d, want none (connection dropped)", code)
		}
		if got := a.waitCall(c.CallID, "ended", ended); endReason(got) != simulator.EndHangup {
			t.Fatalf("endReason %q, want hangup", endReason(got))
		}
	})
}

func TestOneJoinerPerCall(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, quiet)
	a := newAPI(t, sim)
	c := a.createCall("", map[string]any{"maxDuration": "60s", "medium": wsMedium(rate, nil)})
	w := dial(t, *c.JoinURL)
	w.next("call_started", 2*time.Second)
	_, resp, err := websocket.Dial(t.Context(), *c.JoinURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusConflict {
		t.Fatalf("second join: err %v resp %v, want 409", err, resp)
	}
	// A guessed token gets nothing.
	bad := (*c.JoinURL)[:strings.LastIndex(*c.JoinURL, "/")+1] + "0000"
	if _, resp, err := websocket.Dial(t.Context(), bad, nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("join with a wrong token: err %v resp %v, want 404", err, resp)
	}
	// The first joiner is undisturbed.
	w.sendJSON(map[string]any{"type": "ping", "timestamp": 1})
	w.next("pong", 2*time.Second)
	// Calls with another medium cannot be joined here.
	web := a.createCall("", map[string]any{"maxDuration": "60s"})
	if _, resp, err := websocket.Dial(t.Context(), *web.JoinURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("joining a webRtc call: err %v resp %v, want 400", err, resp)
	}
}

// TestBillingRounding uses a fake clock: 37 s joined is billed as 42 s.
func TestBillingRounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		free     time.Duration
		talk     time.Duration
		billed   string
		status   string
		freeLeft string
		freeUsed string
	}{
		{"free minutes", 30 * time.Minute, 37 * time.Second, "42s", simulator.BillingFreeMinutes, "1758s", "42s"},
		{"billed", -1, 37 * time.Second, "42s", simulator.BillingBilled, "0s", "0s"},
		{"exact unit", -1, 36 * time.Second, "36s", simulator.BillingBilled, "0s", "0s"},
		{"a moment", -1, 100 * time.Millisecond, "6s", simulator.BillingBilled, "0s", "0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := simulator.NewFakeClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
			sim := simtest.New(t, quiet, func(o *simulator.Options) {
				o.Clock = clock
				o.FreeTime = tc.free
				o.SettleDelay = 3 * time.Second
			})
			a := newAPI(t, sim)
			c := a.createCall("", map[string]any{"maxDuration": "240s", "medium": wsMedium(rate, nil)})
			w := dial(t, *c.JoinURL)
			w.next("call_started", 2*time.Second)
			clock.Advance(tc.talk)
			w.sendJSON(map[string]any{"type": "hang_up"})
			w.closeStatus(5 * time.Second)
			got := a.waitCall(c.CallID, "ended", ended)
			if got.BillingStatus != simulator.BillingPending || got.BilledDuration != nil {
				t.Fatalf("right after the end: %s %v, want PENDING and no billedDuration", got.BillingStatus, got.BilledDuration)
			}
			clock.Advance(2 * time.Second)
			if got := a.getCall(c.CallID); got.BillingStatus != simulator.BillingPending {
				t.Fatalf("settled after 2 s of a 3 s settle delay: %s", got.BillingStatus)
			}
			clock.Advance(time.Second)
			got = a.getCall(c.CallID)
			if got.BillingStatus != tc.status || got.BilledDuration == nil || *got.BilledDuration != tc.billed {
				t.Fatalf("settled: %s %v, want %s %s", got.BillingStatus, got.BilledDuration, tc.status, tc.billed)
			}
			if got.Ended.Sub(*got.Joined) != tc.talk {
				t.Fatalf("joined..ended = %v, want %v", got.Ended.Sub(*got.Joined), tc.talk)
			}
			acct := sim.Account()
			if acct.FreeTimeRemaining != tc.freeLeft || acct.FreeTimeUsed != tc.freeUsed {
				t.Fatalf("free time remaining %s used %s, want %s %s", acct.FreeTimeRemaining, acct.FreeTimeUsed, tc.freeLeft, tc.freeUsed)
			}
		})
	}
}

// TestFreeTimeReservation: each call reserves its maxDuration of free time
// at create and gives back what it did not use.
func TestFreeTimeReservation(t *testing.T) {
	t.Parallel()
	clock := simulator.NewFakeClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	sim := simtest.New(t, quiet, func(o *simulator.Options) {
		o.Clock = clock
		o.FreeTime = 100 * time.Second
		o.SettleDelay = -1
	})
	a := newAPI(t, sim)
	var acct simulator.Account
	first, err := sim.StartCallElsewhere("", true, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a.json("GET", "/api/accounts/me", nil, 200, &acct)
	if acct.FreeTimeRemaining != "40s" || acct.ActiveCalls != 1 {
		t.Fatalf("after reserving 60 s: remaining %s active %d, want 40s 1", acct.FreeTimeRemaining, acct.ActiveCalls)
	}
	// A second call can reserve only what is left: 40 s.
	second, err := sim.StartCallElsewhere("", true, 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a.json("GET", "/api/accounts/me", nil, 200, &acct)
	if acct.FreeTimeRemaining != "0s" || acct.ActiveCalls != 2 {
		t.Fatalf("after the second call: remaining %s active %d", acct.FreeTimeRemaining, acct.ActiveCalls)
	}
	clock.Advance(20 * time.Second)
	if err := sim.ForceEnd(first, simulator.EndHangup); err != nil { // 24 s billed and used, 36 s refunded
		t.Fatal(err)
	}
	a.json("GET", "/api/accounts/me", nil, 200, &acct)
	if acct.FreeTimeRemaining != "36s" || acct.FreeTimeUsed != "24s" || acct.ActiveCalls != 1 {
		t.Fatalf("after the first ended: remaining %s used %s active %d, want 36s 24s 1", acct.FreeTimeRemaining, acct.FreeTimeUsed, acct.ActiveCalls)
	}
	clock.Advance(40 * time.Second) // second call: 60 s, more than its 40 s reservation
	if err := sim.ForceEnd(second, simulator.EndHangup); err != nil {
		t.Fatal(err)
	}
	got := a.getCall(second)
	if got.BillingStatus != simulator.BillingBilled || *got.BilledDuration != "60s" {
		t.Fatalf("second call: %s %v, want BILLED 60s (free time ran out)", got.BillingStatus, *got.BilledDuration)
	}
	if got := a.getCall(first); got.BillingStatus != simulator.BillingFreeMinutes {
		t.Fatalf("first call: %s, want FREE_MINUTES", got.BillingStatus)
	}
}
