package voice_test

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// pulse starts a private PulseAudio (null sink spk, default source
// spk.monitor) and points this process at it.
func pulse(t testing.TB) *desktoptest.PulseAudio {
	t.Helper()
	p := desktoptest.Pulse(t)
	p.Setenv(t)
	return p
}

// speech is a sentence spoken by espeak-ng now, as mono samples at rate.
func speech(t testing.TB, rate int, text string) []int16 {
	t.Helper()
	desktoptest.Need(t, "espeak-ng", "sox")
	dir := t.TempDir()
	wav, raw := filepath.Join(dir, "speech.wav"), filepath.Join(dir, "speech.s16le")
	if out, err := exec.Command("espeak-ng", "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	if out, err := exec.Command("sox", wav, "-r", strconv.Itoa(rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", raw).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return samples(b)
}

func samples(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

func bytesOf(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// tone is a 440 Hz sine of d at rate, amplitude amp.
func tone(rate int, d time.Duration, amp float64) []int16 {
	n := int(int64(rate) * int64(d) / int64(time.Second))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return s
}

func rms(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

// envelope is the RMS of each win-sample window.
func envelope(s []int16, win int) []float64 {
	env := make([]float64, len(s)/win)
	for i := range env {
		env[i] = rms(s[i*win : (i+1)*win])
	}
	return env
}

// smooth is the moving average of env over k windows: a jitter of a frame
// or two (the sender fills a late frame with silence and goes on) then
// barely moves the correlation.
func smooth(env []float64, k int) []float64 {
	out := make([]float64, len(env))
	for i := range env {
		var s float64
		n := 0
		for j := max(0, i-k/2); j <= min(len(env)-1, i+k/2); j++ {
			s += env[j]
			n++
		}
		out[i] = s / float64(n)
	}
	return out
}

// bestLag finds where ref appears in sig: the lag with the highest
// normalized correlation, and that correlation.
func bestLag(sig, ref []float64, maxLag int) (lag int, corr float64) {
	corr = -2
	for l := 0; l <= maxLag && l+len(ref) <= len(sig); l++ {
		c := correlation(sig[l:l+len(ref)], ref)
		if c > corr {
			lag, corr = l, c
		}
	}
	return lag, corr
}

func correlation(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var ab, aa, bb float64
	for i := range a {
		ab += (a[i] - ma) * (b[i] - mb)
		aa += (a[i] - ma) * (a[i] - ma)
		bb += (b[i] - mb) * (b[i] - mb)
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// uplink records the frames a session sends, with their arrival times.
type uplink struct {
	mu     sync.Mutex
	frames [][]int16
	at     []time.Time
}

func (u *uplink) send(pcm []byte) {
	now := time.Now()
	s := samples(pcm)
	u.mu.Lock()
	u.frames = append(u.frames, s)
	u.at = append(u.at, now)
	u.mu.Unlock()
}

func (u *uplink) snapshot() ([][]int16, []time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([][]int16(nil), u.frames...), append([]time.Time(nil), u.at...)
}

func (u *uplink) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.frames)
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mic writes into a module-pipe-source fifo in real time, 10 ms at a time,
// like a sound card: queued utterances, else the background (silence or a
// tone).
type mic struct {
	f    *os.File
	rate int
	mu   sync.Mutex
	q    []int16
	bg   []int16 // looped when the queue is empty; nil is silence
	bgAt int
	// starts[i] is when the first sample of the i-th utterance was written.
	starts  []time.Time
	pending []int // queue offsets where utterances start
	written int
	stop    chan struct{}
	done    chan struct{}
}

func startMic(t testing.TB, fifo string, rate int) *mic {
	t.Helper()
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open mic fifo: %v", err)
	}
	m := &mic{f: f, rate: rate, stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	t.Cleanup(func() {
		close(m.stop)
		// Closing unblocks a write into a full fifo (nobody recording the
		// pipe source any more): the fifo is in Go's poller.
		f.Close()
		<-m.done
	})
	return m
}

func (m *mic) run() {
	defer close(m.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	sent := 0
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		due := int(time.Since(start) * time.Duration(m.rate) / time.Second)
		n := due - sent
		if n <= 0 {
			continue
		}
		buf := make([]int16, n)
		now := time.Now()
		m.mu.Lock()
		for i := range buf {
			if len(m.pending) > 0 && m.pending[0] == 0 {
				// Sample i of this write is the utterance's first: it is
				// written now, at i samples into this chunk.
				m.starts = append(m.starts, now.Add(-time.Duration(n-i)*time.Second/time.Duration(m.rate)))
				m.pending = m.pending[1:]
			}
			switch {
			case len(m.q) > 0:
				buf[i] = m.q[0]
				m.q = m.q[1:]
				for j := range m.pending {
					m.pending[j]--
				}
			case m.bg != nil:
				buf[i] = m.bg[m.bgAt%len(m.bg)]
				m.bgAt++
			}
		}
		m.mu.Unlock()
		if _, err := m.f.Write(bytesOf(buf)); err != nil {
			return
		}
		sent = due
	}
}

// say queues an utterance after whatever is queued.
func (m *mic) say(s []int16) {
	m.mu.Lock()
	m.pending = append(m.pending, len(m.q))
	m.q = append(m.q, s...)
	m.mu.Unlock()
}

// background sets what the mic hears when nothing is queued.
func (m *mic) background(s []int16) {
	m.mu.Lock()
	m.bg = s
	m.mu.Unlock()
}

// started returns when utterance i began, waiting up to timeout.
func (m *mic) started(t testing.TB, i int, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, "the mic to speak", timeout, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.starts) > i {
			at = m.starts[i]
			return true
		}
		return false
	})
	return at
}

// loudness of a recording: the time of each 1 ms window, and its peak.
type window struct {
	at   time.Time
	peak int
}

// windows maps a parec recording to 1 ms windows with wall times: a sample's
// time is its chunk's arrival minus what followed it in the chunk.
func windows(chunks []desktoptest.Chunk, rate int) []window {
	per := rate / 1000
	var out []window
	var carry []int16
	for _, c := range chunks {
		s := append(carry, samples(c.Data)...)
		for len(s) >= per {
			w := s[:per]
			peak := 0
			for _, v := range w {
				a := int(v)
				if a < 0 {
					a = -a
				}
				peak = max(peak, a)
			}
			after := len(s) - per
			out = append(out, window{at: c.At.Add(-time.Duration(after) * time.Second / time.Duration(rate)), peak: peak})
			s = s[per:]
		}
		carry = append([]int16(nil), s...)
	}
	return out
}
