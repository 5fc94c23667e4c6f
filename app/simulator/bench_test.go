package simulator_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/contract"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// BenchmarkGetCall measures one GET /api/calls/{id} round trip on loopback:
// "plain" is the simulator alone (the baseline), "validated" adds the
// contract validator that every test runs with (simtest.New).
func BenchmarkGetCall(b *testing.B) {
	run := func(b *testing.B, sim *simulator.Server) {
		id, err := sim.StartCallElsewhere("", true, 0)
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest("GET", sim.URL()+"/api/calls/"+id, nil)
		req.Header.Set("X-API-Key", sim.APIKey())
		b.ResetTimer()
		for b.Loop() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("plain", func(b *testing.B) {
		sim := simulator.New(simulator.Options{})
		if err := sim.Start(); err != nil {
			b.Fatal(err)
		}
		defer sim.Close()
		run(b, sim)
	})
	b.Run("validated", func(b *testing.B) {
		run(b, simtest.New(b))
	})
}

// BenchmarkStartClose measures starting and closing a simulator: "plain"
// is the baseline, "validated" adds a contract validator as simtest.New does
// (the schema itself is parsed once per process, before the timer).
func BenchmarkStartClose(b *testing.B) {
	if _, err := contract.New(); err != nil {
		b.Fatal(err)
	}
	for _, validated := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "validated"}[validated]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				o := simulator.DefaultOptions()
				if validated {
					v, err := contract.New()
					if err != nil {
						b.Fatal(err)
					}
					o.Middleware = v.Middleware
				}
				sim := simulator.New(o)
				if err := sim.Start(); err != nil {
					b.Fatal(err)
				}
				sim.Close()
			}
		})
	}
}
