package main

import (
	"os"
	"os/signal"
	"syscall"
)

// quitOnSignals quits the app as the menu's Quit does (ending our calls)
// on SIGHUP (the launching terminal closed) and SIGQUIT. Fyne handles
// SIGINT and SIGTERM itself; without this, SIGHUP would kill the process
// and leave a call billing until the next start. stop ends the watch.
func quitOnSignals(quit func()) (stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGQUIT)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			quit()
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
