//go:build !windows

package main

import (
	"os"
	"syscall"
)

// restartSelf replaces this process with exe and args (same pid, same
// terminal). It returns only on failure.
func restartSelf(exe string, args []string) error {
	return syscall.Exec(exe, append([]string{os.Args[0]}, args...), os.Environ())
}
