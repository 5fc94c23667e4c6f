package ultravox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a protobuf-JSON duration: on the wire a string of seconds with
// an "s" suffix ("240s", "0.5s", "123.456s"). It marshals to that canonical
// form, which always matches the schema's pattern
// ^-?(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,9})?s$, and unmarshals leniently (see
// ParseDuration). The JSON null leaves the value unchanged (use *Duration for
// nullable fields).
type Duration time.Duration

// Seconds makes a Duration of n whole seconds.
func Seconds(n int64) Duration { return Duration(time.Duration(n) * time.Second) }

// DurationOf converts a time.Duration.
func DurationOf(d time.Duration) Duration { return Duration(d) }

// Ptr returns a pointer to a copy of d (for optional request fields).
func (d Duration) Ptr() *Duration { return &d }

// Std is d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String is the canonical protobuf form: "240s", "0.5s", "-1.000000001s".
func (d Duration) String() string {
	n := int64(d)
	neg := n < 0
	// Work on the magnitude as uint64 so math.MinInt64 does not overflow.
	var mag uint64
	if neg {
		mag = uint64(-(n + 1)) + 1
	} else {
		mag = uint64(n)
	}
	secs := mag / 1e9
	frac := mag % 1e9
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(strconv.FormatUint(secs, 10))
	if frac != 0 {
		f := fmt.Sprintf("%09d", frac)
		b.WriteByte('.')
		b.WriteString(strings.TrimRight(f, "0"))
	}
	b.WriteByte('s')
	return b.String()
}

// maxWholeSeconds is the largest whole number of seconds a time.Duration
// holds (9223372036 s, about 292 years).
const maxWholeSeconds = math.MaxInt64 / int64(time.Second)

// ParseDuration parses the protobuf form ("240s", "0.5s", "-1.5s") and,
// leniently, what servers and people also write: a bare number of seconds
// ("240", "0.5", "1e3"), Go durations ("1h", "90m", "1m30s", "250ms"), with
// surrounding spaces ignored. Digits beyond nanoseconds are dropped. Values
// outside about ±292 years are an error.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("ultravox: empty duration: want seconds like \"240s\"")
	}
	if d, ok, err := parseSeconds(t); ok {
		if err != nil {
			return 0, fmt.Errorf("ultravox: invalid duration %s: %w", quoted(s), err)
		}
		return d, nil
	}
	if d, err := time.ParseDuration(t); err == nil {
		return Duration(d), nil
	}
	if d, ok, err := parseClockDuration(t); ok { // "H:MM:SS[.ffffff]", "D HH:MM:SS" (tolerant.go)
		if err != nil {
			return 0, fmt.Errorf("ultravox: invalid duration %s: %w", quoted(s), err)
		}
		return d, nil
	}
	// Bare numbers in exponent form ("1e3", "2.5E-1").
	num := strings.TrimSuffix(t, "s")
	if strings.ContainsAny(num, "eE") {
		if f, err := strconv.ParseFloat(num, 64); err == nil {
			return fromFloatSeconds(s, f)
		}
	}
	return 0, fmt.Errorf("ultravox: invalid duration %s: want seconds like \"240s\" or \"0.5s\", or a Go duration like \"1m30s\"", quoted(s))
}

// parseSeconds parses [+-]digits[.digits][s] exactly. ok is false when t is
// not of that shape (so other parsers may try).
func parseSeconds(t string) (d Duration, ok bool, err error) {
	i := 0
	neg := false
	if i < len(t) && (t[i] == '-' || t[i] == '+') {
		neg = t[i] == '-'
		i++
	}
	intStart := i
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	intDigits := t[intStart:i]
	var fracDigits string
	if i < len(t) && t[i] == '.' {
		i++
		fs := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		fracDigits = t[fs:i]
	}
	if i < len(t) && t[i] == 's' {
		i++
	}
	if i != len(t) || (intDigits == "" && fracDigits == "") {
		return 0, false, nil
	}
	intDigits = strings.TrimLeft(intDigits, "0")
	var secs int64
	if intDigits != "" {
		if len(intDigits) > 11 {
			return 0, true, fmt.Errorf("out of range (more than %d seconds)", maxWholeSeconds)
		}
		secs, _ = strconv.ParseInt(intDigits, 10, 64)
		if secs > maxWholeSeconds {
			return 0, true, fmt.Errorf("out of range (more than %d seconds)", maxWholeSeconds)
		}
	}
	if len(fracDigits) > 9 {
		fracDigits = fracDigits[:9]
	}
	var nanos int64
	if fracDigits != "" {
		nanos, _ = strconv.ParseInt(fracDigits+strings.Repeat("0", 9-len(fracDigits)), 10, 64)
	}
	total := secs*int64(time.Second) + nanos
	if total < 0 { // overflow past MaxInt64 in the last second
		return 0, true, fmt.Errorf("out of range (more than %d seconds)", maxWholeSeconds)
	}
	if neg {
		total = -total
	}
	return Duration(total), true, nil
}

func fromFloatSeconds(orig string, f float64) (Duration, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("ultravox: invalid duration %s: not a finite number", quoted(orig))
	}
	ns := f * 1e9
	if ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return 0, fmt.Errorf("ultravox: invalid duration %s: out of range (more than %d seconds)", quoted(orig), maxWholeSeconds)
	}
	return Duration(int64(ns)), nil
}

// MarshalJSON writes the canonical string form.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts a string (any form ParseDuration takes), a JSON
// number of seconds, or null (no change).
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("ultravox: invalid duration %s: %w", clip(string(b), 40), err)
		}
		v, err := ParseDuration(s)
		if err != nil {
			return err
		}
		*d = v
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("ultravox: invalid duration %s: want a string like \"240s\" or a number of seconds", clip(string(b), 40))
	}
	v, err := ParseDuration(n.String())
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes the canonical form (for settings files and flags).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses like ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// quoted is s in Go quotes, cut to about 60 bytes (invalid UTF-8 and
// control characters escaped) for an error message.
func quoted(s string) string {
	q := strconv.Quote(clip(s, 40))
	if len(q) > 60 {
		q = q[:56]
		// Do not end inside an escape sequence.
		if i := strings.LastIndexByte(q, '\\'); i >= 52 {
			q = q[:i]
		}
		q += `…"`
	}
	return q
}

// clip shortens s to at most n runes for an error message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
