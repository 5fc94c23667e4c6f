package ultravox

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestErrorMessageShapes(t *testing.T) {
	cases := map[string]string{
		`{"detail":"Not found."}`:                            "Not found.",
		`{"detail":{"code":"x","why":"y"}}`:                  "code: x; why: y",
		`{"message":"Call is not active"}`:                   "Call is not active",
		`{"error":"bad"}`:                                    "bad",
		`{"non_field_errors":["a","b"]}`:                     "a; b",
		`{"medium":{"serverWebSocket":["rate required"]}}`:   "medium: serverWebSocket: rate required",
		`{"maxDuration":["too long"],"agentId":["unknown"]}`: "agentId: unknown; maxDuration: too long",
		`["first problem","second"]`:                         "first problem; second",
		"  plain\n\ttext  body ":                             "plain text body",
		``:                                                   "",
		`{}`:                                                 "{}",
		`{"count":3}`:                                        "count: 3",
		`{"detail":"line one\nline two"}`:                    "line one line two",
	}
	for body, want := range cases {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%q) = %q, want %q", body, got, want)
		}
	}
}

// FuzzErrorMessage: any body yields at most 200 characters (plus the
// ellipsis) of valid UTF-8 without control characters, and never panics.
func FuzzErrorMessage(f *testing.F) {
	for _, s := range []string{`{"detail":"x"}`, `{"a":["b"]}`, `<html>`, `[1,2]`, "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m := errorMessage([]byte(body))
		if n := utf8.RuneCountInString(m); n > maxMessageLen+1 {
			t.Fatalf("message of %d runes", n)
		}
		if !utf8.ValidString(m) {
			t.Fatalf("invalid UTF-8 in %q", m)
		}
		for _, r := range m {
			if unicode.IsControl(r) {
				t.Fatalf("control character %U in %q", r, m)
			}
		}
	})
}
