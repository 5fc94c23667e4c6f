//go:build windows

// Command winctl drives the Windows build under Wine for scripts/
// test-windows.sh, the way a user and Windows itself would:
//
//	winctl key set KEY | get | delete   the API key in Credential Manager, through
//	                                    the app's own secrets package
//	winctl menu                         open the tray menu (a right click on the
//	                                    icon) and print its items, then close it
//	winctl click PREFIX                 open the tray menu and choose the first
//	                                    item whose label starts with PREFIX
//	winctl suspend                      send WM_POWERBROADCAST/PBT_APMSUSPEND to the
//	                                    app's power window, as Windows does before sleep
//	winctl wait-tray SECONDS            wait until the tray icon's window exists
//
// The tray is fyne.io/systray's: a window of class SystrayClass whose
// callback message (WM_USER+1) with WM_RBUTTONUP opens the menu with
// TrackPopupMenu; the open menu is a window of class #32768 that hands out
// its HMENU (MN_GETHMENU), whose items carry the ids the tray's window
// expects in WM_COMMAND.
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
	procGetMenuItemCnt  = user32.NewProc("GetMenuItemCount")
	procGetMenuItemID   = user32.NewProc("GetMenuItemID")
	procGetMenuStringW  = user32.NewProc("GetMenuStringW")
	procGetMenuState    = user32.NewProc("GetMenuState")
	procSetCursorPos    = user32.NewProc("SetCursorPos")
	procIsWindowVisible = user32.NewProc("IsWindowVisible")
)

const (
	wmUser           = 0x0400
	wmCommand        = 0x0111
	wmCancelMode     = 0x001F
	wmRButtonUp      = 0x0205
	wmPowerBroadcast = 0x0218
	pbtAPMSuspend    = 0x0004
	mnGetHMenu       = 0x01E1
	mfByPosition     = 0x0400
	mfGrayed         = 0x0001
	mfDisabled       = 0x0002
	mfPopup          = 0x0010
	mfSeparator      = 0x0800
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
	case "menu":
		items, err := menu("")
		for _, it := range items {
			state := ""
			if it.disabled {
				state = " (disabled)"
			}
			fmt.Printf("%d\t%s%s\n", it.id, it.label, state)
		}
		return err
	case "click":
		if len(args) != 2 {
			return errors.New("usage: winctl click PREFIX")
		}
		_, err := menu(args[1])
		return err
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

type item struct {
	id       uint32
	label    string
	disabled bool
}

// menu opens the tray menu, reads its items, and chooses the first whose
// label starts with choose (none when empty). The menu is closed either way.
func menu(choose string) ([]item, error) {
	tray, err := waitWindow("SystrayClass", 10*time.Second)
	if err != nil {
		return nil, err
	}
	procSetCursorPos.Call(200, 200)
	procPostMessageW.Call(uintptr(tray), wmUser+1, 0, wmRButtonUp)
	var popup windows.HWND
	deadline := time.Now().Add(10 * time.Second)
	for {
		popup = findWindow("#32768")
		if popup != 0 {
			if v, _, _ := procIsWindowVisible.Call(uintptr(popup)); v != 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the tray menu did not open")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var hmenu uintptr
	procSendMessageTO.Call(uintptr(popup), mnGetHMenu, 0, 0, smtoAbortIfHung, 2000, uintptr(unsafe.Pointer(&hmenu)))
	if hmenu == 0 {
		procPostMessageW.Call(uintptr(tray), wmCancelMode, 0, 0)
		return nil, errors.New("the open menu gave no HMENU")
	}
	n, _, _ := procGetMenuItemCnt.Call(hmenu)
	var items []item
	for i := 0; i < int(int32(n)); i++ {
		st, _, _ := procGetMenuState.Call(hmenu, uintptr(i), mfByPosition)
		if st&mfSeparator != 0 {
			continue
		}
		buf := make([]uint16, 256)
		procGetMenuStringW.Call(hmenu, uintptr(i), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), mfByPosition)
		id, _, _ := procGetMenuItemID.Call(hmenu, uintptr(i))
		it := item{id: uint32(id), label: windows.UTF16ToString(buf), disabled: st&(mfGrayed|mfDisabled) != 0}
		if st&mfPopup != 0 {
			it.label += " >"
		}
		items = append(items, it)
	}
	// Close the menu: TrackPopupMenu returns on WM_CANCELMODE to its owner.
	procPostMessageW.Call(uintptr(tray), wmCancelMode, 0, 0)
	for time.Now().Before(deadline) {
		if v, _, _ := procIsWindowVisible.Call(uintptr(popup)); v == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if choose == "" {
		return items, nil
	}
	var labels []string
	for _, it := range items {
		if strings.HasPrefix(it.label, choose) {
			if it.disabled {
				return items, fmt.Errorf("%q is disabled", it.label)
			}
			procPostMessageW.Call(uintptr(tray), wmCommand, uintptr(it.id), 0)
			fmt.Printf("chose %q\n", it.label)
			return items, nil
		}
		labels = append(labels, it.label)
	}
	return items, fmt.Errorf("no menu item starts with %q; the menu: %q", choose, labels)
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
