package ui

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// Reviewer is what the review, history and usage windows and the text-call
// menu need from the call manager (*calls.Manager). Config.Review may be
// nil: "Recent calls" then opens the plain details window.
type Reviewer interface {
	Review(ctx context.Context, callID string) (calls.Review, error)
	Continue(ctx context.Context, priorCallID string) (calls.CallView, error)
	StartText(ctx context.Context, agentID string) (calls.CallView, error)
	Recording(ctx context.Context, callID string, w io.Writer) (int64, error)
	PlayRecording(ctx context.Context, callID string, finished func(error)) (stop func(), err error)
	Usage(ctx context.Context, days int) (calls.Usage, error)
}

// reviewTimeout bounds fetching a call and its transcript.
const reviewTimeout = 30 * time.Second

// reviewWindow shows one finished call from the service's records.
type reviewWindow struct {
	w      *windows
	win    fyne.Window
	callID string
	h      calls.HistoryEntry

	mu     sync.Mutex
	review *calls.Review // nil until loaded
	err    error
	stop   func() // stops the playing recording; nil when none plays

	play, save, cont *widget.Button
}

// showReview opens the review of the finished call callID. Main goroutine
// only.
func (w *windows) showReview(callID string) {
	rv := w.t.cfg.Review
	h, ok := w.t.cfg.Manager.Snapshot().Finished(callID)
	if !ok {
		w.showNotice(model.GoneFromHistory)
		return
	}
	w.review.show(callID, true, func() (fyne.Window, *reviewWindow, func()) {
		r := &reviewWindow{w: w, callID: callID, h: h}
		r.win = w.t.cfg.App.NewWindow(model.ReviewLoading(h, w.t.cfg.Location).Title)
		r.win.Resize(fyne.NewSize(600, 680))
		r.win.CenterOnScreen()
		r.draw()
		go r.load(rv)
		return r.win, r, r.stopPlaying
	})
}

func (r *reviewWindow) load(rv Reviewer) {
	ctx, cancel := context.WithTimeout(context.Background(), reviewTimeout)
	defer cancel()
	rev, err := rv.Review(ctx, r.callID)
	r.mu.Lock()
	if err == nil {
		r.review = &rev
	}
	r.err = err
	r.mu.Unlock()
	doUI(r.draw)
}

// view is the window's model now: loading, failed, or the call with the
// current snapshot deciding Continue.
func (r *reviewWindow) view() model.ReviewView {
	r.mu.Lock()
	defer r.mu.Unlock()
	loc := r.w.t.cfg.Location
	switch {
	case r.review != nil:
		return model.Review(*r.review, r.w.t.cfg.Manager.Snapshot(), loc, time.Now())
	case r.err != nil:
		return model.ReviewFailed(r.h, loc, r.err)
	}
	return model.ReviewLoading(r.h, loc)
}

// draw lays the window out from its model. Main goroutine only.
func (r *reviewWindow) draw() {
	v := r.view()
	r.win.SetTitle(v.Title)
	form := widget.NewForm()
	for _, row := range v.Rows {
		l := widget.NewLabel(row.Value)
		l.Selectable = row.Selectable
		form.Append(row.Label, l)
	}
	top := container.NewVBox(form)
	if v.Status != "" {
		top.Add(wrapped(v.Status, widget.WarningImportance))
	}
	if v.ShortSummary != "" {
		s := wrapped(v.ShortSummary, widget.MediumImportance)
		s.TextStyle.Bold = true
		top.Add(s)
	}
	if v.Summary != "" {
		top.Add(wrapped(v.Summary, widget.MediumImportance))
	}
	if v.WhyEnded != "" {
		top.Add(wrapped(v.WhyEnded, widget.WarningImportance))
	}
	lines := container.NewVBox()
	for _, l := range v.Lines {
		who := widget.NewLabel(l.Who + ":")
		who.TextStyle.Bold = true
		if l.Speaker == model.SpeakerTool {
			who.TextStyle = fyne.TextStyle{Italic: true}
		}
		lines.Add(container.NewBorder(nil, nil, who, nil, wrapped(l.Text, widget.MediumImportance)))
	}
	if v.Empty != "" {
		lines.Add(widget.NewLabel(v.Empty))
	}
	r.mu.Lock()
	r.play = widget.NewButton(model.PlayLabel(r.stop != nil), r.togglePlay)
	r.mu.Unlock()
	r.save = widget.NewButton(model.LabelSaveRecording, r.saveRecording)
	if !v.HasRecording {
		r.play.Disable()
		r.save.Disable()
	}
	rec := container.NewBorder(nil, nil, container.NewHBox(r.play, r.save), nil, wrapped(v.RecordingNote, widget.LowImportance))
	r.cont = widget.NewButton(model.LabelContinue, r.continueCall)
	r.cont.Importance = widget.HighImportance
	if !v.ContinueEnabled {
		r.cont.Disable()
	}
	closeBtn := widget.NewButton(model.LabelClose, r.win.Close)
	bottom := container.NewVBox(widget.NewSeparator(), rec,
		container.NewBorder(nil, nil, r.cont, closeBtn, wrapped(v.ContinueNote, widget.LowImportance)))
	r.win.SetContent(container.NewBorder(top, bottom, nil, nil, container.NewVScroll(lines)))
	if tracing() {
		play, save, cont := r.play, r.save, r.cont
		go func() {
			// Positions are known once the content is laid out.
			time.Sleep(300 * time.Millisecond)
			doUI(func() { trace("review", r.win, v, play, save, cont, closeBtn) })
		}()
	}
}

// refresh redraws when the snapshot may change whether Continue is
// possible. Main goroutine only.
func (r *reviewWindow) refresh() {
	v := r.view()
	if r.cont != nil && r.cont.Disabled() == v.ContinueEnabled {
		r.draw()
	}
}

func (r *reviewWindow) continueCall() {
	rv := r.w.t.cfg.Review
	r.cont.Disable()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		v, err := rv.Continue(ctx, r.callID)
		if err != nil {
			r.w.errorNotice(model.LabelContinue, err)
			doUI(r.draw)
			return
		}
		doUI(func() { r.w.showCall(v.ID) })
	}()
}

func (r *reviewWindow) togglePlay() {
	r.mu.Lock()
	stop := r.stop
	r.mu.Unlock()
	if stop != nil {
		r.stopPlaying()
		r.draw()
		return
	}
	rv := r.w.t.cfg.Review
	r.play.Disable()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var once sync.Once
		var ended bool // guarded by r.mu: playback finished before stop was kept
		stop, err := rv.PlayRecording(ctx, r.callID, func(err error) {
			once.Do(func() {
				r.mu.Lock()
				r.stop = nil
				ended = true
				r.mu.Unlock()
				if err != nil {
					r.w.errorNotice(model.LabelPlayRecording, err)
				}
				doUI(r.draw)
			})
		})
		if err != nil {
			r.w.errorNotice(model.LabelPlayRecording, err)
			doUI(r.draw)
			return
		}
		r.mu.Lock()
		if !ended {
			r.stop = stop
		}
		r.mu.Unlock()
		doUI(r.draw)
	}()
}

// stopPlaying stops the recording if one plays (also when the window
// closes).
func (r *reviewWindow) stopPlaying() {
	r.mu.Lock()
	stop := r.stop
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (r *reviewWindow) saveRecording() {
	rv := r.w.t.cfg.Review
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			if err != nil {
				r.w.errorNotice(model.LabelSaveRecording, err)
			}
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			n, err := rv.Recording(ctx, r.callID, wc)
			if cerr := wc.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				r.w.errorNotice(model.LabelSaveRecording, err)
				return
			}
			doUI(func() {
				r.w.showNotice(model.Notice{Title: "Recording saved", Text: fmt.Sprintf("Saved %s (%.1f MB).", wc.URI().Path(), float64(n)/(1<<20))})
			})
		}()
	}, r.win)
	d.SetFileName("call-" + r.callID + ".wav")
	d.Show()
}

// wrapped is a word-wrapped label.
func wrapped(text string, imp widget.Importance) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	return l
}
