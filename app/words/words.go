// Package words holds the few formatting rules that every part of the app
// shows to the user, so that the menu, the windows and the notifications
// never disagree: a duration as a clock, money in cents, a sentence's first
// letter.
package words

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Clock shows a duration as m:ss, or h:mm:ss from one hour on, in whole
// elapsed seconds as a stopwatch does; negative durations show as 0:00.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Money shows dollars with cents, rounding half a cent up ($0.125 is
// "$0.13"), the same way everywhere the user sees an amount.
func Money(dollars float64) string {
	cents := math.Round(dollars*100 + 1e-9)
	if cents == 0 {
		cents = 0 // no "-$0.00"
	}
	if cents < 0 {
		return fmt.Sprintf("-$%d.%02d", int64(-cents)/100, int64(-cents)%100)
	}
	return fmt.Sprintf("$%d.%02d", int64(cents)/100, int64(cents)%100)
}

// Minutes shows billed minutes by the rule Money uses (half up), so that an
// amount next to them never disagrees: tenths of a minute below ten minutes
// ("0.1 min" for a 6-second call, "2.5 min"), whole minutes from ten on; a
// positive amount below a twentieth of a minute is "<0.1 min", never "0 min"
// beside a cost.
func Minutes(m float64) string {
	if m <= 0 {
		return "0 min"
	}
	if m >= 10 {
		return fmt.Sprintf("%d min", int64(math.Round(m+1e-9)))
	}
	tenths := int64(math.Round(m*10 + 1e-9))
	switch {
	case tenths == 0:
		return "<0.1 min"
	case tenths%10 == 0:
		return fmt.Sprintf("%d min", tenths/10)
	}
	return fmt.Sprintf("%d.%d min", tenths/10, tenths%10)
}

// Capitalize upper-cases the first letter of s.
func Capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// Sentence capitalizes s and ends it with a full stop unless it already
// ends with punctuation.
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = Capitalize(s)
	if !strings.ContainsAny(s[len(s)-1:], ".!?") && !strings.HasSuffix(s, "…") {
		s += "."
	}
	return s
}
