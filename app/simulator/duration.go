package simulator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// durationPattern is the protobuf-JSON duration form the schema requires.
var durationPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,9})?s$`)

// parseDuration parses a protobuf-JSON duration ("30s", "0.5s",
// "123.456s"). The simulator is strict where the real API is: other forms
// are rejected with a message that says what was expected.
func parseDuration(s string) (time.Duration, error) {
	if !durationPattern.MatchString(s) {
		return 0, fmt.Errorf("invalid duration %q: expected seconds with an \"s\" suffix, e.g. \"30s\" or \"1.5s\"", s)
	}
	body := strings.TrimSuffix(s, "s")
	neg := strings.HasPrefix(body, "-")
	body = strings.TrimPrefix(body, "-")
	whole, frac, _ := strings.Cut(body, ".")
	secs, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || secs > int64((1<<63-1)/int64(time.Second))-1 {
		return 0, fmt.Errorf("invalid duration %q: out of range", s)
	}
	nanos := int64(0)
	if frac != "" {
		padded := frac + strings.Repeat("0", 9-len(frac))
		nanos, _ = strconv.ParseInt(padded, 10, 64)
	}
	d := time.Duration(secs)*time.Second + time.Duration(nanos)
	if neg {
		d = -d
	}
	return d, nil
}

// formatDuration prints d in protobuf-JSON form with the fewest digits:
// 240s, 0.5s, 123.456s.
func formatDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	secs := int64(d / time.Second)
	nanos := int64(d % time.Second)
	s := strconv.FormatInt(secs, 10)
	if nanos != 0 {
		f := fmt.Sprintf("%09d", nanos)
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s + "s"
}
