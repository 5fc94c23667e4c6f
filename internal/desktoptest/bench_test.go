//go:build linux

package desktoptest

import (
	"os/exec"
	"testing"
)

// roundTB runs the cleanups registered during one benchmark iteration at
// the end of that iteration, so daemons do not pile up over b.N.
type roundTB struct {
	testing.TB
	cleanups []func()
}

func (r *roundTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *roundTB) done() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

// BenchmarkStart measures how long each part takes to start (until it
// answers) and stop, next to a baseline of running /bin/true, so test
// authors can budget the suite's 20 minutes on 2 cores.
func BenchmarkStart(b *testing.B) {
	parts := []struct {
		name string
		bins []string
		run  func(tb testing.TB)
	}{
		{"baseline-exec-true", []string{"true"}, func(tb testing.TB) {
			if err := exec.Command("true").Run(); err != nil {
				tb.Fatal(err)
			}
		}},
		{"dbus-daemon", nil, func(tb testing.TB) { SessionBus(tb) }},
		{"Xvfb", nil, func(tb testing.TB) { Xvfb(tb) }},
		{"gnome-keyring", nil, func(tb testing.TB) { Keyring(tb, SessionBus(tb)) }},
		{"pulseaudio", nil, func(tb testing.TB) { Pulse(tb) }},
	}
	for _, p := range parts {
		b.Run(p.name, func(b *testing.B) {
			Need(b, p.bins...)
			for i := 0; i < b.N; i++ {
				r := &roundTB{TB: b}
				p.run(r)
				r.done()
			}
		})
	}
}
