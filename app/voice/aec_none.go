//go:build nospeex

package voice

import "errors"

// speexAvailable reports whether this build has echo cancellation (built
// with -tags nospeex: no, and gating is used).
const speexAvailable = false

type canceller struct{}

func newCanceller(n, rate, tailSamples int) (*canceller, error) {
	return nil, errors.New("voice: built without libspeexdsp (-tags nospeex): no echo cancellation")
}

func (c *canceller) process(rec, play, out []int16) {}

func (c *canceller) reset() {}

func (c *canceller) close() {}
