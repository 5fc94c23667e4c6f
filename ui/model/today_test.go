package model

import (
	"testing"
)

// Issue 12, defect 7: after a 6-second call the menu said "Today: 0 min,
// $0.01": minutes and cost must round by the same rule.
func TestTodayMinutesAndCostAgree(t *testing.T) {
	for _, c := range []struct {
		mins, cost float64
		want       string
	}{
		{0.1, 0.005, "Today: 0.1 min, $0.01"},   // 6 s at $0.05/min
		{2.5, 0.125, "Today: 2.5 min, $0.13"},   // 150 s
		{0.01, 0.006, "Today: <0.1 min, $0.01"}, // 0.6 s at $0.60/min
	} {
		s := idleSnap()
		s.TodayMinutes, s.TodayCost = c.mins, c.cost
		if got := find(Render(s, t0, opt).Menu, "Today:").Label; got != c.want {
			t.Errorf("%v min, $%v: %q, want %q", c.mins, c.cost, got, c.want)
		}
	}
}
