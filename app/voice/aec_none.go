//go:build nospeex

package voice

import "errors"

type canceller struct{}

func newCanceller(n, rate, tailSamples int) (*canceller, error) {
	return nil, errors.New("voice: built without libspeexdsp (-tags nospeex): no echo cancellation")
}

func (c *canceller) process(rec, play, out []int16) {}

func (c *canceller) reset() {}

func (c *canceller) close() {}

const speexAvailable = false
