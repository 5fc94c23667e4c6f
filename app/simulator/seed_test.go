package simulator_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// A seeded large account lists as a real one would: every past call in the
// total, only the recent ones after fromDate, all ended and billed.
func TestSeedPastCalls(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, func(o *simulator.Options) { o.Agents = simulator.SeedAgentNames(200) })
	if n := len(sim.Agents()); n != 200 {
		t.Fatalf("%d agents seeded, want 200", n)
	}
	if err := sim.SeedPastCalls(1000, 10*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := sim.SeedPastCalls(-1, time.Hour); err == nil {
		t.Fatal("SeedPastCalls(-1) accepted")
	}
	a := newAPI(t, sim)
	var all struct {
		Total   int              `json:"total"`
		Results []simulator.Call `json:"results"`
	}
	a.json("GET", "/api/calls?pageSize=5", nil, 200, &all)
	if all.Total != 1000 || len(all.Results) != 5 {
		t.Fatalf("listing: total %d, %d results", all.Total, len(all.Results))
	}
	for _, c := range all.Results {
		if c.Ended == nil || c.Joined == nil || c.BillingStatus != simulator.BillingBilled {
			t.Fatalf("seeded call not ended and billed: %+v", c)
		}
	}
	var recent struct {
		Total int `json:"total"`
	}
	a.json("GET", "/api/calls?fromDate="+url.QueryEscape(time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339)), nil, 200, &recent)
	if recent.Total < 90 || recent.Total > 110 {
		t.Fatalf("calls in the last day: %d, want about 100 of 1000 over 10 days", recent.Total)
	}
	// A new call sorts after all of them.
	c := a.createCall(sim.Agents()[0].AgentID, map[string]any{"maxDuration": "60s"})
	a.json("GET", "/api/calls?pageSize=1", nil, 200, &all)
	if all.Total != 1001 || all.Results[0].CallID != c.CallID {
		t.Fatalf("newest call %+v, want %s", all.Results, c.CallID)
	}
}
