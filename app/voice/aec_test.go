//go:build !nospeex

package voice

import (
	"math"
	"math/rand/v2"
	"testing"
)

// speechLike is noise shaped like speech: syllable-length bursts with
// random loudness and pauses, low-passed.
func speechLike(r *rand.Rand, n, rate int) []int16 {
	out := make([]int16, n)
	var lp float64
	amp := 0.0
	for i := range out {
		if i%(rate/8) == 0 { // a new 125 ms "syllable"
			if r.Float64() < 0.3 {
				amp = 0
			} else {
				amp = 2000 + 6000*r.Float64()
			}
		}
		lp += 0.3 * (r.NormFloat64()*amp - lp)
		out[i] = int16(max(-32000, min(32000, lp)))
	}
	return out
}

// The canceller, driven exactly as the two device callbacks drive it, finds
// a 37 ms echo delay (with a reverberation tap) by itself and removes the
// echo by more than 25 dB once converged.
func TestCancellerFindsTheDelayAndRemovesTheEcho(t *testing.T) {
	const rate, frame = 16000, 320
	c, err := newCanceller(frame, rate, rate*tailMs/1000)
	if err != nil {
		t.Fatal(err)
	}
	a := newAECPath(c, frame, rate)
	defer a.c.close()
	s := &Session{q: newFrameQueue(50, frame, func() int64 { return 0 })}

	r := rand.New(rand.NewPCG(1, 2))
	const secs = 8
	ref := speechLike(r, secs*rate, rate)
	const delay = 592 // 37 ms
	echo := make([]int16, len(ref))
	for i := range echo {
		var v float64
		if i >= delay {
			v += 0.5 * float64(ref[i-delay])
		}
		if i >= delay+400 {
			v += 0.15 * float64(ref[i-delay-400])
		}
		echo[i] = int16(v + 30*r.NormFloat64()) // plus a little room noise
	}
	period := rate / 100 // 10 ms callbacks, speaker first
	dst := make([]int16, frame)
	var inE, outE float64
	var pulled int
	for i := 0; i+period <= len(ref); i += period {
		a.playedOut(bytesLE(ref[i : i+period]))
		a.capture(s, bytesLE(echo[i:i+period]))
		if (i/period)%25 == 24 { // every 250 ms, as the goroutine would
			a.step()
		}
		for {
			if _, ok := s.q.pop(dst); !ok {
				break
			}
			// Measure the last 3 seconds, where the agent is audible.
			if at := pulled * frame; at >= (secs-3)*rate {
				inE += float64(sumSquares(echo[at : at+frame]))
				outE += float64(sumSquares(dst))
			}
			pulled++
		}
	}
	if !a.locked.Load() {
		t.Fatal("the echo delay was never found")
	}
	want := int64(-delay + rate*leadMs/1000)
	if got := a.offset.Load(); abs64(got-want) > 2 {
		t.Errorf("paired at offset %d, want %d (echo 37 ms late, paired %d ms early)", got, want, leadMs)
	}
	removed := 10 * math.Log10(inE/math.Max(outE, 1))
	t.Logf("removed %.1f dB over the last 3 s; converged %v; re-paired %d times", removed, a.converged.Load(), a.changes.Load())
	if removed < 25 {
		t.Errorf("only %.1f dB of echo removed", removed)
	}
	if !a.converged.Load() {
		t.Error("not marked converged: the microphone would stay gated")
	}
}

// When the speaker plays nothing, no delay is invented.
func TestCancellerFindsNoDelayInSilence(t *testing.T) {
	const rate, frame = 16000, 320
	c, err := newCanceller(frame, rate, rate*tailMs/1000)
	if err != nil {
		t.Fatal(err)
	}
	a := newAECPath(c, frame, rate)
	defer a.c.close()
	s := &Session{q: newFrameQueue(50, frame, func() int64 { return 0 })}
	r := rand.New(rand.NewPCG(3, 4))
	user := speechLike(r, 4*rate, rate)
	silence := make([]int16, rate/100)
	for i := 0; i+rate/100 <= len(user); i += rate / 100 {
		a.playedOut(bytesLE(silence))
		a.capture(s, bytesLE(user[i:i+rate/100]))
		s.q.discard(100)
		if (i/(rate/100))%25 == 24 {
			a.step()
		}
	}
	if a.locked.Load() {
		t.Fatalf("locked on a delay (%d) with a silent speaker", a.offset.Load())
	}
}

func bytesLE(s []int16) []byte { return pcm(s...) }
