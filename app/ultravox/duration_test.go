package ultravox

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// schemaDuration is the pattern the schema puts on every duration field.
var schemaDuration = regexp.MustCompile(`^-?(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,9})?s$`)

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"240s", 240 * time.Second},
		{"0.5s", 500 * time.Millisecond},
		{"123.456s", 123456 * time.Millisecond},
		{"-1.5s", -1500 * time.Millisecond},
		{"0s", 0},
		{"0.000000001s", 1},
		{"1.0000000019s", time.Second + 1}, // digits past nanoseconds are dropped
		{"1h", time.Hour},
		{"90m", 90 * time.Minute},
		{"1m30s", 90 * time.Second},
		{"250ms", 250 * time.Millisecond},
		{"240", 240 * time.Second},
		{"0.25", 250 * time.Millisecond},
		{" 30s ", 30 * time.Second},
		{"+2s", 2 * time.Second},
		{".5s", 500 * time.Millisecond},
		{"1e3", 1000 * time.Second},
		{"2.5E-1s", 250 * time.Millisecond},
		{"00012s", 12 * time.Second},
		{"9223372036.854775807s", math.MaxInt64},
		{"-9223372036.854775807s", -math.MaxInt64},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", c.in, err)
			continue
		}
		if got.Std() != c.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", c.in, got.Std(), c.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	cases := map[string]string{
		"":                       "empty duration",
		"   ":                    "empty duration",
		"abc":                    `invalid duration "abc"`,
		"1.2.3s":                 "invalid duration",
		"--1s":                   "invalid duration",
		"9223372037s":            "out of range",
		"9223372036.854775808s":  "out of range",
		"999999999999s":          "out of range",
		"1e400":                  "invalid duration",
		"NaN":                    "invalid duration",
		"s":                      "invalid duration",
		"10 seconds":             "invalid duration",
		strings.Repeat("9", 100): "out of range",
	}
	for in, want := range cases {
		_, err := ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want an error", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDuration(%q) error %q, want it to mention %q", in, err, want)
		}
		if len(err.Error()) > 200 {
			t.Errorf("ParseDuration(%q) error is %d chars long; inputs must be clipped", in, len(err.Error()))
		}
	}
}

func TestDurationString(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{240 * time.Second, "240s"},
		{500 * time.Millisecond, "0.5s"},
		{123456 * time.Millisecond, "123.456s"},
		{-1500 * time.Millisecond, "-1.5s"},
		{1, "0.000000001s"},
		{time.Second + 1, "1.000000001s"},
		{math.MaxInt64, "9223372036.854775807s"},
		{math.MinInt64, "-9223372036.854775808s"},
		{90 * time.Minute, "5400s"},
	}
	for _, c := range cases {
		got := Duration(c.d).String()
		if got != c.want {
			t.Errorf("Duration(%d).String() = %q, want %q", c.d, got, c.want)
		}
		if !schemaDuration.MatchString(got) {
			t.Errorf("%q does not match the schema's duration pattern", got)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var v struct {
		A Duration  `json:"a"`
		B *Duration `json:"b"`
		C Duration  `json:"c"`
		D *Duration `json:"d,omitempty"`
	}
	v.C = Seconds(7)
	if err := json.Unmarshal([]byte(`{"a":"1m30s","b":"0.5s","c":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Std() != 90*time.Second || v.B == nil || v.B.Std() != 500*time.Millisecond || v.C != Seconds(7) {
		t.Fatalf("decoded %+v", v)
	}
	if err := json.Unmarshal([]byte(`{"a":12.5,"b":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Std() != 12500*time.Millisecond || v.B != nil {
		t.Fatalf("number/null decoded to %v %v", v.A, v.B)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"a":"12.5s","b":null,"c":"7s"}` {
		t.Fatalf("marshal = %s", out)
	}
	for _, bad := range []string{`{"a":true}`, `{"a":"ten"}`, `{"a":[1]}`, `{"a":"1e999"}`} {
		err := json.Unmarshal([]byte(bad), &v)
		if err == nil || !strings.Contains(err.Error(), "duration") {
			t.Errorf("Unmarshal(%s) error = %v, want a duration error", bad, err)
		}
	}
}

// FuzzParseDuration checks, for any input that parses: the canonical form
// matches the schema's pattern, parses back to the same value, is a fixed
// point, and survives a JSON round trip. Inputs that do not parse must fail
// with a clipped message, never panic.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"240s", "0.5s", "1h", "-0.000000001s", "1e3", "9223372036.854775807s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if len(err.Error()) > 250 {
				t.Fatalf("error message for a %d-byte input is %d long", len(s), len(err.Error()))
			}
			return
		}
		c := d.String()
		if !schemaDuration.MatchString(c) {
			t.Fatalf("ParseDuration(%q).String() = %q, not in the schema's form", s, c)
		}
		d2, err := ParseDuration(c)
		if err != nil {
			t.Fatalf("canonical %q (from %q) does not parse: %v", c, s, err)
		}
		if d2 != d {
			t.Fatalf("round trip %q -> %d -> %q -> %d", s, d, c, d2)
		}
		if d2.String() != c {
			t.Fatalf("String not a fixed point: %q -> %q", c, d2.String())
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var d3 Duration
		if err := json.Unmarshal(b, &d3); err != nil || d3 != d {
			t.Fatalf("JSON round trip of %q: %s -> %v (%v)", s, b, d3, err)
		}
		// A schema-form input parses exactly (no float rounding): its
		// canonical form is the input without trailing fractional zeros.
		if schemaDuration.MatchString(s) && c != normalizeSchemaForm(s) {
			t.Fatalf("schema-form input %q became %q, want %q", s, c, normalizeSchemaForm(s))
		}
	})
}

// normalizeSchemaForm is what String must print for a value written in the
// schema's form: fractional trailing zeros and a bare "." dropped, "-0s" is
// "0s".
func normalizeSchemaForm(s string) string {
	num := strings.TrimSuffix(s, "s")
	if i := strings.IndexByte(num, '.'); i >= 0 {
		num = strings.TrimRight(num, "0")
		num = strings.TrimSuffix(num, ".")
	}
	if strings.Trim(num, "-0.") == "" {
		return "0s"
	}
	return num + "s"
}
