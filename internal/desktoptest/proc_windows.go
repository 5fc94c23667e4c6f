package desktoptest

import (
	"os"
	"syscall"
)

// The desktop parts are Linux programs; on Windows the package compiles (so
// that tests importing it build everywhere) and Need skips or fails.

func procAttr() *syscall.SysProcAttr { return nil }

func signalGroup(p *os.Process, _ syscall.Signal) error { return p.Kill() }

func groupAlive(int) bool { return false }
