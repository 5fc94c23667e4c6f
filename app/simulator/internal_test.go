package simulator

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30s", 30 * time.Second},
		{"0.5s", 500 * time.Millisecond},
		{"123.456s", 123456 * time.Millisecond},
		{"0s", 0},
		{"-1.5s", -1500 * time.Millisecond},
		{"1.000000001s", time.Second + 1},
	} {
		got, err := parseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back := formatDuration(got); back != tc.in {
			t.Errorf("formatDuration(%v) = %q, want %q", got, back, tc.in)
		}
	}
	for _, bad := range []string{"", "30", "4m", "1h", "01s", "1.s", ".5s", "1.0000000001s", "s", "1e3s", " 1s"} {
		if _, err := parseDuration(bad); err == nil || !strings.Contains(err.Error(), "invalid duration") {
			t.Errorf("parseDuration(%q) = %v, want an invalid-duration error", bad, err)
		}
	}
	for d, want := range map[time.Duration]string{240 * time.Second: "240s", 1500 * time.Millisecond: "1.5s", 0: "0s", time.Nanosecond: "0.000000001s", -2 * time.Second: "-2s"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRoundToUnit(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0: 0, time.Millisecond: 6 * time.Second, 6 * time.Second: 6 * time.Second,
		37 * time.Second: 42 * time.Second, 42*time.Second + 1: 48 * time.Second, -time.Second: 0,
	} {
		if got := roundToUnit(in); got != want {
			t.Errorf("roundToUnit(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestFakeClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFakeClock(start)
	var order []string
	c.AfterFunc(3*time.Second, func() { order = append(order, "3s:"+c.Now().Sub(start).String()) })
	c.AfterFunc(time.Second, func() {
		order = append(order, "1s")
		c.AfterFunc(time.Second, func() { order = append(order, "2s (scheduled by 1s)") })
	})
	stopped := c.AfterFunc(2*time.Second, func() { order = append(order, "stopped") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once")
	}
	c.Advance(2500 * time.Millisecond)
	if got := strings.Join(order, ","); got != "1s,2s (scheduled by 1s)" {
		t.Fatalf("after 2.5 s: %s", got)
	}
	c.Advance(time.Second)
	if got := strings.Join(order, ","); got != "1s,2s (scheduled by 1s),3s:3s" {
		t.Fatalf("after 3.5 s: %s", got)
	}
	if c.Now() != start.Add(3500*time.Millisecond) || c.Pending() != 0 {
		t.Fatalf("now %v pending %d", c.Now(), c.Pending())
	}
}

func TestVAD(t *testing.T) {
	const rate = 8000
	v := vad{rate: rate, threshold: 500, hangover: 600 * time.Millisecond, onset: 60 * time.Millisecond}
	frame := func(amp int16) []byte {
		b := make([]byte, rate*2/50) // 20 ms
		for i := 0; i < len(b)/2; i++ {
			s := amp
			if i%2 == 1 {
				s = -amp
			}
			b[2*i], b[2*i+1] = byte(uint16(s)), byte(uint16(s)>>8)
		}
		return b
	}
	var events []vadEvent
	feed := func(n int, amp int16) {
		for i := 0; i < n; i++ {
			if e := v.feed(frame(amp)); e != vadNone {
				events = append(events, e)
			}
		}
	}
	feed(10, 100)  // noise
	feed(2, 3000)  // a click: too short to start speech...
	feed(20, 100)  // ...and forgotten after a pause
	feed(50, 3000) // one second of speech
	feed(10, 100)  // a short pause inside the utterance
	feed(25, 3000) // half a second more
	feed(29, 100)  // 580 ms of quiet: not yet the end
	if len(events) != 1 || events[0] != vadStart {
		t.Fatalf("events %v, want one start", events)
	}
	feed(1, 100) // 600 ms
	if len(events) != 2 || events[1] != vadEnd {
		t.Fatalf("events %v, want start, end", events)
	}
	if got := v.spoken(); got != 1700*time.Millisecond {
		t.Fatalf("spoken %v, want 1.7 s (the pause inside counts)", got)
	}
}

// The received audio is one byte stream: frames cut inside a sample (odd
// byte counts, single bytes) or empty change nothing that the VAD measures.
func TestVADFramesCutAnywhere(t *testing.T) {
	const rate = 8000
	var stream []byte
	add := func(d time.Duration, amp float64) {
		for i := 0; i < int(d.Seconds()*rate); i++ {
			v := int16(amp * math.Sin(2*math.Pi*220*float64(i)/rate))
			stream = append(stream, byte(uint16(v)), byte(uint16(v)>>8))
		}
	}
	add(300*time.Millisecond, 50)
	add(1200*time.Millisecond, 8000)
	add(time.Second, 50)
	run := func(sizes []int) (events []vadEvent, spoken time.Duration) {
		v := vad{rate: rate, threshold: 500, hangover: 600 * time.Millisecond, onset: 60 * time.Millisecond}
		for off, i := 0, 0; off < len(stream); i++ {
			end := min(off+sizes[i%len(sizes)], len(stream))
			if e := v.feed(stream[off:end]); e != vadNone {
				events = append(events, e)
				if e == vadEnd {
					spoken = v.spoken()
				}
			}
			off = end
		}
		return events, spoken
	}
	wantEv, want := run([]int{320}) // 20 ms frames
	if len(wantEv) != 2 || want != 1200*time.Millisecond {
		t.Fatalf("20 ms frames: events %v, spoken %v; want start, end and 1.2 s", wantEv, want)
	}
	for _, sizes := range [][]int{{3}, {1}, {1, 0, 3, 641, 0, 7}, {319}, {0, 2, 1, 5}} {
		ev, got := run(sizes)
		// Voicing is judged per frame: the edges are exact to a frame.
		tol := time.Duration(float64(slices.Max(sizes)/2+1) / rate * float64(time.Second))
		if len(ev) != 2 || ev[0] != vadStart || ev[1] != vadEnd || got < want-tol || got > want+tol {
			t.Errorf("frames of %v bytes: events %v, spoken %v; want start, end and %v ± %v", sizes, ev, got, want, tol)
		}
	}
}

func TestSynthSpeech(t *testing.T) {
	pcm := synthSpeech("Hello there, this is a test.", 16000)
	want := int(speechDuration("Hello there, this is a test.").Seconds() * 16000 * 2)
	if len(pcm) != want&^1 && len(pcm) != want {
		t.Fatalf("%d bytes, want %d", len(pcm), want)
	}
	if level := rms(pcm); level < 1000 || level > 8000 {
		t.Fatalf("rms %.0f: want speech-like loudness", level)
	}
}

func TestEspeakSpeech(t *testing.T) {
	if EspeakPath() == "" {
		// scripts/setup.sh installs it: a run that requires the desktop
		// parts fails here rather than passing by skipping.
		desktoptest.Need(t, "espeak-ng")
	}
	pcm, err := EspeakSpeech(t.Context(), "Hi, this is Support agent. How can I help?", 24000)
	if err != nil {
		t.Fatal(err)
	}
	secs := float64(len(pcm)) / 2 / 24000
	if secs < 1 || secs > 6 {
		t.Fatalf("%.2f s of speech for a short sentence", secs)
	}
	if level := rms(pcm); level < 300 {
		t.Fatalf("rms %.0f: too quiet to be speech", level)
	}
}

func TestParseWAVAndResample(t *testing.T) {
	data := []byte{1, 0, 2, 0, 3, 0, 4, 0}
	wav := append([]byte("RIFF\xff\xff\xff\x7fWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\xff\xff\xff\x7f"), data...)
	pcm, rate, err := parseWAV(wav)
	if err != nil || rate != 8000 || string(pcm) != string(data) {
		t.Fatalf("parseWAV = %v %d %v", pcm, rate, err)
	}
	if _, _, err := parseWAV([]byte("RIFF....WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x04\x00\x10\x00")); err == nil || !strings.Contains(err.Error(), "mono") {
		t.Fatalf("stereo accepted: %v", err)
	}
	if _, _, err := parseWAV([]byte("nope")); err == nil {
		t.Fatal("garbage accepted")
	}
	up := resample(data, 8000, 16000)
	if len(up) != 16 || int16(up[2])|int16(up[3])<<8 != 1 || int16(up[4])|int16(up[5])<<8 != 2 {
		t.Fatalf("resample = %v", up)
	}
}
