package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

func TestTrayLogWatcher(t *testing.T) {
	var out bytes.Buffer
	hit := make(chan struct{}, 2)
	w := NewTrayLogWatcher(&out, func() { hit <- struct{}{} })
	fmt.Fprint(w, "2026/11/22 systray error: failed to ")
	fmt.Fprint(w, "register: org.freedesktop.DBus.Error.ServiceUnknown\nother line\n")
	fmt.Fprint(w, "systray error: failed to register: again\n")
	select {
	case <-hit:
	case <-time.After(2 * time.Second):
		t.Fatal("missing watcher not detected")
	}
	select {
	case <-hit:
		t.Fatal("reported twice")
	case <-time.After(100 * time.Millisecond):
	}
	if !strings.Contains(out.String(), "other line") {
		t.Error("log output not passed through")
	}
	w2 := NewTrayLogWatcher(&out, func() { hit <- struct{}{} })
	fmt.Fprint(w2, "systray error: failed to set ToolTip prop\n")
	select {
	case <-hit:
		t.Fatal("unrelated systray error reported as no tray")
	case <-time.After(100 * time.Millisecond):
	}
}

// The "no system tray" window turns into a confirmation when a tray host
// (a StatusNotifierWatcher) appears on the session bus later, and then
// closes itself.
func TestNoTrayWindowFollowsALateTrayHost(t *testing.T) {
	bus := desktoptest.SessionBus(t)
	bus.Setenv(t)
	old := trayFoundClose
	trayFoundClose = 300 * time.Millisecond
	defer func() { trayFoundClose = old }()

	m := newFakeManager(idle())
	tr, _, _ := newTestTray(t, m, nil)
	found := make(chan struct{}, 1)
	tr.ShowNoTray(func() { found <- struct{}{} })
	var win fyne.Window
	var lbl *widget.Label
	get := func() {
		lbl, win, _ = tr.windows.noTray.get()
	}
	var text, title string
	onUI(func() {
		get()
		if win != nil {
			text, title = lbl.Text, win.Title()
		}
	})
	if win == nil || text != NoTrayText || title != "Ultravox Tray: no system tray" {
		t.Fatalf("no-tray window %v %q %q", win, title, text)
	}
	select {
	case <-found:
		t.Fatal("a tray was found on a bus without one")
	case <-time.After(300 * time.Millisecond):
	}

	desktoptest.StatusNotifierWatcher(t, bus.Conn(t))
	select {
	case <-found:
	case <-time.After(10 * time.Second):
		t.Fatal("the tray host that appeared was not noticed")
	}
	onUI(func() { text, title = lbl.Text, win.Title() })
	if !strings.HasPrefix(text, TrayFoundText) || title != "Ultravox Tray: system tray found" {
		t.Errorf("after the tray appeared: %q / %q", title, text)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		onUI(get)
		if win == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the confirmation did not close itself")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A window the user closes stops watching and calls nothing.
	found2 := make(chan struct{}, 1)
	tr.waitTrayHost = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tr.ShowNoTray(func() { found2 <- struct{}{} })
	onUI(get)
	onUI(func() { win.Close() })
	onUI(get)
	if win != nil {
		t.Error("closed window still tracked")
	}
	select {
	case <-found2:
		t.Error("onFound after the user closed the window")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestWaitTrayHost(t *testing.T) {
	bus := desktoptest.SessionBus(t)
	bus.Setenv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := waitForTrayHost(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no tray host: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- waitForTrayHost(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	desktoptest.StatusNotifierWatcher(t, bus.Conn(t))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("late tray host not seen")
	}
	// Already there: at once.
	if err := waitForTrayHost(context.Background()); err != nil {
		t.Fatal(err)
	}
}
