package power

import (
	"fmt"
	"sync"
	"time"
)

// Clock is what the clock-jump detector reads. Tests inject one.
type Clock interface {
	// Now returns the wall-clock time and a monotonic reading. On Linux and
	// macOS the monotonic clock stops while the machine sleeps and the wall
	// clock does not, which is what the detector looks for.
	Now() (wall time.Time, mono time.Duration)
	// Tick returns a channel ticking every d and a function that stops it.
	Tick(d time.Duration) (<-chan time.Time, func())
}

// ClockJumpOptions configure the clock-jump detector (Options.ClockJump).
// Zero values take the defaults.
type ClockJumpOptions struct {
	Interval  time.Duration // how often to compare the clocks; default 2 s
	Threshold time.Duration // how much jump counts as a sleep; default 5 s
	Clock     Clock         // default: the system clocks
	Logf      Logf
}

// systemClock reads time.Now: the wall part without its monotonic reading,
// and the monotonic part as the duration since the clock was made.
type systemClock struct{ start time.Time }

func (c systemClock) Now() (time.Time, time.Duration) {
	now := time.Now()
	return now.Round(0), now.Sub(c.start)
}

func (systemClock) Tick(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// newClockJump starts a detector that emits DidWake when, between two ticks,
// the wall clock advanced more than Threshold beyond the monotonic clock (the
// machine slept without telling us), or the tick itself came more than
// Threshold late (the process was frozen). A wall clock set backwards by
// more than Threshold counts too: a re-check is cheap and never wrong.
func newClockJump(opts ClockJumpOptions) Source {
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.Threshold <= 0 {
		opts.Threshold = 5 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{start: time.Now()}
	}
	j := &clockJump{opts: opts, ch: make(chan Event, 4), done: make(chan struct{})}
	tick, stop := opts.Clock.Tick(opts.Interval)
	j.wg.Add(1)
	go j.run(tick, stop)
	return j
}

type clockJump struct {
	opts ClockJumpOptions
	ch   chan Event
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func (j *clockJump) run(tick <-chan time.Time, stop func()) {
	defer j.wg.Done()
	defer close(j.ch)
	defer stop()
	lastWall, lastMono := j.opts.Clock.Now()
	for {
		select {
		case <-j.done:
			return
		case <-tick:
		}
		wall, mono := j.opts.Clock.Now()
		dWall := wall.Sub(lastWall)
		dMono := mono - lastMono
		lastWall, lastMono = wall, mono
		reason := ""
		switch skew := dWall - dMono; {
		case skew > j.opts.Threshold:
			reason = fmt.Sprintf("wall clock jumped %s past the monotonic clock (slept without notice)", skew.Round(time.Second))
		case skew < -j.opts.Threshold:
			reason = fmt.Sprintf("wall clock went back %s", (-skew).Round(time.Second))
		case dMono-j.opts.Interval > j.opts.Threshold:
			reason = fmt.Sprintf("clock tick came %s late (suspended or frozen)", (dMono - j.opts.Interval).Round(time.Second))
		default:
			continue
		}
		j.opts.Logf.printf("power: %s: treating it as a wake", reason)
		select {
		case j.ch <- Event{Kind: DidWake, Ack: noAck, Reason: reason}:
		case <-j.done:
			return
		}
	}
}

func (j *clockJump) Events() <-chan Event { return j.ch }

func (j *clockJump) Close() error {
	j.once.Do(func() { close(j.done) })
	j.wg.Wait()
	return nil
}
