// Package simtest starts an Ultravox simulator for a test with contract
// validation on for every REST request and response, closes it when the test
// ends, and fails the test if any traffic broke the schema.
//
//	sim := simtest.New(t)                        // defaults, greeting agent
//	sim := simtest.New(t, func(o *simulator.Options) { o.SettleDelay = -1 })
//	client, err := ultravox.NewClient(ultravox.Options{BaseURL: sim.URL(), APIKey: sim.APIKey()})
package simtest

import (
	"net/http"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/contract"
)

// Option changes the simulator options before start.
type Option func(*simulator.Options)

// New starts a validated simulator on a loopback port. Options start from
// simulator.DefaultOptions().
func New(t testing.TB, opts ...Option) *simulator.Server {
	t.Helper()
	sim, _ := NewWithValidator(t, opts...)
	return sim
}

// NewWithValidator is New that also returns the validator, for tests that
// inspect what was checked.
func NewWithValidator(t testing.TB, opts ...Option) (*simulator.Server, *contract.Validator) {
	t.Helper()
	v, err := contract.New()
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	o := simulator.DefaultOptions()
	for _, f := range opts {
		f(&o)
	}
	inner := o.Middleware
	o.Middleware = func(h http.Handler) http.Handler {
		if inner != nil {
			h = inner(h)
		}
		return v.Middleware(h)
	}
	sim := simulator.New(o)
	if err := sim.Start(); err != nil {
		t.Fatalf("simtest: %v", err)
	}
	t.Cleanup(func() {
		sim.Close()
		Check(t, v)
	})
	return sim, v
}

// Check fails t for every violation v recorded.
func Check(t testing.TB, v *contract.Validator) {
	t.Helper()
	for _, x := range v.Violations() {
		t.Errorf("simtest: schema violation: %s", x)
	}
}
