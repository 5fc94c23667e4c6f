package main

import (
	"errors"
	"fmt"
	"sync"
)

// restart switches between demo mode and the account's key by starting the
// program again: request quits the event loop, and run then calls exec.
type restart struct {
	args []string // the command line this process started with
	quit func()   // ends the event loop

	mu   sync.Mutex
	next []string // guarded by mu: the command line to start with; nil for none
}

// enterDemo restarts in demo mode (menu "Try demo mode").
func (r *restart) enterDemo() { r.request(withDemoFlag(r.args, true)) }

// leaveDemo restarts with the key just set in Settings.
func (r *restart) leaveDemo() { r.request(withDemoFlag(r.args, false)) }

func (r *restart) request(args []string) {
	r.mu.Lock()
	r.next = args
	r.mu.Unlock()
	r.quit()
}

// pending is the command line to start again with, or nil.
func (r *restart) pending() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// exec runs release (what the new process needs free: the lock, the
// notifications, the simulator's port) and replaces this process with exe
// and args (on Windows, which has no exec, it starts exe and returns nil:
// the caller then exits).
func (r *restart) exec(exe string, args []string, release ...func()) error {
	for _, f := range release {
		f()
	}
	if exe == "" {
		return errors.New("cannot restart: the program's path is unknown; start it again by hand")
	}
	if err := restartSelf(exe, args); err != nil {
		return fmt.Errorf("cannot restart %s: %v", exe, err)
	}
	return nil
}

// withDemoFlag returns the command line args with --demo added (on) or
// removed, for the restart into or out of demo mode. It never returns nil:
// nil means no restart.
func withDemoFlag(args []string, on bool) []string {
	out := []string{}
	for _, a := range args {
		if a != "--demo" && a != "-demo" && a != "--demo=true" && a != "-demo=true" {
			out = append(out, a)
		}
	}
	if on {
		out = append(out, "--demo")
	}
	return out
}
