package ultravox

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tolerant reading. The schema types some response fields only as "string"
// (billedDuration, freeTimeUsed, freeTimeRemaining) or as enums that grow,
// and servers write them in more than one form. One odd field must never
// fail a whole account check or a list page: it is dropped (logged once)
// and the rest of the object is used.

// parseClockDuration parses "[-][D ]H:MM:SS[.ffffff]" (Django's and
// Python's timedelta forms, also "D days, H:MM:SS"). ok is false when s is
// not of that shape.
func parseClockDuration(s string) (d Duration, ok bool, err error) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	var days int64
	if i := strings.IndexAny(t, " ,"); i >= 0 {
		dayPart := strings.TrimSpace(t[:i])
		rest := strings.TrimSpace(strings.TrimLeft(t[i:], " ,"))
		dayPart = strings.TrimSuffix(strings.TrimSuffix(dayPart, "days"), "day")
		dayPart = strings.TrimSpace(dayPart)
		if strings.HasPrefix(rest, "days") || strings.HasPrefix(rest, "day") {
			rest = strings.TrimSpace(strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(rest, "days"), "day"), " ,"))
		}
		n, perr := strconv.ParseInt(dayPart, 10, 64)
		if perr != nil || n < 0 {
			return 0, false, nil
		}
		days, t = n, rest
	}
	parts := strings.Split(t, ":")
	if len(parts) != 3 {
		return 0, false, nil
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || len(parts[1]) != 2 {
		return 0, false, nil
	}
	secPart, frac, hasFrac := strings.Cut(parts[2], ".")
	sec, err3 := strconv.ParseInt(secPart, 10, 64)
	if err3 != nil || sec < 0 || sec > 59 || len(secPart) != 2 || (hasFrac && (frac == "" || strings.Trim(frac, "0123456789") != "")) {
		return 0, false, nil
	}
	if days > 100000 || h > 2400000 {
		return 0, true, fmt.Errorf("out of range")
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var nanos int64
	if frac != "" {
		nanos, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	total := ((days*24+h)*3600+m*60+sec)*int64(time.Second) + nanos
	if neg {
		total = -total
	}
	return Duration(total), true, nil
}

// oddFields remembers which odd fields were logged, so each is logged once
// per client.
type oddFields struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (o *oddFields) first(key string) bool {
	if o == nil {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	if o.seen[key] || len(o.seen) > 1000 {
		return false
	}
	o.seen[key] = true
	return true
}

// unmarshalTolerant decodes data into out. When the strict decode fails
// because some fields hold values out's types cannot take, those fields are
// dropped (each named in dropped, by its path) and the rest is decoded.
// An answer that is not JSON at all, or whose top level cannot be decoded,
// still fails.
func unmarshalTolerant(data []byte, out any) (dropped []string, err error) {
	strictErr := json.Unmarshal(data, out)
	if strictErr == nil {
		return nil, nil
	}
	var tree any
	if json.Unmarshal(data, &tree) != nil {
		return nil, strictErr // not JSON
	}
	fits := func(v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		return json.Unmarshal(b, newLike(out)) == nil
	}
	pruned, keep := prune(tree, "", fits, &dropped)
	if !keep || len(dropped) == 0 {
		return nil, strictErr
	}
	for _, d := range dropped {
		if essential(d) {
			return nil, strictErr
		}
	}
	b, err := json.Marshal(pruned)
	if err != nil {
		return nil, strictErr
	}
	resetLike(out)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, strictErr
	}
	sort.Strings(dropped)
	return dropped, nil
}

// prune returns v without the parts that keep fits from accepting it. fits
// tests a candidate for v in its place (everything else absent). keep is
// false when v itself cannot fit (a scalar of the wrong kind).
func prune(v any, path string, fits func(any) bool, dropped *[]string) (any, bool) {
	if fits(v) {
		return v, true
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub := func(c any) bool { return fits(map[string]any{k: c}) }
			p, ok := prune(x[k], joinPath(path, k), sub, dropped)
			if ok {
				out[k] = p
			}
		}
		if !fits(out) {
			return nil, false
		}
		return out, true
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			sub := func(c any) bool { return fits([]any{c}) }
			p, ok := prune(e, fmt.Sprintf("%s[%d]", path, i), sub, dropped)
			if ok {
				out = append(out, p)
			}
		}
		if !fits(out) {
			return nil, false
		}
		return out, true
	default:
		*dropped = append(*dropped, fmt.Sprintf("%s=%s", path, clip(fmt.Sprint(v), 40)))
		return nil, false
	}
}

// essentialFields are the fields that say which call it is and whether it
// bills: an answer whose one of these cannot be read is refused as a whole
// (dropping joined or ended would misstate billing), as are list pages
// whose entries cannot be read.
var essentialFields = map[string]bool{
	"callId": true, "created": true, "joined": true, "ended": true, "endReason": true, "billingStatus": true,
	"maxDuration": true, "joinTimeout": true, "joinUrl": true, "agentId": true, "accountId": true,
	"activeCalls": true, "results": true, "next": true, "date": true, "minutes": true, "dailyUsage": true,
}

// essential reports whether a dropped path ("results[2].joined=x") names
// an essential field, or a whole list entry.
func essential(dropped string) bool {
	path, _, _ := strings.Cut(dropped, "=")
	if strings.HasSuffix(path, "]") {
		return true
	}
	last := path
	if i := strings.LastIndexAny(path, ".]"); i >= 0 {
		last = path[i+1:]
	}
	return essentialFields[last]
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// newLike is a new zero value of the type out points to.
func newLike(out any) any { return newOf(out) }

// logOdd logs each dropped field once per client.
func (c *Client) logOdd(op string, dropped []string) {
	for _, d := range dropped {
		field, _, _ := strings.Cut(d, "=")
		// Array positions do not make a field new: results[3].x is results[].x.
		key := op + " " + stripIndexes(field)
		if c.odd.first(key) {
			c.log.Warn("ultravox answer has a field this app cannot read; it is ignored and the rest is used",
				slog.String("op", op), slog.String("field", d))
		}
	}
}

func stripIndexes(p string) string {
	var b strings.Builder
	skip := false
	for _, r := range p {
		switch {
		case r == '[':
			skip = true
			b.WriteString("[]")
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newOf is a new zero value of the type out points to (out must be a
// non-nil pointer, as json.Unmarshal needs).
func newOf(out any) any {
	t := reflect.TypeOf(out)
	if t == nil || t.Kind() != reflect.Pointer {
		var v any
		return &v
	}
	return reflect.New(t.Elem()).Interface()
}

// resetLike sets what out points to back to its zero value.
func resetLike(out any) {
	v := reflect.ValueOf(out)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().Set(reflect.Zero(v.Elem().Type()))
	}
}
