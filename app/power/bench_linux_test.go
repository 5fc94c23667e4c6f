//go:build linux

package power

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkSleepToRelease measures PrepareForSleep(true) -> inhibitor fd
// released (EndEverything done) with the real manager, next to one plain
// HTTP GET to the same simulator at the same added latency, measured in the
// same run. Figures, not assertions.
func BenchmarkSleepToRelease(b *testing.B) {
	for _, lat := range []time.Duration{0, 200 * time.Millisecond} {
		b.Run(fmt.Sprintf("sim=%s", lat), func(b *testing.B) {
			e := newGuardEnv(b, gopt{})
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e.sim.SetLatency(0)
				e.startBilling()
				e.fake.WaitHeld(1, 5*time.Second)
				e.sim.SetLatency(lat)
				b.StartTimer()
				sent := e.fake.PrepareForSleep(true)
				released := e.fake.WaitReleased(10 * time.Second)
				b.StopTimer()
				total += released.Sub(sent)
				e.sim.SetLatency(0)
				e.fake.PrepareForSleep(false)
				e.waitStatus("awake and idle", func(s GuardStatus) bool { return s.Phase == "awake" && !s.Live && !s.Holding })
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "sleep-to-release-ms")

			// Baseline: one GET /api/accounts/me at the same latency.
			e.sim.SetLatency(lat)
			client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			defer client.CloseIdleConnections()
			const n = 10
			var rtt time.Duration
			for i := 0; i < n; i++ {
				req, err := http.NewRequest("GET", e.sim.URL()+"/api/accounts/me", nil)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("X-API-Key", e.sim.APIKey())
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				rtt += time.Since(start)
				if resp.StatusCode != 200 {
					b.Fatalf("GET /api/accounts/me: %s", resp.Status)
				}
			}
			e.sim.SetLatency(0)
			b.ReportMetric(float64(rtt.Microseconds())/1000/n, "http-get-ms")
		})
	}
}
