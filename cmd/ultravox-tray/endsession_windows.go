package main

import (
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/ultravox-tray/ultravox-tray/app/power"
	"github.com/ultravox-tray/ultravox-tray/ui"
)

// endOfSessionQuit is how long after the guard let WM_QUERYENDSESSION go the
// app quits by itself. By then Windows has sent WM_ENDSESSION (it does so as
// soon as every app answered) and usually ended the process; Wine's
// `wineboot --end-session` does not, and a cancelled shutdown sends DidWake
// first, which keeps the app running.
const endOfSessionQuit = 3 * time.Second

// sessionSource passes the power events on to the guard and, on Windows,
// follows the end of the session: from WillShutdown on the tray is frozen
// (see ui.FreezeTray), and once the guard has acknowledged it (the calls are
// ended) the app quits, unless DidWake (a cancelled shutdown) comes first.
type sessionSource struct {
	power.Source
	out chan power.Event

	mu   sync.Mutex
	quit *time.Timer // pending quit after an acknowledged WillShutdown
}

func watchSession(src power.Source, logger *slog.Logger) power.Source {
	s := &sessionSource{Source: src, out: make(chan power.Event)}
	go s.run(logger)
	return s
}

func (s *sessionSource) Events() <-chan power.Event { return s.out }

func (s *sessionSource) run(logger *slog.Logger) {
	defer close(s.out)
	for ev := range s.Source.Events() {
		switch ev.Kind {
		case power.WillShutdown:
			ui.FreezeTray(true)
			ack := ev.Ack
			ev.Ack = func() {
				ack()
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.quit == nil {
					s.quit = time.AfterFunc(endOfSessionQuit, func() {
						logger.Info("the session ended: quitting")
						ui.FreezeTray(false)
						fyne.Do(func() { fyne.CurrentApp().Quit() })
					})
				}
			}
		case power.DidWake:
			s.mu.Lock()
			if s.quit != nil {
				s.quit.Stop()
				s.quit = nil
			}
			s.mu.Unlock()
			ui.FreezeTray(false)
		}
		s.out <- ev
	}
}
