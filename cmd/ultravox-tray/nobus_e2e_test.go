package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// markedProcs lists the processes other than self whose environment holds
// mark: everything the app started, even a daemon that left its process
// group and was re-parented (dbus-launch's dbus-daemon).
func markedProcs(t *testing.T, mark string, self int) map[int]string {
	t.Helper()
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !strings.Contains("\x00"+string(env)+"\x00", "\x00"+mark+"\x00") {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out[pid] = strings.ReplaceAll(string(cmdline), "\x00", " ") + "\x00" + string(env)
	}
	return out
}

// Defect 4: with no session bus the app never autolaunches one (godbus
// would run dbus-launch), says notifications are off, and no process it
// started holds the API key in its environment.
func TestE2ENoSessionBusNoDaemonsNoKeyInChildren(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", false)
	mark := fmt.Sprintf("UVT_E2E_MARK=%d-%d", os.Getpid(), time.Now().UnixNano())
	d.env = append(withoutEnv(d.env, "DBUS_SESSION_BUS_ADDRESS"), mark, "XDG_RUNTIME_DIR="+t.TempDir())
	a := d.start(t, bin)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(a.out.String(), "ultravox-tray running") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the tray and the notifications connect after the start
	check := func(when string) {
		for pid, s := range markedProcs(t, mark, a.cmd.Process.Pid) {
			cmdline, env, _ := strings.Cut(s, "\x00")
			if strings.Contains(cmdline, "dbus-launch") || strings.Contains(cmdline, "dbus-daemon") {
				t.Errorf("%s: the app started a session bus: %d %s", when, pid, cmdline)
			}
			if strings.Contains(env, "ULTRAVOX_API_KEY=") {
				t.Errorf("%s: process %d (%s) holds ULTRAVOX_API_KEY", when, pid, cmdline)
			}
		}
	}
	check("running")
	if !strings.Contains(a.out.String(), "notifications are off") {
		t.Errorf("the app does not say notifications are off:\n%s", a.out.String())
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
	check("after exit")
	for pid := range markedProcs(t, mark, a.cmd.Process.Pid) {
		syscall.Kill(pid, syscall.SIGKILL) // what the old build left behind
	}
}
