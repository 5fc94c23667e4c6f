package calls

import (
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

func TestDeriveOverall(t *testing.T) {
	now := t0
	grace := 50 * time.Second
	recent := now.Add(-10 * time.Second)
	stale := now.Add(-51 * time.Second)
	call := func(s CallState) CallView { return CallView{ID: "c", State: s, Ours: true} }
	joinedElsewhere := CallView{ID: "e", State: CallBilling, Joined: now.Add(-time.Minute)}
	unjoinedElsewhere := CallView{ID: "e2", State: CallJoining}

	cases := []struct {
		name string
		in   deriveInput
		want Overall
	}{
		{"never checked", deriveInput{Health: HealthUnchecked}, OverallUnknown},
		{"ok and recent", deriveInput{Health: HealthOK, LastCheck: recent}, OverallIdle},
		{"ok but stale", deriveInput{Health: HealthOK, LastCheck: stale}, OverallUnknown},
		{"offline within grace", deriveInput{Health: HealthOffline, LastCheck: recent}, OverallIdle},
		{"offline past grace", deriveInput{Health: HealthOffline, LastCheck: stale}, OverallUnknown},
		{"rate limited within grace", deriveInput{Health: HealthRateLimited, LastCheck: recent}, OverallIdle},
		{"key rejected even if recent", deriveInput{Health: HealthKeyRejected, LastCheck: recent}, OverallUnknown},
		{"no key", deriveInput{Health: HealthNoKey, LastCheck: recent}, OverallUnknown},
		{"unaccounted active call", deriveInput{Health: HealthOK, LastCheck: recent, Unaccounted: 1}, OverallUnknown},
		{"starting", deriveInput{Health: HealthOK, LastCheck: recent, Starting: true}, OverallConnecting},
		{"creating", deriveInput{Health: HealthOK, LastCheck: recent, Ours: []CallView{call(CallCreating)}}, OverallConnecting},
		{"joining while offline", deriveInput{Health: HealthOffline, LastCheck: stale, Ours: []CallView{call(CallJoining)}}, OverallConnecting},
		{"billing", deriveInput{Health: HealthOK, LastCheck: recent, Ours: []CallView{call(CallBilling)}}, OverallBilling},
		{"billing while key rejected", deriveInput{Health: HealthKeyRejected, Ours: []CallView{call(CallBilling)}}, OverallBilling},
		{"ending", deriveInput{Health: HealthOK, LastCheck: recent, Ours: []CallView{call(CallEnding)}}, OverallEnding},
		{"ending beats connecting", deriveInput{Health: HealthOK, Ours: []CallView{call(CallJoining), call(CallEnding)}}, OverallEnding},
		{"end unconfirmed is billing", deriveInput{Health: HealthOffline, LastCheck: stale, Ours: []CallView{call(CallEndUnconfirmed)}}, OverallBilling},
		{"billing beats ending", deriveInput{Health: HealthOK, Ours: []CallView{call(CallEnding), call(CallBilling)}}, OverallBilling},
		{"billing elsewhere", deriveInput{Health: HealthOK, LastCheck: recent, Elsewhere: []CallView{joinedElsewhere}}, OverallBilling},
		{"elsewhere beats our ending", deriveInput{Health: HealthOK, Ours: []CallView{call(CallEnding)}, Elsewhere: []CallView{joinedElsewhere}}, OverallBilling},
		{"unjoined elsewhere", deriveInput{Health: HealthOK, LastCheck: recent, Elsewhere: []CallView{unjoinedElsewhere}}, OverallConnecting},
		{"ended ours ignored", deriveInput{Health: HealthOK, LastCheck: recent, Ours: []CallView{call(CallEnded)}}, OverallIdle},
	}
	for _, c := range cases {
		c.in.Now, c.in.Grace = now, grace
		if got := deriveOverall(c.in); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCostRounding(t *testing.T) {
	joined := t0
	c := CallView{Joined: joined, Ended: joined.Add(37 * time.Second)}
	if got := c.Elapsed(t0.Add(time.Hour)); got != 37*time.Second {
		t.Fatalf("elapsed of an ended call = %v", got)
	}
	// 37 s bills as 42 s = 0.7 min = $0.035.
	if got := c.Cost(t0, 0.05); got != 0.035 {
		t.Fatalf("cost = %v, want 0.035", got)
	}
	live := CallView{Joined: joined, MaxDuration: 240 * time.Second}
	if got := live.Cost(joined.Add(60*time.Second), 0.05); got != 0.05 {
		t.Fatalf("one minute live = %v", got)
	}
	if got := live.Remaining(joined.Add(200 * time.Second)); got != 40*time.Second {
		t.Fatalf("remaining = %v", got)
	}
}

func TestApplyTranscript(t *testing.T) {
	str := func(s string) *string { return &s }
	var lines []TranscriptLine
	lines = applyTranscript(lines, ultravox.Transcript{Role: "agent", Delta: str("Hel"), Ordinal: 1})
	lines = applyTranscript(lines, ultravox.Transcript{Role: "agent", Delta: str("lo "), Ordinal: 1})
	lines = applyTranscript(lines, ultravox.Transcript{Role: "user", Text: str("hi"), Final: true, Ordinal: 2})
	lines = applyTranscript(lines, ultravox.Transcript{Role: "agent", Delta: str("there"), Ordinal: 1})
	if len(lines) != 2 || lines[0].Text != "Hello there" || lines[0].Final || lines[1].Text != "hi" || !lines[1].Final {
		t.Fatalf("deltas: %+v", lines)
	}
	lines = applyTranscript(lines, ultravox.Transcript{Role: "agent", Text: str("Hello, there."), Final: true, Ordinal: 1})
	if lines[0].Text != "Hello, there." || !lines[0].Final {
		t.Fatalf("text must replace: %+v", lines[0])
	}
	for i := 3; i < 3+maxTranscriptLines+10; i++ {
		lines = applyTranscript(lines, ultravox.Transcript{Role: "user", Text: str("x"), Ordinal: i})
	}
	if len(lines) != maxTranscriptLines || lines[len(lines)-1].Ordinal != maxTranscriptLines+12 {
		t.Fatalf("bounded transcript: %d lines, last %+v", len(lines), lines[len(lines)-1])
	}
}
