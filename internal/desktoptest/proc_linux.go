package desktoptest

import "syscall"

// procAttr puts a daemon in its own process group (so that it and its
// children are stopped together) and kills it if the test binary dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
