package words

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0:00"},
		{0, "0:00"},
		{1000 * time.Millisecond, "0:01"},
		{999 * time.Millisecond, "0:00"},
		{59 * time.Second, "0:59"},
		{150 * time.Second, "2:30"},
		{time.Hour - time.Second, "59:59"},
		{time.Hour + 61*time.Second, "1:01:01"},
	} {
		if got := Clock(c.d); got != c.want {
			t.Errorf("Clock(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestMoney(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    float64
		want string
	}{
		{0, "$0.00"},
		{0.005, "$0.01"},
		{0.0049, "$0.00"},
		{0.125, "$0.13"}, // 150 s at $0.05/min: half a cent rounds up
		{0.135, "$0.14"},
		{1.2, "$1.20"},
		{12.345, "$12.35"},
		{-0.5, "-$0.50"},
		{-0.001, "$0.00"},
	} {
		if got := Money(c.d); got != c.want {
			t.Errorf("Money(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestMinutes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		m    float64
		want string
	}{
		{0, "0 min"},
		{-1, "0 min"},
		{0.01, "<0.1 min"},
		{0.05, "0.1 min"}, // half up, as Money
		{0.1, "0.1 min"},  // a 6-second call: beside "$0.01", never "0 min"
		{2.5, "2.5 min"},
		{3, "3 min"},
		{9.96, "10 min"},
		{17.6, "18 min"},
	} {
		if got := Minutes(c.m); got != c.want {
			t.Errorf("Minutes(%v) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestCapitalizeAndSentence(t *testing.T) {
	t.Parallel()
	if got := Capitalize("éa b"); got != "Éa b" {
		t.Errorf("Capitalize = %q", got)
	}
	if got := Capitalize(""); got != "" {
		t.Errorf("Capitalize empty = %q", got)
	}
	for in, want := range map[string]string{
		"call ended":   "Call ended.",
		"call ended!":  "Call ended!",
		"open…":        "Open…",
		"  spaced  ":   "Spaced.",
		"":             "",
		"Already. Ok?": "Already. Ok?",
	} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
