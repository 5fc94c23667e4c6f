package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// instanceLock is the single-instance lock: an OS file lock (flock on Unix,
// LockFileEx on Windows) on a file in the state dir, held for the life of
// the process. The OS drops it when the process dies, so a crash never
// leaves a stale lock. The holder's pid is written beside it, for the
// message the next instance shows (Windows forbids reading a locked range).
type instanceLock struct {
	fl  *flock.Flock
	pid string
}

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
	pidPath := filepath.Join(dir, "ultravox-tray.pid")
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	if !ok {
		b, _ := os.ReadFile(pidPath)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return nil, &errAlreadyRunning{pid: pid, path: path}
	}
	os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	return &instanceLock{fl: fl, pid: pidPath}, nil
}

// release unlocks; the next instance (or a restart) can take it.
func (l *instanceLock) release() {
	os.Remove(l.pid)
	l.fl.Unlock()
}
