package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// Defect 3: closing the launching terminal (SIGHUP) and SIGQUIT end the
// live call before the process exits, as SIGTERM does.
func TestE2EHangupAndQuitSignalsEndCalls(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			d := newDesk(t, "", true)
			a := d.start(t, bin)
			waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")
			click(t, d.tr, "Start call")
			call := liveCall(t, d.sim, nil)
			waitTray(t, d.tr, assets.Billing, "Billing: ")
			if err := a.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			a.waitExit(t, 15*time.Second)
			c, _ := d.sim.Call(call.CallID)
			if c.Ended == nil || c.Ended.After(a.exitAt) || !confirmedByApp(d.sim, c, a.exitAt) {
				t.Fatalf("%v: call %+v not ended by the app before exit at %v", sig, c, a.exitAt)
			}
		})
	}
}
