//go:build linux

package desktoptest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// gone reports whether no process with this pid runs any more (a zombie
// nobody reaps counts as gone: PID 1 in a container may not reap).
func gone(pid int) bool {
	if syscall.Kill(pid, 0) == syscall.ESRCH {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestSessionBusAnswersAndIsGoneAfterCleanup(t *testing.T) {
	var pid int
	var sock string
	t.Run("bus", func(t *testing.T) {
		b := SessionBus(t)
		pid = b.Pid()
		if !strings.HasPrefix(b.Address, "unix:path=") {
			t.Fatalf("address %q is not a unix socket", b.Address)
		}
		sock = strings.TrimPrefix(strings.SplitN(b.Address, ",", 2)[0], "unix:path=")
		c := b.Conn(t)
		var names []string
		if err := c.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
			t.Fatalf("ListNames: %v", err)
		}
		// Nothing is activatable: no standard service directories.
		var act []string
		if err := c.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&act); err != nil {
			t.Fatalf("ListActivatableNames: %v", err)
		}
		for _, n := range act {
			if n != "org.freedesktop.DBus" {
				t.Errorf("private session bus activates %s", n)
			}
		}
		// A second connection sees a name the first one owns.
		reply, err := c.RequestName("com.example.UVTTest", dbus.NameFlagDoNotQueue)
		if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("RequestName: %v %v", reply, err)
		}
		WaitName(t, b.Conn(t), "com.example.UVTTest", 5*time.Second)
	})
	if !gone(pid) {
		t.Errorf("dbus-daemon %d still running after cleanup", pid)
	}
	if _, err := exec.Command("test", "-e", sock).CombinedOutput(); err == nil {
		t.Errorf("socket %s left behind", sock)
	}
}

func TestSystemBusIsSystemTypedAndAllowsOwning(t *testing.T) {
	var pid int
	t.Run("bus", func(t *testing.T) {
		b := SystemBus(t)
		pid = b.Pid()
		if !strings.HasPrefix(b.Env(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path=") {
			t.Fatalf("Env() = %q", b.Env())
		}
		c := b.Conn(t)
		reply, err := c.RequestName("org.freedesktop.login1", dbus.NameFlagDoNotQueue)
		if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("RequestName(org.freedesktop.login1): %v %v", reply, err)
		}
		WaitName(t, b.Conn(t), "org.freedesktop.login1", 5*time.Second)
	})
	if !gone(pid) {
		t.Errorf("dbus-daemon %d still running after cleanup", pid)
	}
}

func TestBusStopClosesConnections(t *testing.T) {
	b := SessionBus(t)
	c := b.Conn(t)
	b.Stop()
	if b.Running() {
		t.Fatal("bus still running after Stop")
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Connected() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if c.Connected() {
		t.Fatal("connection still open after the bus stopped")
	}
}

func TestNeedSkipsOrFails(t *testing.T) {
	// Run Need in a subtest-like fake to see its decision without ending
	// this test: a missing binary must skip normally and fail under CI.
	for _, tc := range []struct {
		ci, req string
		fail    bool
	}{{"", "", false}, {"true", "", true}, {"", "1", true}} {
		t.Setenv("CI", tc.ci)
		t.Setenv("UVT_REQUIRE_DESKTOP", tc.req)
		ft := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Need(ft, "sh", "uvt-no-such-binary-xyz")
		}()
		<-done
		if tc.fail && (!ft.failed || ft.skipped) {
			t.Errorf("CI=%q UVT_REQUIRE_DESKTOP=%q: want a failure, got failed=%v skipped=%v", tc.ci, tc.req, ft.failed, ft.skipped)
		}
		if !tc.fail && (!ft.skipped || ft.failed) {
			t.Errorf("no CI: want a skip, got failed=%v skipped=%v", ft.failed, ft.skipped)
		}
		if !strings.Contains(ft.msg, "uvt-no-such-binary-xyz") || strings.Contains(ft.msg, "sh,") {
			t.Errorf("message %q should name only the missing binary", ft.msg)
		}
	}
	ft := &fakeTB{TB: t}
	Need(ft, "sh")
	if ft.failed || ft.skipped {
		t.Error("Need failed or skipped for a binary that exists")
	}
}

// fakeTB records Fatal/Skip instead of ending the real test. Its Fatalf and
// Skip end the calling goroutine like the real ones do.
type fakeTB struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = true
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func TestSessionBusWithServicesActivatesAndCleansUp(t *testing.T) {
	Need(t, "gnome-keyring-daemon", "env")
	var pid int
	t.Run("bus", func(t *testing.T) {
		home := t.TempDir()
		svc := t.TempDir()
		// The activated daemon inherits the bus's environment: give it its
		// own HOME so it never touches the real one.
		cmdline := "/usr/bin/env HOME=" + home + " XDG_DATA_HOME=" + home + " XDG_RUNTIME_DIR=" + home +
			" gnome-keyring-daemon --start --foreground --components=secrets"
		file := "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=" + cmdline + "\n"
		if err := os.WriteFile(svc+"/org.freedesktop.secrets.service", []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		b := SessionBusWithServices(t, svc)
		c := b.Conn(t)
		var act []string
		if err := c.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&act); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(act, " "), "org.freedesktop.secrets") {
			t.Fatalf("activatable names %v lack org.freedesktop.secrets", act)
		}
		var r uint32
		if err := c.BusObject().Call("org.freedesktop.DBus.StartServiceByName", 0, "org.freedesktop.secrets", uint32(0)).Store(&r); err != nil {
			t.Fatalf("StartServiceByName: %v", err)
		}
		WaitName(t, c, "org.freedesktop.secrets", 10*time.Second)
		var upid uint32
		if err := c.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, "org.freedesktop.secrets").Store(&upid); err != nil {
			t.Fatal(err)
		}
		pid = int(upid)
	})
	deadline := time.Now().Add(5 * time.Second)
	for !gone(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pid == 0 || !gone(pid) {
		t.Errorf("activated gnome-keyring-daemon %d still running after the bus stopped", pid)
	}
}

func TestOrphanDirsOfDeadTestProcessesAreRemoved(t *testing.T) {
	tmp := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	orphan := fmt.Sprintf("%s/uvt-pulse-%d-123", tmp, dead.Process.Pid)
	mine := fmt.Sprintf("%s/uvt-pulse-%d-456", tmp, os.Getpid())
	other := tmp + "/uvt-something-else"
	for _, d := range []string{orphan + "/pulse", mine, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	removeOrphansIn(tmp)
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan dir of dead pid %d not removed", dead.Process.Pid)
	}
	for _, d := range []string{mine, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
