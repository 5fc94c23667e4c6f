package localeenv

import (
	"os"
	"testing"
)

func TestFix(t *testing.T) {
	for _, c := range []struct {
		lcAll, lang, language, want string
	}{
		{"", "C.UTF-8", "", "en"},
		{"", "C.utf8", "", "en"},
		{"", "POSIX", "", "en"},
		{"", "C", "", "en"},
		{"", "de_DE.UTF-8", "", ""},
		{"fr_FR.UTF-8", "C.UTF-8", "", ""}, // LC_ALL wins
		{"", "C.UTF-8", "de", "de"},        // a user's LANGUAGE is kept
	} {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		t.Setenv("LANGUAGE", c.language)
		Fix()
		if got := os.Getenv("LANGUAGE"); got != c.want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: LANGUAGE %q, want %q", c.lcAll, c.lang, c.language, got, c.want)
		}
	}
}
