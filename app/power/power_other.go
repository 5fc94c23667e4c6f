//go:build !linux && !windows && !(darwin && cgo)

package power

// Open starts the clock-jump detector, the only power source on this
// platform (macOS without cgo, the BSDs): a sleep is noticed after the wake.
func Open(opts Options) (Source, error) {
	opts.defaults()
	opts.Logf.printf("power: no sleep notifications on this platform; only the clock-jump check runs")
	return withClockJump(opts), nil
}
