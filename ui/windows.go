package ui

import (
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// single keeps at most one open window of a kind. W is what the code keeps
// of the window to update it later.
type single[W any] struct {
	mu  sync.Mutex // guards cur
	cur *held[W]
}

type held[W any] struct {
	key string
	win fyne.Window
	w   W
}

// show focuses the open window when it shows key and reuse is set;
// otherwise it closes the open one and shows the window that build makes.
// onClosed (may be nil) runs when that window closes. Main goroutine only.
func (s *single[W]) show(key string, reuse bool, build func() (fyne.Window, W, func())) {
	s.mu.Lock()
	old := s.cur
	s.mu.Unlock()
	if old != nil {
		if reuse && old.key == key {
			old.win.RequestFocus()
			return
		}
		old.win.Close()
	}
	win, w, onClosed := build()
	h := &held[W]{key: key, win: win, w: w}
	win.SetOnClosed(func() {
		if onClosed != nil {
			onClosed()
		}
		s.mu.Lock()
		if s.cur == h {
			s.cur = nil
		}
		s.mu.Unlock()
	})
	s.mu.Lock()
	s.cur = h
	s.mu.Unlock()
	win.Show()
}

// get is the open window, if any; safe from any goroutine.
func (s *single[W]) get() (w W, win fyne.Window, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return w, nil, false
	}
	return s.cur.w, s.cur.win, true
}

// windows are the app's windows, one of each kind.
type windows struct {
	t *Tray

	call     single[*callWindow]
	settings single[*settingsWindow]
	recent   single[struct{}]
	notice   single[struct{}]
	noTray   single[*widget.Label]
	review   single[*reviewWindow]
	history  single[*historyWindow]
	usage    single[*usageWindow]
	template single[*templateWindow] // template_form.go
}

// openRecent opens a finished call: its review when the manager can fetch
// one, else the local details.
func (w *windows) openRecent(callID string) {
	if w.t.cfg.Review != nil {
		w.showReview(callID)
		return
	}
	w.showRecent(callID)
}

func newWindows(t *Tray) *windows { return &windows{t: t} }

// refresh updates open windows from a snapshot; called off the main thread.
func (w *windows) refresh(snap calls.Snapshot, now time.Time) {
	if cw, _, ok := w.call.get(); ok {
		doUI(func() { cw.update(snap, now) })
	}
	if rw, _, ok := w.review.get(); ok {
		doUI(rw.refresh)
	}
	if hw, _, ok := w.history.get(); ok {
		doUI(hw.refresh)
	}
}

// closeButton is the row of buttons most windows end with.
func closeButton(close func()) fyne.CanvasObject {
	return container.NewHBox(widget.NewButton(model.LabelClose, close))
}
