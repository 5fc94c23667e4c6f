package main

import (
	"os"
	"os/exec"
)

// restartSelf starts exe with args as a new process and returns; the caller
// then exits (Windows has no exec). The lock is released before, so the new
// instance can take it while this one finishes.
func restartSelf(exe string, args []string) error {
	cmd := exec.Command(exe, args...)
	cmd.Env = os.Environ()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
