package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// instanceLock is the single-instance lock: an flock on a file in the state
// dir, held for the life of the process (the kernel drops it when the
// process dies, so a crash never leaves a stale lock).
type instanceLock struct{ f *os.File }

// errAlreadyRunning says another instance holds the lock.
type errAlreadyRunning struct {
	pid  int
	path string
}

func (e *errAlreadyRunning) Error() string {
	who := "another instance"
	if e.pid > 0 {
		who = fmt.Sprintf("another instance (pid %d)", e.pid)
	}
	return fmt.Sprintf("Ultravox Tray is already running: %s holds %s. Use its tray icon, or quit it first.", who, e.path)
}

func acquireLock(dir string) (*instanceLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, "ultravox-tray.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &errAlreadyRunning{pid: pid, path: path}
		}
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	f.Sync()
	return &instanceLock{f: f}, nil
}

// release unlocks; the next instance (or a restart) can take it.
func (l *instanceLock) release() {
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
