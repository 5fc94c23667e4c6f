package voice

import (
	"encoding/binary"
	"sync/atomic"
)

// frameQueue carries whole frames of captured samples from the device
// callback (the producer) to the sender goroutine (the consumer). All memory
// is allocated up front; the producer never blocks and never allocates: every
// channel operation is a non-blocking select on a buffered channel of slot
// indexes.
//
// Every slot is always in exactly one place: the free list, the full queue,
// held by the producer (being filled) or held by the consumer (being read).
// With at least 3 slots the producer therefore always finds one: free or, when
// the queue is full, the oldest full frame, which it drops and counts.
type frameQueue struct {
	slots [][]int16     // len(slots) frames of frameLen samples
	stamp []int64       // capture time (monotonic ns) of each slot's last sample
	free  chan int      // empty slots
	full  chan int      // frames ready for the consumer, oldest first
	ready chan struct{} // a frame was queued (a wake-up; sending never blocks)
	now   func() int64

	// producer state: only the callback touches these.
	cur    int // slot being filled, -1 none
	curLen int

	dropped atomic.Int64 // frames dropped because the queue was full
	lost    atomic.Int64 // samples lost with no slot at all (cannot happen with >=3 slots)
	frames  atomic.Int64 // frames captured
}

func newFrameQueue(frames, frameLen int, now func() int64) *frameQueue {
	q := &frameQueue{
		slots: make([][]int16, frames),
		stamp: make([]int64, frames),
		free:  make(chan int, frames),
		full:  make(chan int, frames),
		ready: make(chan struct{}, 1),
		now:   now,
		cur:   -1,
	}
	for i := range q.slots {
		q.slots[i] = make([]int16, frameLen)
		q.free <- i
	}
	return q
}

// push is called from the capture callback with s16le mono samples.
func (q *frameQueue) push(pcm []byte) {
	for len(pcm) >= 2 {
		dst := q.room()
		if dst == nil {
			q.lost.Add(int64(len(pcm) / 2))
			return
		}
		n := min(len(dst), len(pcm)/2)
		for i := range dst[:n] {
			dst[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
		}
		q.filled(n)
		pcm = pcm[2*n:]
	}
}

// pushSamples is push for samples already decoded (the echo canceller's
// output).
func (q *frameQueue) pushSamples(s []int16) {
	for len(s) > 0 {
		dst := q.room()
		if dst == nil {
			q.lost.Add(int64(len(s)))
			return
		}
		n := copy(dst, s)
		q.filled(n)
		s = s[n:]
	}
}

// room returns the unfilled part of the slot being filled, taking a slot
// first if needed; nil if there is none.
func (q *frameQueue) room() []int16 {
	if q.cur < 0 {
		q.cur = q.take()
		q.curLen = 0
		if q.cur < 0 {
			return nil
		}
	}
	return q.slots[q.cur][q.curLen:]
}

// filled records n more samples in the current slot and queues it once full.
func (q *frameQueue) filled(n int) {
	q.curLen += n
	slot := q.slots[q.cur]
	if q.curLen < len(slot) {
		return
	}
	q.stamp[q.cur] = q.now()
	q.frames.Add(1)
	select {
	case q.full <- q.cur:
		select {
		case q.ready <- struct{}{}:
		default: // a wake-up is already pending
		}
	default: // cannot happen: full has room for every slot
		q.lost.Add(int64(len(slot)))
		q.give(q.cur)
	}
	q.cur = -1
}

// take gets an empty slot for the producer: a free one, else the oldest
// queued frame (dropping it).
func (q *frameQueue) take() int {
	select {
	case i := <-q.free:
		return i
	default:
	}
	select {
	case i := <-q.full:
		q.dropped.Add(1)
		return i
	default:
	}
	// The consumer may have returned a slot between the two selects.
	select {
	case i := <-q.free:
		return i
	default:
		return -1
	}
}

func (q *frameQueue) give(i int) {
	select {
	case q.free <- i:
	default: // cannot happen: free has room for every slot
	}
}

// pop copies the oldest frame into dst and returns its capture time, or
// false when no frame is queued.
func (q *frameQueue) pop(dst []int16) (int64, bool) {
	select {
	case i := <-q.full:
		copy(dst, q.slots[i])
		t := q.stamp[i]
		q.give(i)
		return t, true
	default:
		return 0, false
	}
}

// backlog is the number of queued frames.
func (q *frameQueue) backlog() int { return len(q.full) }

// reset drops every queued frame (the consumer calls it).
func (q *frameQueue) discard(n int) int {
	d := 0
	for d < n {
		select {
		case i := <-q.full:
			q.give(i)
			d++
		default:
			return d
		}
	}
	return d
}
