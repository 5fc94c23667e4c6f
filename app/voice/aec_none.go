//go:build nospeex || windows

// Windows builds leave libspeexdsp out (no headers in the mingw toolchain):
// the engine gates echo instead and says why.

package voice

import "errors"

type canceller struct{}

func newCanceller(n, rate, tailSamples int) (*canceller, error) {
	return nil, errors.New("echo cancellation not available on this build (built without libspeexdsp)")
}

func (c *canceller) process(rec, play, out []int16) {}

func (c *canceller) reset() {}

func (c *canceller) close() {}

const speexAvailable = false
