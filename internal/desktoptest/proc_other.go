//go:build unix && !linux

package desktoptest

import "syscall"

// procAttr puts a daemon in its own process group so that it and its children
// are stopped together.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
