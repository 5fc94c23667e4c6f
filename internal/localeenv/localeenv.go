// Package localeenv, imported for its side effect before Fyne, keeps Fyne
// from logging "Error parsing user locale C" under LANG=C.UTF-8.
//
// Fyne's lang package reads the locale in its package init, through
// github.com/jeandeaual/go-locale, which treats only the exact values "C"
// and "POSIX" as no language: "C.UTF-8" (the default of many containers and
// of this project's test suite) becomes the tag "C", which does not parse.
// Go initializes a package before every package that sorts after it and
// imports it, and this one imports only the standard library, so its init
// runs before fyne.io/fyne/v2/lang's (which waits for golang.org/x/text).
package localeenv

import (
	"os"
	"strings"
)

func init() { Fix() }

// Fix sets LANGUAGE=en when the messages locale is C or POSIX with an
// encoding (C.UTF-8) and LANGUAGE is unset: the same English that C means,
// in a form Fyne parses. gettext ignores LANGUAGE under the C locale, so
// nothing else changes.
func Fix() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		l := os.Getenv(v)
		if l == "" {
			continue
		}
		lang, _, _ := strings.Cut(l, ".")
		lang, _, _ = strings.Cut(lang, "@")
		if lang == "C" || lang == "POSIX" {
			os.Setenv("LANGUAGE", "en")
		}
		return
	}
}
