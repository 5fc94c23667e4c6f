//go:build linux

package powertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// The child side of TestInhibitFromAnotherProcess: take a lock, say so,
// close it when told, then exit when stdin closes.
func TestMain(m *testing.M) {
	if addr := os.Getenv("POWERTEST_CHILD_BUS"); addr != "" {
		os.Exit(child(addr))
	}
	os.Exit(m.Run())
}

func child(addr string) int {
	conn, err := dbus.Connect(addr)
	if err != nil {
		fmt.Println("connect:", err)
		return 1
	}
	defer conn.Close()
	var fd dbus.UnixFD
	if err := conn.Object(logindName, logindPath).Call(managerIface+".Inhibit", 0, "sleep", "child", "test", "delay").Store(&fd); err != nil {
		fmt.Println("inhibit:", err)
		return 1
	}
	fmt.Println("held")
	in := bufio.NewScanner(os.Stdin)
	in.Scan()
	syscall.Close(int(fd))
	fmt.Println("closed")
	for in.Scan() {
	}
	return 0
}

// The real binary runs in its own process: the fake must see its lock, its
// PID, and its release, across processes.
func TestInhibitFromAnotherProcess(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	l := StartLogind(t, bus, LogindOptions{})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "POWERTEST_CHILD_BUS="+bus.Address)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	out := bufio.NewScanner(stdout)
	if !out.Scan() || out.Text() != "held" {
		t.Fatalf("child: %q", out.Text())
	}
	l.WaitHeld(1, 5*time.Second)
	lock := l.Inhibitors()[0]
	if lock.PID != uint32(cmd.Process.Pid) || lock.What != "sleep" || lock.Who != "child" || lock.Mode != "delay" {
		t.Fatalf("lock %+v, child pid %d", lock, cmd.Process.Pid)
	}
	// Still held while the child keeps it (the fake's own copy is closed).
	time.Sleep(50 * time.Millisecond)
	if l.Held() != 1 {
		t.Fatal("the lock went away while the child holds it")
	}
	fmt.Fprintln(stdin)
	if !out.Scan() || out.Text() != "closed" {
		t.Fatalf("child: %q", out.Text())
	}
	released := l.WaitReleased(5 * time.Second)
	if released.Before(lock.Taken) {
		t.Fatalf("released %s before taken %s", released, lock.Taken)
	}
}

func TestRefuseAndSessionLookups(t *testing.T) {
	bus := desktoptest.SystemBus(t)
	l := StartLogind(t, bus, LogindOptions{SessionID: "9", InhibitDelayMax: 1234 * time.Millisecond})
	conn := bus.Conn(t)
	mgr := conn.Object(logindName, logindPath)

	var p dbus.ObjectPath
	if err := mgr.Call(managerIface+".GetSession", 0, "9").Store(&p); err != nil || p != l.SessionPath() {
		t.Fatalf("GetSession(9) = %q, %v", p, err)
	}
	if err := mgr.Call(managerIface+".GetSession", 0, "nope").Store(&p); err == nil {
		t.Fatal("GetSession of an unknown id succeeded")
	}
	var v dbus.Variant
	if err := mgr.Call("org.freedesktop.DBus.Properties.Get", 0, managerIface, "InhibitDelayMaxUSec").Store(&v); err != nil || v.Value() != uint64(1234000) {
		t.Fatalf("InhibitDelayMaxUSec = %v, %v", v, err)
	}

	l.Refuse(true)
	var fd dbus.UnixFD
	err := mgr.Call(managerIface+".Inhibit", 0, "sleep", "t", "t", "delay").Store(&fd)
	if dbe, ok := err.(dbus.Error); !ok || dbe.Name != accessDenied {
		t.Fatalf("refused Inhibit: %v (%T)", err, err)
	}
	l.Refuse(false)
	if err := mgr.Call(managerIface+".Inhibit", 0, "sleep", "t", "t", "sideways").Store(&fd); err == nil {
		t.Fatal("Inhibit with a bad mode succeeded")
	}
	if err := mgr.Call(managerIface+".Inhibit", 0, "sleep", "t", "t", "delay").Store(&fd); err != nil {
		t.Fatal(err)
	}
	l.WaitHeld(1, 5*time.Second)
	if l.Attempts() != 3 {
		t.Fatalf("%d attempts, want 3", l.Attempts())
	}
	syscall.Close(int(fd))
	l.WaitReleased(5 * time.Second)
}
