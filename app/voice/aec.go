package voice

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Echo cancellation (libspeexdsp's adaptive filter) needs each microphone
// block paired with the speaker samples whose echo it holds, at a delay that
// stays put. The two devices are opened separately: the speaker callback
// keeps what it played in a ring indexed by its running sample count, the
// microphone callback keeps what it heard in another. Counting samples alone
// is not enough (a sound server that underruns, or buffers differently from
// one minute to the next, moves the echo by tens of milliseconds), so a
// goroutine estimates the echo delay from the signals themselves, by cross
// correlation, while the agent speaks, and the microphone callback pairs
// with that delay. Until a delay is found, and whenever it is lost, the
// session falls back to gating.

const (
	// tailMs is the echo the filter models after the pairing point (room
	// reverberation; the device latency itself is taken out by pairing).
	tailMs = 200
	// leadMs places the pairing a little before the echo's onset, so the
	// filter sees the whole impulse response.
	leadMs = 5
	// historyMs is how far back a delay is searched (device latency up to
	// about 1.5 s: PulseAudio's null sink sometimes sits at 400+ ms).
	historyMs = 2000
	// estimateEvery is how often the delay estimator runs.
	estimateEvery = 250 * time.Millisecond
	// estimateWindowMs is the microphone audio each estimate correlates.
	estimateWindowMs = 1000
	// minCorrelation is the envelope correlation that counts as "found".
	minCorrelation = 0.6
	// safetyMs is ring space the estimator never reads: the callbacks may
	// be overwriting it while the estimator copies.
	safetyMs = 1000
)

// chooseEcho picks the echo control: none with a headset, cancellation
// when asked and possible, else gating. Why cancellation was not possible
// is kept for Stats.
func (s *Session) chooseEcho() {
	switch {
	case s.cfg.Headset:
		s.echoMode = "off"
		return
	case s.cfg.Echo == EchoGate:
		s.echoMode = "gate"
		return
	}
	s.echoMode = "gate"
	if s.rates.InputRate != s.rates.OutputRate {
		s.echoWhy = fmt.Sprintf("echo cancellation needs equal input and output rates, got %d and %d Hz", s.rates.InputRate, s.rates.OutputRate)
		return
	}
	c, err := newCanceller(s.frameLen, s.rates.InputRate, s.rates.InputRate*tailMs/1000)
	if err != nil {
		s.echoWhy = err.Error()
		return
	}
	s.aec = newAECPath(c, s.frameLen, s.rates.InputRate)
	s.echoMode = "cancel"
}

// ring is a history of samples indexed by a running count. One callback
// writes and publishes the count; readers only read below it.
type ring struct {
	buf  []int16
	mask int64
	n    atomic.Int64 // samples written so far
}

func newRing(minLen int) *ring {
	size := 1
	for size < minLen {
		size <<= 1
	}
	return &ring{buf: make([]int16, size), mask: int64(size - 1)}
}

// has reports whether sample i is still in the ring given count n.
func (r *ring) has(i, n int64) bool { return i >= 0 && i < n && i >= n-int64(len(r.buf)) }

// aecPath is the state shared by the two device callbacks and the delay
// estimator.
type aecPath struct {
	c    *canceller
	rate int

	played *ring // speaker output (written by the speaker callback)
	heard  *ring // raw microphone (written by the microphone callback)

	// offset pairs microphone sample i with speaker sample i+offset; set by
	// the estimator, read by the microphone callback. locked is false until
	// a delay was found (and after it was lost): the session gates then.
	offset  atomic.Int64
	locked  atomic.Bool
	changes atomic.Int64 // times the estimator moved the pairing

	// microphone callback only
	rec, ref, out []int16
	fill, refPeak int
	unpaired      atomic.Int64 // mic samples whose speaker sample was not in the ring

	echoIn, echoOut atomic.Int64 // energy before/after while the agent was audible

	// Recent echo removal (microphone callback only), and whether it is
	// good enough to stop gating.
	recentIn, recentOut float64
	seenChanges         int64
	converged           atomic.Bool

	// estimator only: copies of the ring windows it works on, and the last
	// estimate
	micWin, spkWin []int16
	candidate      int64
	hasCandidate   bool
	envM, envR     []float64
}

func newAECPath(c *canceller, frameLen, rate int) *aecPath {
	hist := rate * historyMs / 1000
	return &aecPath{
		c:      c,
		rate:   rate,
		played: newRing(hist + rate*(estimateWindowMs+safetyMs)/1000),
		heard:  newRing(rate * (estimateWindowMs + safetyMs) / 1000),
		micWin: make([]int16, rate*estimateWindowMs/1000),
		spkWin: make([]int16, rate*(historyMs+estimateWindowMs)/1000),
		rec:    make([]int16, frameLen),
		ref:    make([]int16, frameLen),
		out:    make([]int16, frameLen),
	}
}

// playedOut runs in the speaker callback with what it just wrote.
func (a *aecPath) playedOut(out []byte) {
	r := a.played
	w := r.n.Load()
	for i := 0; i+1 < len(out); i += 2 {
		r.buf[w&r.mask] = int16(binary.LittleEndian.Uint16(out[i:]))
		w++
	}
	r.n.Store(w)
}

// capture runs in the microphone callback: keep, pair, cancel, queue.
func (a *aecPath) capture(s *Session, in []byte) {
	h := a.heard
	c := h.n.Load()
	w := a.played.n.Load()
	off := a.offset.Load()
	locked := a.locked.Load()
	if ch := a.changes.Load(); ch != a.seenChanges {
		a.seenChanges = ch
		a.recentIn, a.recentOut = 0, 0
		a.c.reset() // the old filter models the old delay
	}
	for i := 0; i+1 < len(in); i += 2 {
		v := int16(binary.LittleEndian.Uint16(in[i:]))
		h.buf[c&h.mask] = v
		var r int16
		if locked {
			if idx := c + off; a.played.has(idx, w) {
				r = a.played.buf[idx&a.played.mask]
			} else {
				a.unpaired.Add(1)
			}
		}
		c++
		a.rec[a.fill] = v
		a.ref[a.fill] = r
		a.refPeak = max(a.refPeak, abs16(r))
		a.fill++
		if a.fill < len(a.rec) {
			continue
		}
		a.c.process(a.rec, a.ref, a.out)
		if a.refPeak >= audibleThreshold {
			in, out := sumSquares(a.rec), sumSquares(a.out)
			a.echoIn.Add(in)
			a.echoOut.Add(out)
			a.track(float64(in), float64(out))
		}
		s.q.pushSamples(a.out)
		a.fill, a.refPeak = 0, 0
	}
	h.n.Store(c)
}

// Convergence thresholds on the recent echo removal, with hysteresis.
const (
	convergedDB   = 18
	unconvergedDB = 12
	recentBlocks  = 25 // smoothing: about half a second of 20 ms blocks
)

// track updates the recent echo removal with one block where the agent was
// audible (energies before and after the canceller).
func (a *aecPath) track(in, out float64) {
	k := 1.0 / recentBlocks
	a.recentIn += k * (in - a.recentIn)
	a.recentOut += k * (out - a.recentOut)
	if a.recentIn < 1 {
		return
	}
	db := 10 * math.Log10(a.recentIn/math.Max(a.recentOut, 1))
	switch {
	case db >= convergedDB:
		a.converged.Store(true)
	case db < unconvergedDB:
		a.converged.Store(false)
	}
}

// estimate runs on its own goroutine until stop closes: it finds the echo
// delay between the speaker history and the microphone.
func (a *aecPath) estimate(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(estimateEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		a.step()
	}
}

// step runs one delay estimate and re-pairs when two estimates in a row
// agree on a new delay (one noisy estimate never throws away a converged
// filter).
func (a *aecPath) step() {
	x, ok := a.findDelay()
	if !ok {
		return
	}
	// Pair a little early: microphone sample i is then the echo of the
	// paired speaker sample lead samples back, inside the filter.
	p := x + int64(a.rate*leadMs/1000)
	tol := int64(a.rate / 1000) // 1 ms
	switch {
	case a.locked.Load() && abs64(a.offset.Load()-p) <= tol:
		// unchanged: keep the converged filter
	case a.hasCandidate && abs64(a.candidate-p) <= tol:
		a.converged.Store(false) // gate until the filter re-converges
		a.offset.Store(p)
		a.locked.Store(true)
		a.changes.Add(1)
	}
	a.candidate, a.hasCandidate = p, true
}

// findDelay returns X such that microphone sample i holds the echo of
// speaker sample i+X, if the last second of microphone audio clearly
// contains the speaker's.
func (a *aecPath) findDelay() (int64, bool) {
	const dec = 16 // envelope resolution: 1 ms at 16 kHz
	c := a.heard.n.Load()
	w := a.played.n.Load()
	n := int64(len(a.micWin))
	if c < n {
		return 0, false
	}
	// Speaker candidates: X from -history to w-c (the echo's source was
	// written before it was heard, give or take the capture's burstiness).
	hi := w - c
	lo := max(hi+n-int64(len(a.spkWin)), -(c - n))
	if hi-lo < n/4 {
		return 0, false
	}
	// Copy both windows at once, well inside what the callbacks keep.
	a.heard.copyOut(a.micWin, c-n)
	spk := a.spkWin[:hi-lo+n]
	a.played.copyOut(spk, c-n+lo)

	m := int(n / dec)
	a.envM = envelopeInto(a.envM[:0], a.micWin, m, dec)
	a.envR = envelopeInto(a.envR[:0], spk, len(spk)/dec, dec)
	if energy(a.envR) < float64(len(a.envR))*audibleThreshold/4 || energy(a.envM) == 0 {
		return 0, false // the agent is quiet: nothing to measure
	}
	best, bestK := -1.0, -1
	for k := 0; k+m <= len(a.envR); k++ {
		if cc := correlation(a.envM, a.envR[k:k+m]); cc > best {
			best, bestK = cc, k
		}
	}
	if best < minCorrelation {
		return 0, false
	}
	// Refine to the sample on the waveform around the coarse lag.
	coarse := bestK * dec
	bestK, bestV := coarse, -1.0
	for k := max(coarse-2*dec, 0); k <= coarse+2*dec && k+int(n) <= len(spk); k++ {
		if v := waveCorrelation(a.micWin, spk[k:k+int(n)]); v > bestV {
			bestV, bestK = v, k
		}
	}
	return lo + int64(bestK), true
}

// copyOut copies len(dst) samples from index from.
func (r *ring) copyOut(dst []int16, from int64) {
	for i := range dst {
		dst[i] = r.buf[(from+int64(i))&r.mask]
	}
}

func envelopeInto(dst []float64, x []int16, blocks, dec int) []float64 {
	for b := 0; b < blocks; b++ {
		var s float64
		for _, v := range x[b*dec : (b+1)*dec] {
			s += math.Abs(float64(v))
		}
		dst = append(dst, s/float64(dec))
	}
	return dst
}

func energy(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
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
		da, db := a[i]-ma, b[i]-mb
		ab += da * db
		aa += da * da
		bb += db * db
	}
	if aa == 0 || bb == 0 {
		return -1
	}
	return ab / math.Sqrt(aa*bb)
}

// waveCorrelation is the normalized correlation of two equal windows.
func waveCorrelation(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		p, q := float64(a[i]), float64(b[i])
		ab += p * q
		aa += p * p
		bb += q * q
	}
	if aa == 0 || bb == 0 {
		return -1
	}
	return ab / math.Sqrt(aa*bb)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func sumSquares(x []int16) int64 {
	var sum int64
	for _, v := range x {
		sum += int64(v) * int64(v)
	}
	return sum
}
