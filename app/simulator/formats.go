package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Alternative field formats. The schema types billedDuration, freeTimeUsed
// and freeTimeRemaining only as strings and every timestamp as an RFC 3339
// date-time, and real servers vary: Django's duration field writes
// "HH:MM:SS[.ffffff]" or "D HH:MM:SS", protobuf JSON writes fractions
// ("42.300s"), timestamps may carry offsets and nanoseconds. Enums grow new
// values. With SetFormats the simulator answers in those forms, so the
// client's tolerance is tested against each.

// DurationFormat is how string-typed durations are written.
type DurationFormat string

const (
	// DurationCanonical: "42s", "42.3s" (the default).
	DurationCanonical DurationFormat = ""
	// DurationFraction: always three decimals, "42.300s".
	DurationFraction DurationFormat = "fraction"
	// DurationClock: "H:MM:SS[.ffffff]", as Python's timedelta ("0:00:42.300000").
	DurationClock DurationFormat = "clock"
	// DurationDays: "D HH:MM:SS[.ffffff]", as Django's duration field ("0 00:00:42").
	DurationDays DurationFormat = "days"
)

// Formats selects the alternative answer formats; the zero value is the
// canonical form.
type Formats struct {
	Durations DurationFormat
	// OffsetTimes writes timestamps with a +05:30 offset (and all their
	// digits, nanoseconds included) instead of UTC "Z".
	OffsetTimes bool
	// UnknownEnums writes billingStatus and endReason values the schema
	// does not list (for settled and ended calls), as a newer server might.
	UnknownEnums bool
}

// Unknown enum values sent with Formats.UnknownEnums.
const (
	UnknownBillingStatus = "BILLING_STATUS_FUTURE_KIND"
	UnknownEndReason     = "future_reason"
)

// stringDurationFields are the schema's string-typed durations (not the
// protobuf ones such as maxDuration, whose format is exact).
var stringDurationFields = map[string]bool{"billedDuration": true, "freeTimeUsed": true, "freeTimeRemaining": true}

// timeFields are the date-time fields of the answers.
var timeFields = map[string]bool{"created": true, "joined": true, "ended": true, "deletionTime": true,
	"subscriptionExpiration": true, "subscriptionScheduledUpdate": true, "subscriptionRenewal": true}

// SetFormats makes every later REST answer use f.
func (s *Server) SetFormats(f Formats) error {
	switch f.Durations {
	case DurationCanonical, DurationFraction, DurationClock, DurationDays:
	default:
		return fmt.Errorf("simulator: unknown duration format %q (want fraction, clock or days)", f.Durations)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.formats = f
	return nil
}

// controlAltFormats: POST /sim/control/alt-formats?durations=clock&offsetTimes=true&unknownEnums=true.
func (s *Server) controlAltFormats(r *http.Request) (any, error) {
	q := r.URL.Query()
	off, err := boolParam(q.Get("offsetTimes"), false)
	if err != nil {
		return nil, err
	}
	enums, err := boolParam(q.Get("unknownEnums"), false)
	if err != nil {
		return nil, err
	}
	return controlDone, s.SetFormats(Formats{Durations: DurationFormat(q.Get("durations")), OffsetTimes: off, UnknownEnums: enums})
}

// reformat rewrites a 2xx answer's body in the selected formats.
func (s *Server) reformat(rep reply) reply {
	s.mu.Lock()
	f := s.formats
	s.mu.Unlock()
	if f == (Formats{}) || rep.body == nil || rep.status < 200 || rep.status > 299 {
		return rep
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		return rep
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return rep
	}
	out, err := json.Marshal(f.walk(v))
	if err != nil {
		return rep
	}
	rep.body = json.RawMessage(out)
	return rep
}

func (f Formats) walk(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = f.walk(x[i])
		}
	case map[string]any:
		for k, e := range x {
			str, isStr := e.(string)
			switch {
			case isStr && stringDurationFields[k] && f.Durations != DurationCanonical:
				if d, err := parseDuration(str); err == nil {
					x[k] = f.Durations.format(d)
				}
			case isStr && timeFields[k] && f.OffsetTimes:
				if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
					x[k] = t.In(time.FixedZone("IST", 5*3600+1800)).Format(time.RFC3339Nano)
				}
			case isStr && k == "billingStatus" && f.UnknownEnums && str != BillingPending:
				x[k] = UnknownBillingStatus
			case isStr && k == "endReason" && f.UnknownEnums:
				x[k] = UnknownEndReason
			default:
				x[k] = f.walk(e)
			}
		}
	}
	return v
}

// format writes d in f.
func (f DurationFormat) format(d time.Duration) string {
	switch f {
	case DurationFraction:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case DurationClock, DurationDays:
		days := d / (24 * time.Hour)
		d -= days * 24 * time.Hour
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		sec, us := (d%time.Minute)/time.Second, (d%time.Second)/time.Microsecond
		var b strings.Builder
		if f == DurationDays {
			fmt.Fprintf(&b, "%d %02d:%02d:%02d", days, h, m, sec)
		} else {
			fmt.Fprintf(&b, "%d:%02d:%02d", h+days*24, m, sec)
		}
		if us != 0 {
			fmt.Fprintf(&b, ".%06d", us)
		}
		return b.String()
	}
	return formatDuration(d)
}
