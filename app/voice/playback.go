package voice

import (
	"encoding/binary"
	"sync"
)

// audibleThreshold is the peak sample level (about -50 dBFS) above which
// played agent audio counts as audible for echo gating.
const audibleThreshold = 100

// playFIFO is the agent's audio waiting to be played: a ring of samples that
// grows on demand (on the socket's goroutine, never in the device callback)
// up to a bound. The device callback only copies under a short lock.
type playFIFO struct {
	mu       sync.Mutex
	buf      []int16
	head, n  int
	max      int  // most samples kept; beyond it the oldest are dropped
	prebuf   int  // samples queued before playback (re)starts; grows after an underrun
	ceiling  int  // the most prebuf grows to
	gap      int  // samples of device time since playback ran dry (-1: not counting)
	playing  bool // false while prebuffering
	waited   int  // samples of device time spent prebuffering with data queued
	odd      bool // a byte of a sample is pending in oddByte
	oddByte  byte
	dropped  int64 // samples dropped because the FIFO was at max
	starved  int64 // times playback ran dry and went back to prebuffering
	underrun int64 // of those, times audio came back within underrunGap (the stream went on)
	cleared  int64 // ClearPlayback calls that dropped audio
	played   int64 // samples of agent audio played
	clearGen uint64
	gapMax   int // underrunGap in samples
}

// The prebuffer is adaptive: it starts at one frame (20 ms: agent audio
// reaches the speaker sooner) and doubles, up to the configured prebuffer,
// each time playback runs dry in the middle of the agent's speech (audio
// comes back within underrunGap): the network's jitter then needs the room.
// The end of an utterance (no audio for longer) does not count.
const (
	startPrebufferMs = 20
	underrunGapMs    = 120
)

// newPlayFIFO is a FIFO whose prebuffer starts at start samples and grows up
// to ceiling; rate is the sample rate (for underrunGap).
func newPlayFIFO(start, ceiling, limit, rate int) *playFIFO {
	start = max(min(start, ceiling), 1)
	return &playFIFO{buf: make([]int16, min(max(4*ceiling, 4096), limit)), prebuf: start, ceiling: ceiling, max: limit,
		gap: -1, gapMax: rate * underrunGapMs / 1000}
}

// write appends s16le samples. Bytes of a sample split across calls are
// joined.
func (f *playFIFO) write(pcm []byte) {
	if len(pcm) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.odd {
		f.put(int16(uint16(f.oddByte) | uint16(pcm[0])<<8))
		f.odd = false
		pcm = pcm[1:]
	}
	if len(pcm)%2 == 1 {
		f.odd, f.oddByte = true, pcm[len(pcm)-1]
		pcm = pcm[:len(pcm)-1]
	}
	need := f.n + len(pcm)/2
	if need > len(f.buf) && len(f.buf) < f.max {
		f.grow(min(max(need, 2*len(f.buf)), f.max))
	}
	for i := 0; i+1 < len(pcm); i += 2 {
		f.put(int16(binary.LittleEndian.Uint16(pcm[i:])))
	}
}

// put appends one sample, dropping the oldest when full. Caller holds mu.
func (f *playFIFO) put(s int16) {
	if f.n == len(f.buf) {
		f.head = (f.head + 1) % len(f.buf)
		f.n--
		f.dropped++
	}
	f.buf[(f.head+f.n)%len(f.buf)] = s
	f.n++
}

func (f *playFIFO) grow(size int) {
	nb := make([]int16, size)
	k := copy(nb, f.buf[f.head:min(f.head+f.n, len(f.buf))])
	copy(nb[k:], f.buf[:f.n-k])
	f.buf, f.head = nb, 0
}

// clear drops everything unplayed and returns to prebuffering.
func (f *playFIFO) clear() {
	f.mu.Lock()
	if f.n > 0 || f.playing {
		f.cleared++
	}
	f.head, f.n, f.playing, f.waited, f.odd, f.gap = 0, 0, false, 0, false, -1
	f.clearGen++
	f.mu.Unlock()
}

// read fills out (s16le) from the FIFO, or with silence while prebuffering
// or starved, and returns the peak level of the agent audio written. With
// mute the audio is consumed but silence is written. It runs in the device
// callback: no allocation, a short lock.
func (f *playFIFO) read(out []byte, mute bool) (peak int) {
	want := len(out) / 2
	f.mu.Lock()
	if !f.playing && f.gap >= 0 {
		if f.n > 0 {
			// Audio came back soon after playback ran dry: an underrun.
			f.underrun++
			f.prebuf = min(2*f.prebuf, f.ceiling)
			f.gap = -1
		} else if f.gap += want; f.gap > f.gapMax {
			f.gap = -1 // the utterance ended
		}
	}
	if !f.playing && f.n > 0 {
		// Start once the prebuffer is full, or once data has waited as long
		// as the prebuffer lasts (the end of an utterance shorter than it).
		if f.n >= f.prebuf || f.waited >= f.prebuf {
			f.playing, f.waited = true, 0
		} else {
			f.waited += want
		}
	}
	got := 0
	if f.playing {
		got = min(want, f.n)
		for i := 0; i < got; i++ {
			s := f.buf[(f.head+i)%len(f.buf)]
			if mute {
				s = 0
			}
			binary.LittleEndian.PutUint16(out[2*i:], uint16(s))
			if a := abs16(s); a > peak {
				peak = a
			}
		}
		f.head = (f.head + got) % len(f.buf)
		f.n -= got
		f.played += int64(got)
		if f.n == 0 {
			f.head = 0
			if got < want {
				f.playing = false
				f.starved++
				f.gap = want - got
			}
		}
	}
	f.mu.Unlock()
	clear(out[2*got:])
	return peak
}

func (f *playFIFO) queued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func abs16(s int16) int {
	if s < 0 {
		return -int(s)
	}
	return int(s)
}
