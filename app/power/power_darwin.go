//go:build darwin && cgo

package power

/*
#cgo LDFLAGS: -framework IOKit -framework CoreFoundation
#include <stdint.h>

// Defined in power_darwin.c.
int uvt_run(uintptr_t handle);
void uvt_stop(void);
void uvt_allow(long id);
unsigned int uvt_can_sleep(void);
unsigned int uvt_will_sleep(void);
unsigned int uvt_has_powered_on(void);
*/
import "C"

import (
	"errors"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
)

// macOS: IORegisterForSystemPower on a thread running a CFRunLoop. On
// kIOMessageSystemWillSleep the system waits (up to 30 s) for
// IOAllowPowerChange, which Event.Ack calls; the event's deadline is set
// well inside that. Idle-sleep queries (kIOMessageCanSystemSleep) are
// allowed at once. Screen lock comes from the distributed notifications
// com.apple.screenIsLocked / com.apple.screenIsUnlocked.

const darwinSleepGrace = 20 * time.Second

// Open starts the IOKit power notices and the clock-jump detector. When
// IOKit refuses, Open logs it and runs the detector alone.
func Open(opts Options) (Source, error) {
	opts.defaults()
	d, err := newDarwinPower(opts.Logf)
	if err != nil {
		opts.Logf.printf("power: %v; sleep is noticed only by the clock-jump check", err)
		return withClockJump(opts), nil
	}
	return withClockJump(opts, d), nil
}

type darwinPower struct {
	logf   Logf
	handle cgo.Handle
	ready  chan struct{}
	ch     chan Event
	done   chan struct{}
	exit   chan struct{}
	once   sync.Once
}

// The C side keeps one registration per process.
var (
	darwinMu   sync.Mutex
	darwinOpen bool
)

func newDarwinPower(logf Logf) (*darwinPower, error) {
	darwinMu.Lock()
	defer darwinMu.Unlock()
	if darwinOpen {
		return nil, errors.New("IOKit power notices are already registered in this process")
	}
	d := &darwinPower{logf: logf, ready: make(chan struct{}), ch: make(chan Event, 8), done: make(chan struct{}), exit: make(chan struct{})}
	d.handle = cgo.NewHandle(d)
	failed := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(d.exit)
		if C.uvt_run(C.uintptr_t(d.handle)) != 0 {
			close(failed)
		}
	}()
	// uvt_run either fails at once or says it is ready and runs the loop.
	select {
	case <-failed:
		d.handle.Delete()
		return nil, errors.New("IORegisterForSystemPower failed")
	case <-d.ready:
	}
	darwinOpen = true
	return d, nil
}

//export uvtReady
func uvtReady(handle C.uintptr_t) {
	close(cgo.Handle(handle).Value().(*darwinPower).ready)
}

//export uvtPowerMessage
func uvtPowerMessage(handle C.uintptr_t, typ C.uint, id C.long) {
	d := cgo.Handle(handle).Value().(*darwinPower)
	switch typ {
	case C.uvt_can_sleep():
		C.uvt_allow(id)
	case C.uvt_will_sleep():
		deadline := time.Now().Add(darwinSleepGrace)
		ack := onceAck(func() { C.uvt_allow(id) })
		// Never leave the system waiting on us past the deadline.
		t := time.AfterFunc(darwinSleepGrace, ack)
		ev := Event{Kind: WillSleep, Deadline: deadline, Ack: func() { t.Stop(); ack() }, Reason: "kIOMessageSystemWillSleep"}
		if !d.deliver(ev) {
			ev.Ack()
		}
	case C.uvt_has_powered_on():
		d.deliver(Event{Kind: DidWake, Ack: noAck, Reason: "kIOMessageSystemHasPoweredOn"})
	}
}

//export uvtScreenLock
func uvtScreenLock(handle C.uintptr_t, locked C.int) {
	d := cgo.Handle(handle).Value().(*darwinPower)
	if locked != 0 {
		d.deliver(Event{Kind: Locked, Ack: noAck, Reason: "com.apple.screenIsLocked"})
	} else {
		d.deliver(Event{Kind: Unlocked, Ack: noAck, Reason: "com.apple.screenIsUnlocked"})
	}
}

func (d *darwinPower) deliver(ev Event) bool {
	select {
	case <-d.done:
		return false
	default:
	}
	select {
	case d.ch <- ev:
		return true
	default:
		d.logf.printf("power: event %s dropped: nobody is reading power events", ev.Kind)
		return false
	}
}

func (d *darwinPower) Events() <-chan Event { return d.ch }

func (d *darwinPower) Close() error {
	d.once.Do(func() {
		close(d.done)
		C.uvt_stop()
		<-d.exit
		d.handle.Delete()
		close(d.ch)
		darwinMu.Lock()
		darwinOpen = false
		darwinMu.Unlock()
	})
	return nil
}
