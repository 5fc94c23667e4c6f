//go:build windows

// Command winctl drives the Windows build under Wine for scripts/
// test-windows.sh, the way a user and Windows itself would:
//
//	winctl key set KEY | get | delete   the API key in Credential Manager, through
//	                                    the app's own secrets package
//	winctl choose start-call|end-call|quit
//	                                    open the tray menu (a right click on the
//	                                    icon) and choose the item with the keyboard
//	winctl keys down,down,enter         open the tray menu and type these keys
//	winctl suspend                      send WM_POWERBROADCAST/PBT_APMSUSPEND to the
//	                                    app's power window, as Windows does before sleep
//	winctl wait-tray SECONDS            wait until the tray icon's window exists
//
// The tray is fyne.io/systray's: a window of class SystrayClass whose
// callback message (WM_USER+1) with WM_RBUTTONUP opens the menu with
// TrackPopupMenu; the open menu is a window of class #32768 that takes
// keys. Its items cannot be read from another process under Wine (menu
// handles are per process there), so the caller checks each choice by its
// effect: the simulator's calls, the app's log, the process exiting.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/ultravox-tray/ultravox-tray/secrets"
)

var (
	user32              = windows.NewLazySystemDLL("user32.dll")
	procFindWindowW     = user32.NewProc("FindWindowW")
	procPostMessageW    = user32.NewProc("PostMessageW")
	procSendMessageTO   = user32.NewProc("SendMessageTimeoutW")
	procSetCursorPos    = user32.NewProc("SetCursorPos")
	procIsWindowVisible = user32.NewProc("IsWindowVisible")
)

const (
	wmUser           = 0x0400
	wmKeyDown        = 0x0100
	wmKeyUp          = 0x0101
	wmRButtonUp      = 0x0205
	wmPowerBroadcast = 0x0218
	pbtAPMSuspend    = 0x0004
	smtoAbortIfHung  = 0x0002
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "winctl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: winctl key|menu|click|suspend|wait-tray ...")
	}
	switch args[0] {
	case "key":
		return key(args[1:])
	case "choose":
		if len(args) != 2 {
			return errors.New("usage: winctl choose start-call|end-call|quit")
		}
		seq, ok := fromBottom[args[1]]
		if !ok {
			return fmt.Errorf("unknown item %q", args[1])
		}
		return keys(append(strings.Split(seq, ","), "enter"))
	case "keys":
		if len(args) != 2 {
			return errors.New("usage: winctl keys down,down,enter")
		}
		return keys(strings.Split(args[1], ","))
	case "suspend":
		return suspend()
	case "wait-tray":
		secs := 30
		if len(args) > 1 {
			secs, _ = strconv.Atoi(args[1])
		}
		_, err := waitWindow("SystrayClass", time.Duration(secs)*time.Second)
		return err
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// fromBottom is how a keyboard user reaches an item from the bottom of the
// tray menu (Up from no selection wraps to the last item). The bottom of the
// menu has the same shape in every state (ui/model): Start call, Start call
// with, End call, End all calls, Mute, Show call, -, Recent calls, Today,
// -, Settings, Quit; the top holds one or two status lines.
var fromBottom = map[string]string{
	"quit":       "up",
	"end-call":   "up,up,up,up,up,up,up,up",
	"start-call": "up,up,up,up,up,up,up,up,up,up",
}

func key(args []string) error {
	st := secrets.New(secrets.WithTimeout(10 * time.Second))
	ctx := context.Background()
	switch {
	case len(args) == 2 && args[0] == "set":
		return st.Set(ctx, args[1])
	case len(args) == 1 && args[0] == "get":
		k, src, err := st.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%s\n", src, k)
		return nil
	case len(args) == 1 && args[0] == "delete":
		return st.Delete(ctx)
	}
	return errors.New("usage: winctl key set KEY | get | delete")
}

func findWindow(class string) windows.HWND {
	c, _ := windows.UTF16PtrFromString(class)
	h, _, _ := procFindWindowW.Call(uintptr(unsafe.Pointer(c)), 0)
	return windows.HWND(h)
}

func waitWindow(class string, d time.Duration) (windows.HWND, error) {
	deadline := time.Now().Add(d)
	for {
		if h := findWindow(class); h != 0 {
			return h, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no %s window after %v", class, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func suspend() error {
	h, err := waitWindow("UltravoxTrayPowerWindow", 5*time.Second)
	if err != nil {
		return err
	}
	var res uintptr
	start := time.Now()
	r, _, e := procSendMessageTO.Call(uintptr(h), wmPowerBroadcast, pbtAPMSuspend, 0, smtoAbortIfHung, 10000, uintptr(unsafe.Pointer(&res)))
	if r == 0 {
		return fmt.Errorf("WM_POWERBROADCAST not answered: %v", e)
	}
	fmt.Printf("PBT_APMSUSPEND answered after %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// keys opens the tray menu and types into it (down, up, right, left,
// enter, escape), as a user choosing an item with the keyboard would.
func keys(seq []string) error {
	tray, err := waitWindow("SystrayClass", 10*time.Second)
	if err != nil {
		return err
	}
	popup, err := openMenu(tray)
	if err != nil {
		return err
	}
	vk := map[string]uintptr{"down": 0x28, "up": 0x26, "right": 0x27, "left": 0x25, "enter": 0x0D, "escape": 0x1B}
	for _, k := range seq {
		code, ok := vk[k]
		if !ok {
			return fmt.Errorf("unknown key %q", k)
		}
		procPostMessageW.Call(uintptr(popup), wmKeyDown, code, 1)
		procPostMessageW.Call(uintptr(popup), wmKeyUp, code, 1|3<<30)
		time.Sleep(150 * time.Millisecond)
	}
	return nil
}

func openMenu(tray windows.HWND) (windows.HWND, error) {
	procSetCursorPos.Call(200, 200)
	procPostMessageW.Call(uintptr(tray), wmUser+1, 0, wmRButtonUp)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if popup := findWindow("#32768"); popup != 0 {
			if v, _, _ := procIsWindowVisible.Call(uintptr(popup)); v != 0 {
				return popup, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, errors.New("the tray menu did not open")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
