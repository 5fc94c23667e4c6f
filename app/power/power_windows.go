//go:build windows

package power

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows: a hidden top-level window (never shown) on its own OS thread.
// It has to be top-level, not message-only (HWND_MESSAGE): message-only
// windows receive no broadcasts, and WM_POWERBROADCAST and
// WM_QUERYENDSESSION are broadcasts.
//
//   - WM_POWERBROADCAST/PBT_APMSUSPEND: WillSleep. Windows allows about 2 s;
//     the window procedure returns when the event is acknowledged or the
//     deadline passes.
//   - PBT_APMRESUMEAUTOMATIC / PBT_APMRESUMESUSPEND: DidWake.
//   - WM_QUERYENDSESSION: WillShutdown (the earliest notice; the window
//     procedure waits for Ack, up to about 4 s, then allows the shutdown).
//   - WM_ENDSESSION with wParam FALSE: the shutdown was cancelled: DidWake.
//   - WM_WTSSESSION_CHANGE (WTS_SESSION_LOCK / UNLOCK): Locked / Unlocked.

const (
	wmDestroy           = 0x0002
	wmClose             = 0x0010
	wmQueryEndSession   = 0x0011
	wmEndSession        = 0x0016
	wmPowerBroadcast    = 0x0218
	wmWTSSessionChange  = 0x02B1
	pbtAPMSuspend       = 0x0004
	pbtAPMResumeSuspend = 0x0007
	pbtAPMResumeAuto    = 0x0012
	wtsSessionLock      = 0x7
	wtsSessionUnlock    = 0x8
	notifyForThisSess   = 0

	suspendGrace  = 2 * time.Second
	shutdownGrace = 4 * time.Second
)

var (
	user32                 = windows.NewLazySystemDLL("user32.dll")
	wtsapi32               = windows.NewLazySystemDLL("wtsapi32.dll")
	procRegisterClassExW   = user32.NewProc("RegisterClassExW")
	procUnregisterClassW   = user32.NewProc("UnregisterClassW")
	procCreateWindowExW    = user32.NewProc("CreateWindowExW")
	procDefWindowProcW     = user32.NewProc("DefWindowProcW")
	procGetMessageW        = user32.NewProc("GetMessageW")
	procTranslateMessage   = user32.NewProc("TranslateMessage")
	procDispatchMessageW   = user32.NewProc("DispatchMessageW")
	procPostMessageW       = user32.NewProc("PostMessageW")
	procPostQuitMessage    = user32.NewProc("PostQuitMessage")
	procWTSRegisterSession = wtsapi32.NewProc("WTSRegisterSessionNotification")
	procWTSUnregisterSess  = wtsapi32.NewProc("WTSUnRegisterSessionNotification")
)

type wndClassEx struct {
	Size       uint32
	Style      uint32
	WndProc    uintptr
	ClsExtra   int32
	WndExtra   int32
	Instance   windows.Handle
	Icon       windows.Handle
	Cursor     windows.Handle
	Background windows.Handle
	MenuName   *uint16
	ClassName  *uint16
	IconSm     windows.Handle
}

type winMsg struct {
	Hwnd    windows.HWND
	Message uint32
	WParam  uintptr
	LParam  uintptr
	Time    uint32
	Pt      struct{ X, Y int32 }
	Private uint32
}

// Open starts the Windows power window and the clock-jump detector. When the
// window cannot be created, Open logs it and runs the detector alone.
func Open(opts Options) (Source, error) {
	opts.defaults()
	w, err := newWinPower(opts.Logf)
	if err != nil {
		opts.Logf.printf("power: %v; sleep is noticed only by the clock-jump check", err)
		return withClockJump(opts), nil
	}
	return withClockJump(opts, w), nil
}

type winPower struct {
	logf Logf
	hwnd windows.HWND
	ch   chan Event
	done chan struct{}
	exit chan struct{}
	once sync.Once
}

// The window procedure is a process-wide callback; one power window per
// process is all we need.
var (
	current     *winPower
	currentMu   sync.Mutex
	wndProcAddr = windows.NewCallback(wndProc)
)

func newWinPower(logf Logf) (*winPower, error) {
	w := &winPower{logf: logf, ch: make(chan Event, 8), done: make(chan struct{}), exit: make(chan struct{})}
	currentMu.Lock()
	if current != nil {
		currentMu.Unlock()
		return nil, errors.New("a power window is already open in this process")
	}
	current = w
	currentMu.Unlock()
	ready := make(chan error, 1)
	go w.loop(ready)
	if err := <-ready; err != nil {
		currentMu.Lock()
		current = nil
		currentMu.Unlock()
		return nil, err
	}
	return w, nil
}

func (w *winPower) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(w.exit)
	defer close(w.ch)

	var inst windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &inst); err != nil {
		ready <- fmt.Errorf("GetModuleHandleEx: %w", err)
		return
	}
	className, _ := windows.UTF16PtrFromString("UltravoxTrayPowerWindow")
	wc := wndClassEx{WndProc: wndProcAddr, Instance: inst, ClassName: className}
	wc.Size = uint32(unsafe.Sizeof(wc))
	if r, _, err := procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))); r == 0 {
		ready <- fmt.Errorf("cannot register the power window class: %w", err)
		return
	}
	defer procUnregisterClassW.Call(uintptr(unsafe.Pointer(className)), uintptr(inst))
	// A hidden top-level window: no WS_VISIBLE, never shown.
	hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(className)), uintptr(unsafe.Pointer(className)),
		0, 0, 0, 0, 0, 0, 0, uintptr(inst), 0)
	if hwnd == 0 {
		ready <- fmt.Errorf("cannot create the power window: %w", err)
		return
	}
	w.hwnd = windows.HWND(hwnd)
	if r, _, err := procWTSRegisterSession.Call(hwnd, notifyForThisSess); r == 0 {
		w.logf.printf("power: screen lock not watched (WTSRegisterSessionNotification: %v)", err)
	} else {
		defer procWTSUnregisterSess.Call(hwnd)
	}
	ready <- nil

	var m winMsg
	for {
		r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if int32(r) <= 0 { // WM_QUIT or error
			return
		}
		procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
		procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
	}
}

func wndProc(hwnd windows.HWND, msg uint32, wparam, lparam uintptr) uintptr {
	currentMu.Lock()
	w := current
	currentMu.Unlock()
	if w != nil {
		switch msg {
		case wmPowerBroadcast:
			switch wparam {
			case pbtAPMSuspend:
				w.deliverAndWait(WillSleep, suspendGrace, "PBT_APMSUSPEND")
			case pbtAPMResumeAuto, pbtAPMResumeSuspend:
				w.deliver(Event{Kind: DidWake, Ack: noAck, Reason: "resumed from sleep"})
			}
			return 1
		case wmQueryEndSession:
			w.deliverAndWait(WillShutdown, shutdownGrace, "WM_QUERYENDSESSION")
			return 1 // never block the shutdown
		case wmEndSession:
			if wparam == 0 {
				w.deliver(Event{Kind: DidWake, Ack: noAck, Reason: "shutdown cancelled"})
			}
			return 0
		case wmWTSSessionChange:
			switch wparam {
			case wtsSessionLock:
				w.deliver(Event{Kind: Locked, Ack: noAck, Reason: "WTS_SESSION_LOCK"})
			case wtsSessionUnlock:
				w.deliver(Event{Kind: Unlocked, Ack: noAck, Reason: "WTS_SESSION_UNLOCK"})
			}
			return 0
		case wmDestroy:
			procPostQuitMessage.Call(0)
			return 0
		}
	}
	r, _, _ := procDefWindowProcW.Call(uintptr(hwnd), uintptr(msg), wparam, lparam)
	return r
}

// deliverAndWait sends an event the OS waits on and blocks the window
// procedure (which is what makes Windows wait) until Ack or the deadline.
func (w *winPower) deliverAndWait(k Kind, grace time.Duration, reason string) {
	deadline := time.Now().Add(grace)
	acked := make(chan struct{})
	ev := Event{Kind: k, Deadline: deadline, Ack: onceAck(func() { close(acked) }), Reason: reason}
	if !w.deliver(ev) {
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-acked:
	case <-t.C:
		w.logf.printf("power: %s not acknowledged within %s; letting Windows go on", reason, grace)
	case <-w.done:
	}
}

func (w *winPower) deliver(ev Event) bool {
	select {
	case w.ch <- ev:
		return true
	case <-w.done:
		return false
	default:
		w.logf.printf("power: event %s dropped: nobody is reading power events", ev.Kind)
		return false
	}
}

func (w *winPower) Events() <-chan Event { return w.ch }

func (w *winPower) Close() error {
	w.once.Do(func() {
		close(w.done)
		procPostMessageW.Call(uintptr(w.hwnd), wmClose, 0, 0)
		<-w.exit
		currentMu.Lock()
		current = nil
		currentMu.Unlock()
	})
	return nil
}
