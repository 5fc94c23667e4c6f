package model

import (
	"fmt"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// The tray re-renders once a second; these show what one tick costs next to
// a baseline measured in the same run (formatting the clock alone).

func benchSnap() calls.Snapshot {
	s := billingSnap()
	for i := 0; i < 100; i++ {
		s.History = append(s.History, calls.HistoryEntry{CallID: fmt.Sprint(i), AgentName: "Support agent",
			Started: t0.Add(-time.Duration(i) * time.Hour), BilledDuration: time.Minute, Cost: 0.05, EndReason: "hangup"})
	}
	for i := 0; i < 5; i++ {
		s.Agents = append(s.Agents, calls.AgentView{ID: fmt.Sprint("a", i+2), Name: fmt.Sprint("Agent ", i)})
	}
	return s
}

func BenchmarkBaselineClock(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = words.Clock(time.Duration(i) * time.Second)
	}
}

func BenchmarkTickRenderAndSignature(b *testing.B) {
	s := benchSnap()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v := Render(s, t0.Add(time.Duration(i)*time.Second), opt)
		_ = Signature(v.Menu)
	}
}
