package calls

import (
	"context"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// BenchmarkEndEverything measures how long quitting takes with one live call
// of ours until the server confirms the end (local socket close first), next
// to a baseline measured in the same run: ending a joined call elsewhere
// with the bare REST hang_up and GET-until-ended.
func BenchmarkEndEverything(b *testing.B) {
	sim := simtest.New(b, func(o *simulator.Options) { o.SettleDelay = -1; o.SpeakGreeting = false })
	client := newBenchClient(b, sim)
	agent := sim.Agents()[0].AgentID

	b.Run("baseline-rest-hangup", func(b *testing.B) {
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			id, err := sim.StartCallElsewhere(agent, true, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := client.HangUp(ctx, id, "bye"); err != nil {
				b.Fatal(err)
			}
			for {
				c, err := client.GetCall(ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				if c.Ended != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
	})
	b.Run("manager", func(b *testing.B) {
		s := DefaultSettings()
		s.DefaultAgentID = agent
		m, err := New(Config{Client: client, StateDir: b.TempDir(), Settings: s, PollIdle: time.Second, PollLive: 200 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			v, err := m.Start(ctx, "")
			if err != nil {
				b.Fatal(err)
			}
			for m.Snapshot().Ours[0].State != CallBilling {
				time.Sleep(time.Millisecond)
			}
			b.StartTimer()
			if left := m.EndEverything(ctx); len(left) != 0 {
				b.Fatalf("unconfirmed: %+v", left)
			}
			b.StopTimer()
			if c, _ := sim.Call(v.ID); c.Ended == nil {
				b.Fatal("call not ended")
			}
			cancel()
			b.StartTimer()
		}
	})
}
