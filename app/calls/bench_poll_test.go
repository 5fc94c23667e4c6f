package calls

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// pollSim is a simulator seeded as a large account: past ended calls over
// 30 days, calls billing elsewhere, 200 agents.
func pollSim(b *testing.B, past, elsewhere int) *simulator.Server {
	sim := simtest.New(b, func(o *simulator.Options) {
		o.Agents = simulator.SeedAgentNames(200)
		o.MaxConcurrent = -1
		o.SpeakGreeting = false
	})
	if err := sim.SeedPastCalls(past, 30*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < elsewhere; i++ {
		if _, err := sim.StartCallElsewhere(sim.Agents()[i%200].AgentID, true, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return sim
}

// waitChecked waits for the manager's first successful check.
func waitChecked(b *testing.B, m *Manager) {
	deadline := time.Now().Add(30 * time.Second)
	for m.Snapshot().Health != HealthOK {
		if time.Now().After(deadline) {
			b.Fatalf("no successful check: %+v", m.Snapshot().HealthDetail)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkPoll measures one account check (pollOnce) as the account grows:
// 10 / 1,000 / 10,000 past calls with nothing live, and 1 / 10 / 50 calls
// billing elsewhere on the 10,000-call account. Per check: the requests
// sent, and the time; after the checks, the heap in use. The baseline in
// the same run is one raw GET /api/accounts/me (the cheapest check there
// is). idle-req-per-min is what the idle schedule makes of it: requests
// per check at the default idle interval, plus the hourly agent and usage
// refreshes.
func BenchmarkPoll(b *testing.B) {
	cases := []struct{ past, elsewhere int }{{10, 0}, {1000, 0}, {10000, 0}, {10000, 1}, {10000, 10}, {10000, 50}}
	for _, tc := range cases {
		b.Run(fmt.Sprintf("past=%d/elsewhere=%d", tc.past, tc.elsewhere), func(b *testing.B) {
			sim := pollSim(b, tc.past, tc.elsewhere)
			client := newBenchClient(b, sim)
			m, err := New(Config{Client: client, StateDir: b.TempDir(), Settings: DefaultSettings(), PollIdle: time.Hour, PollLive: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			waitChecked(b, m)
			time.Sleep(100 * time.Millisecond) // the first check's agent and usage reads
			if n := len(m.Snapshot().Elsewhere); n != tc.elsewhere {
				b.Fatalf("%d calls elsewhere shown, want %d", n, tc.elsewhere)
			}
			base := rawGets(b, sim, 5)
			before := len(sim.Requests())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.pollOnce()
			}
			b.StopTimer()
			perPoll := float64(len(sim.Requests())-before) / float64(b.N)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(perPoll, "req/poll")
			b.ReportMetric(float64(base.Microseconds())/1000, "raw-get-ms")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
			if tc.elsewhere == 0 {
				idle, _ := Config{StateDir: b.TempDir()}.withDefaults()
				perMin := perPoll*time.Minute.Seconds()/idle.PollIdle.Seconds() +
					time.Minute.Seconds()/agentsRefresh.Seconds() + time.Minute.Seconds()/usageRefresh.Seconds()
				b.ReportMetric(perMin, "idle-req-per-min")
			}
		})
	}
}

// rawGets is the median of n raw GET /api/accounts/me.
func rawGets(b *testing.B, sim *simulator.Server, n int) time.Duration {
	c := newBenchClient(b, sim)
	var ds []time.Duration
	for i := 0; i <= n; i++ {
		start := time.Now()
		if _, err := c.GetAccount(b.Context()); err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			ds = append(ds, time.Since(start))
		}
	}
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			if ds[j] < ds[i] {
				ds[i], ds[j] = ds[j], ds[i]
			}
		}
	}
	return ds[len(ds)/2]
}

// BenchmarkOfflineToUnknown measures how long a network that stops
// answering takes to show as not OK (the icon's "unknown"): idle, right
// after a check (the worst moment), and while a call bills. The baseline
// is the poll interval of each case (the idle one shortened to 2 s so the
// figure takes seconds, not a minute); the target is that interval + 5 s
// idle, 10 s while live.
func BenchmarkOfflineToUnknown(b *testing.B) {
	for _, live := range []bool{false, true} {
		name := "idle"
		if live {
			name = "live"
		}
		b.Run(name, func(b *testing.B) {
			sim := pollSim(b, 10, 0)
			client := newBenchClient(b, sim)
			cfg := Config{Client: client, StateDir: b.TempDir(), Settings: DefaultSettings()}
			if !live {
				cfg.PollIdle = 2 * time.Second
			}
			cfg, _ = cfg.withDefaults()
			interval := cfg.PollIdle
			if live {
				interval = cfg.PollLive
				if _, err := sim.StartCallElsewhere(sim.Agents()[0].AgentID, true, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			m, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			defer sim.SetUnresponsive(false)
			waitChecked(b, m)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				// Right after a check: wait for the next one to finish.
				last := m.Snapshot().LastCheck
				for m.Snapshot().LastCheck.Equal(last) {
					time.Sleep(time.Millisecond)
				}
				t0 := time.Now()
				sim.SetUnresponsive(true)
				for m.Snapshot().Health == HealthOK {
					time.Sleep(5 * time.Millisecond)
				}
				total += time.Since(t0)
				sim.SetUnresponsive(false)
				m.Recheck()
				waitChecked(b, m)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "to-unknown-s")
			b.ReportMetric(interval.Seconds(), "interval-s")
		})
	}
}
