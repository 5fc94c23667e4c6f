package voice

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.InputRate != 16000 || c.OutputRate != 16000 || c.FrameDuration != 20*time.Millisecond ||
		c.PrebufferMs != 60 || c.GateHangover != 300*time.Millisecond || c.QueueFrames != 10 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigRejectsBadValuesWithSpecificMessages(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{InputRate: 4000}, "input sample rate must be 8000..48000 Hz, got 4000"},
		{Config{OutputRate: 96000}, "output sample rate must be 8000..48000 Hz, got 96000"},
		{Config{FrameDuration: 5 * time.Millisecond}, "frame duration must be whole milliseconds from 10 ms to 100 ms, got 5ms"},
		{Config{FrameDuration: 20*time.Millisecond + 1}, "frame duration"},
		{Config{PrebufferMs: 1000}, "playback prebuffer must be 10..500 ms, got 1000 ms"},
		{Config{GateHangover: -time.Second}, "gate hangover must be 0..5s, got -1s"},
		{Config{GateAttenuation: 1.5}, "gate attenuation must be a gain from 0 to below 1, got 1.5"},
		{Config{QueueFrames: 2}, "capture queue must hold 3..500 frames, got 2"},
		{Config{Echo: 7}, "unknown echo mode 7"},
		{Config{SpeakerBufferMs: 5}, "speaker buffer must be 10..200 ms, got 5 ms"},
	} {
		_, err := NewEngine(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// Several mistakes are all reported at once.
	_, err := NewEngine(Config{InputRate: 1, OutputRate: 2})
	if err == nil || !strings.Contains(err.Error(), "input sample rate") || !strings.Contains(err.Error(), "output sample rate") {
		t.Errorf("both rates: %v", err)
	}
}

func TestOpenRejectsBadRatesBeforeTouchingDevices(t *testing.T) {
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Open(Rates{InputRate: 16000, OutputRate: 100}, func([]byte) {}); err == nil ||
		!strings.Contains(err.Error(), "output sample rate must be 8000..48000 Hz, got 100") {
		t.Errorf("bad output rate: %v", err)
	}
	if _, err := e.Open(Rates{InputRate: 11025, OutputRate: 16000}, func([]byte) {}); err == nil ||
		!strings.Contains(err.Error(), "20ms at 11025 Hz is not a whole number of samples") {
		t.Errorf("fractional frame: %v", err)
	}
	if _, err := e.Open(Rates{}, nil); err == nil || !strings.Contains(err.Error(), "uplink") {
		t.Errorf("nil uplink: %v", err)
	}
}

func pcm(samples ...int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

func ramp(from, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(from + i)
	}
	return s
}

func TestFrameQueueFramesAcrossCallbacksAndDropsOldest(t *testing.T) {
	var clock int64
	q := newFrameQueue(3, 4, func() int64 { clock++; return clock })
	// 2.5 frames in odd-sized callbacks.
	q.push(pcm(ramp(0, 3)...))
	q.push(pcm(ramp(3, 7)...))
	if q.backlog() != 2 {
		t.Fatalf("backlog %d, want 2", q.backlog())
	}
	dst := make([]int16, 4)
	if _, ok := q.pop(dst); !ok || dst[0] != 0 || dst[3] != 3 {
		t.Fatalf("first frame %v", dst)
	}
	// Fill past capacity: 1 frame queued + 2 partial samples held; push 3 more
	// frames. Three slots exist, so the oldest queued frames are dropped.
	q.push(pcm(ramp(100, 12)...))
	if d := q.dropped.Load(); d == 0 {
		t.Fatalf("no drop counted, backlog %d", q.backlog())
	}
	var last []int16
	for {
		if _, ok := q.pop(dst); !ok {
			break
		}
		last = append([]int16(nil), dst...)
	}
	// The newest whole frame survives: samples 100..111 continue 8,9 so the
	// frame boundaries are 8,9,100,101 | 102..105 | 106..109.
	if last == nil || last[3] != 109 {
		t.Fatalf("newest frame lost: %v", last)
	}
	if q.lost.Load() != 0 {
		t.Fatalf("lost %d samples", q.lost.Load())
	}
}

func TestCaptureCallbackDoesNotAllocate(t *testing.T) {
	q := newFrameQueue(10, 320, func() int64 { return 1 })
	in := pcm(ramp(0, 160)...)
	dst := make([]int16, 320)
	allocs := testing.AllocsPerRun(1000, func() {
		q.push(in) // a 10 ms device period
		if q.backlog() > 5 {
			q.pop(dst)
		}
	})
	if allocs != 0 {
		t.Fatalf("capture path allocates %.1f times per callback", allocs)
	}
	// Overflow (dropping the oldest) does not allocate either.
	allocs = testing.AllocsPerRun(1000, func() { q.push(in) })
	if allocs != 0 || q.dropped.Load() == 0 {
		t.Fatalf("overflow path: %.1f allocs, %d dropped", allocs, q.dropped.Load())
	}
}

func TestPlayFIFOPrebuffersStarvesAndClears(t *testing.T) {
	f := newPlayFIFO(100, 100, 1000, 8000)
	out := make([]byte, 2*40)
	f.write(pcm(ramp(1, 50)...))
	if peak := f.read(out, false); peak != 0 || f.playing {
		t.Fatalf("played before the prebuffer filled: peak %d", peak)
	}
	f.write(pcm(ramp(51, 60)...)) // 110 queued >= 100
	if peak := f.read(out, false); peak != 40 {
		t.Fatalf("peak %d, want 40 (samples 1..40)", peak)
	}
	if got := int16(binary.LittleEndian.Uint16(out[0:])); got != 1 {
		t.Fatalf("first sample %d", got)
	}
	f.read(out, false) // 41..80
	f.read(out, false) // 81..110 then 10 silent samples: starved
	if f.playing || f.starved != 1 || f.n != 0 {
		t.Fatalf("after running dry: playing %v starved %d n %d", f.playing, f.starved, f.n)
	}
	if tail := out[60:]; string(tail) != string(make([]byte, 20)) {
		t.Fatalf("starved tail not silent: %v", tail)
	}
	// A short utterance end (less than the prebuffer) still plays once it
	// has waited as long as the prebuffer lasts.
	f.write(pcm(ramp(500, 30)...))
	reads := 0
	for f.read(out, false) == 0 {
		reads++
		if reads > 10 {
			t.Fatal("short tail never played")
		}
	}
	if reads*40 < 100 {
		t.Fatalf("tail played after %d samples of waiting, want >= 100", reads*40)
	}
	// Clear drops everything at once.
	f.write(pcm(ramp(1, 500)...))
	f.read(out, false)
	f.clear()
	if peak := f.read(out, false); peak != 0 || f.n != 0 || f.cleared != 1 {
		t.Fatalf("after clear: peak %d n %d cleared %d", peak, f.n, f.cleared)
	}
}

// The prebuffer starts small and doubles, up to its ceiling, only when
// playback runs dry mid-speech (audio back within underrunGap); the end of
// an utterance (a longer silence) leaves it alone.
func TestPlayFIFOPrebufferGrowsOnlyAfterUnderruns(t *testing.T) {
	const rate = 1000 // underrunGap = 120 samples
	f := newPlayFIFO(20, 80, 5000, rate)
	out := make([]byte, 2*10)
	f.write(pcm(ramp(1, 20)...))
	if f.read(out, false) == 0 {
		t.Fatal("20 samples queued with a 20-sample prebuffer did not start")
	}
	f.read(out, false)
	f.read(out, false) // dry: starved mid-speech
	f.write(pcm(ramp(1, 10)...))
	f.read(out, false)
	if f.underrun != 1 || f.prebuf != 40 {
		t.Fatalf("after an underrun: %d underruns, prebuffer %d, want 1 and 40", f.underrun, f.prebuf)
	}
	// The end of an utterance: nothing for longer than the gap.
	for f.n > 0 || f.playing {
		f.read(out, false)
	}
	for i := 0; i < 20; i++ {
		f.read(out, false)
	}
	f.write(pcm(ramp(1, 40)...))
	f.read(out, false)
	if f.underrun != 1 || f.prebuf != 40 {
		t.Fatalf("after a pause: %d underruns, prebuffer %d, want 1 and 40", f.underrun, f.prebuf)
	}
	// Growth stops at the ceiling.
	for i := 0; i < 5; i++ {
		for f.n > 0 || f.playing {
			f.read(out, false)
		}
		f.write(pcm(ramp(1, 200)...))
		f.read(out, false)
	}
	if f.prebuf != 80 {
		t.Fatalf("prebuffer %d after many underruns, want the ceiling 80", f.prebuf)
	}
	f.clear()
	if f.prebuf != 80 || f.gap != -1 {
		t.Fatalf("clear changed the learnt prebuffer (%d) or left a gap count (%d)", f.prebuf, f.gap)
	}
}

func TestPlayFIFOMuteConsumesAndGrowsToBound(t *testing.T) {
	f := newPlayFIFO(10, 10, 5000, 8000)
	f.write(pcm(ramp(1000, 20)...))
	out := make([]byte, 40)
	if peak := f.read(out, true); peak != 0 || f.n != 0 || string(out) != string(make([]byte, 40)) {
		t.Fatalf("muted read: peak %d n %d", peak, f.n)
	}
	// Split samples across writes are joined.
	f.write([]byte{0x34})
	f.write([]byte{0x12, 0x00})
	f.write([]byte{0x01})
	if f.n != 2 || f.buf[(f.head)%len(f.buf)] != 0x1234 || f.buf[(f.head+1)%len(f.buf)] != 0x0100 {
		t.Fatalf("split samples: n %d", f.n)
	}
	// Growing keeps order; beyond the bound the oldest are dropped.
	f.clear()
	f.write(pcm(ramp(0, 6000)...))
	if f.n != 5000 || f.dropped != 1000 || f.buf[f.head] != 1000 {
		t.Fatalf("bound: n %d dropped %d first %d", f.n, f.dropped, f.buf[f.head])
	}
}
