package simulator

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// speechRate is how fast the simulated agent "talks": characters of
// transcript per second of audio (about 150 words a minute).
const speechRate = 14.0

// speechDuration is how long the agent needs to say text.
func speechDuration(text string) time.Duration {
	n := len([]rune(text))
	d := time.Duration(float64(n) / speechRate * float64(time.Second))
	return max(d, 300*time.Millisecond)
}

// synthSpeech renders a speech-like signal for text at rate Hz as s16le
// mono PCM: a voiced source (a 120-160 Hz fundamental with harmonics and a
// slow pitch contour) shaped by a syllable-rate (about 4 Hz) envelope, with
// short pauses where the text has spaces between words. It has the energy
// profile of speech, so energy-based voice detection and echo gates react to
// it as they would to a voice; it is not intelligible.
func synthSpeech(text string, rate int) []byte {
	dur := speechDuration(text)
	n := int(float64(rate) * dur.Seconds())
	out := make([]byte, 2*n)
	runes := []rune(text)
	phase := 0.0
	for i := 0; i < n; i++ {
		t := float64(i) / float64(rate)
		// Which character is being "said" now.
		ci := int(t * speechRate)
		if ci >= len(runes) {
			ci = len(runes) - 1
		}
		gap := ci >= 0 && (runes[ci] == ' ' || strings.ContainsRune(".,!?;:", runes[ci]))
		f0 := 140 + 20*math.Sin(2*math.Pi*0.7*t) // slow intonation
		phase += 2 * math.Pi * f0 / float64(rate)
		src := math.Sin(phase) + 0.5*math.Sin(2*phase) + 0.3*math.Sin(3*phase) + 0.15*math.Sin(5*phase)
		env := math.Pow(math.Sin(math.Pi*4*t), 2) // syllables at 4 Hz
		if gap {
			env *= 0.05
		}
		// Fade in and out over 20 ms to avoid clicks.
		edge := math.Min(1, math.Min(t, dur.Seconds()-t)/0.02)
		v := 6000 * src * env * math.Max(edge, 0)
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(math.Max(-32767, math.Min(32767, v)))))
	}
	return out
}

// rms is the root-mean-square level of s16le PCM (0..32767).
func rms(pcm []byte) float64 {
	n := len(pcm) / 2
	if n == 0 {
		return 0
	}
	sum := 0.0
	for i := 0; i < n; i++ {
		v := float64(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
		sum += v * v
	}
	return math.Sqrt(sum / float64(n))
}

// vad is an energy voice detector over received audio. It measures time in
// samples of received audio, so it is exact however the client paces and
// cuts its frames: the audio is one s16le byte stream, and a frame that
// ends inside a sample (an odd byte count) has that byte completed by the
// next frame.
type vad struct {
	rate      int
	threshold float64
	hangover  time.Duration // quiet that ends an utterance
	onset     time.Duration // voiced audio needed to start one

	odd        []byte // 0 or 1 byte: the start of a sample cut by a frame end
	pos        int64  // samples received
	speaking   bool
	voicedRun  int64 // voiced samples in the current candidate onset
	candStart  int64
	lastVoiced int64
	start      int64
}

type vadEvent int

const (
	vadNone vadEvent = iota
	vadStart
	vadEnd
)

func (v *vad) samples(d time.Duration) int64 {
	return int64(d.Seconds() * float64(v.rate))
}

// feed processes one frame and reports an edge, if any. On vadEnd,
// spoken() is the length of the utterance.
func (v *vad) feed(pcm []byte) vadEvent {
	if v.rate <= 0 || len(pcm) == 0 {
		return vadNone
	}
	if len(v.odd) > 0 {
		pcm = append(v.odd, pcm...)
		v.odd = nil
	}
	if len(pcm)%2 == 1 {
		v.odd = []byte{pcm[len(pcm)-1]}
		pcm = pcm[:len(pcm)-1]
	}
	n := int64(len(pcm) / 2)
	if n == 0 {
		return vadNone
	}
	voiced := rms(pcm) >= v.threshold
	frameStart := v.pos
	v.pos += n
	switch {
	case voiced && !v.speaking:
		if v.voicedRun == 0 || frameStart-v.lastVoiced > v.samples(300*time.Millisecond) {
			v.voicedRun = 0
			v.candStart = frameStart
		}
		v.voicedRun += n
		v.lastVoiced = v.pos
		if v.voicedRun >= v.samples(v.onset) {
			v.speaking = true
			v.start = v.candStart
			return vadStart
		}
	case voiced && v.speaking:
		v.lastVoiced = v.pos
	case !voiced && v.speaking:
		if v.pos-v.lastVoiced >= v.samples(v.hangover) {
			v.speaking = false
			v.voicedRun = 0
			return vadEnd
		}
	}
	return vadNone
}

// forceEnd ends an utterance whose audio stopped arriving.
func (v *vad) forceEnd() bool {
	if !v.speaking {
		return false
	}
	v.speaking = false
	v.voicedRun = 0
	return true
}

// spoken is the length of the last (or current) utterance.
func (v *vad) spoken() time.Duration {
	return time.Duration(float64(v.lastVoiced-v.start) / float64(v.rate) * float64(time.Second))
}
