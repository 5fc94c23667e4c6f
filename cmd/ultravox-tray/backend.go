package main

import (
	"fmt"
	"path/filepath"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// backend is the Ultravox the app talks to: the account's, or in demo mode
// the embedded simulator with its own agents and its own call journal.
type backend struct {
	demo      bool
	client    *ultravox.Client // nil with no key yet: the manager waits for one
	demoAgent string           // the simulator agent new demo calls use
	stateDir  string           // where the call journal lives
	sim       *simulator.Server
}

// openBackend starts the simulator for the demo, or makes the account's
// client when there is a key. A bad ULTRAVOX_API_URL is a usageError.
func openBackend(k startKey, keys keySource, stateDir string) (*backend, error) {
	b := &backend{demo: k.demo, stateDir: stateDir}
	if !k.demo {
		if k.key == "" {
			return b, nil
		}
		c, err := keys.client(k.key)
		if err != nil {
			return nil, usageError{err}
		}
		b.client = c
		return b, nil
	}
	b.sim = simulator.New(simulator.DefaultOptions())
	if err := b.sim.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the demo simulator: %w", err)
	}
	c, err := newClient(b.sim.URL(), b.sim.APIKey())
	if err != nil {
		b.sim.Close()
		return nil, fmt.Errorf("demo client: %w", err)
	}
	b.client = c
	b.demoAgent = demoAgent(b.sim.Agents())
	// The demo's calls have their own journal: the real account's journal
	// must never hold simulator calls, nor the reverse.
	b.stateDir = filepath.Join(stateDir, "demo")
	return b, nil
}

// demoAgent is the agent demo calls use: the support agent, else the first.
func demoAgent(agents []simulator.Agent) string {
	id := ""
	for _, ag := range agents {
		if id == "" || ag.Name == "Support agent" {
			id = ag.AgentID
		}
	}
	return id
}

// close stops the simulator, if any; it may be called again.
func (b *backend) close() {
	if b.sim != nil {
		b.sim.Close()
	}
}
