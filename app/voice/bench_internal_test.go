package voice

import (
	"testing"
	"time"
)

// BenchmarkFramePath: one 20 ms frame through the capture queue (the device
// callback's part) and the sender's framing, mute and gating (nextFrame).
// allocs/op is allocations per frame: the frame handed to uplink is a new
// slice (uplink may keep it). Baseline in the same run:
// BenchmarkFramePath/callback_only, the device callback alone.
func BenchmarkFramePath(b *testing.B) {
	const rate = 16000
	in := pcm(ramp(0, rate/100)...) // a 10 ms device period
	b.Run("callback_only", func(b *testing.B) {
		q := newFrameQueue(10, rate/50, func() int64 { return 1 })
		dst := make([]int16, rate/50)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			q.push(in)
			q.push(in)
			q.pop(dst)
		}
	})
	b.Run("callback_and_sender", func(b *testing.B) {
		s := &Session{cfg: Config{GateHangover: 300 * time.Millisecond, GateAttenuation: 0.01}, echoMode: "gate"}
		s.q = newFrameQueue(10, rate/50, func() int64 { return 1 })
		frame := make([]int16, rate/50)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s.q.push(in)
			s.q.push(in)
			_ = s.nextFrame(frame)
		}
	})
}

// BenchmarkCancellerFrame: libspeexdsp cancellation of one 20 ms frame at
// 16 kHz with the 200 ms tail; compare with the 20 ms of real time it must
// fit in (reported as realtime_fraction).
func BenchmarkCancellerFrame(b *testing.B) {
	if !speexAvailable {
		b.Skip("built without libspeexdsp")
	}
	const rate, n = 16000, 320
	c, err := newCanceller(n, rate, rate*tailMs/1000)
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	rec, ref, out := ramp(0, n), ramp(100, n), make([]int16, n)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.process(rec, ref, out)
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(20*time.Millisecond), "realtime_fraction")
}
