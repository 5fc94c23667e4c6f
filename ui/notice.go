package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// errorNotice tells the user an action failed, in a small window; safe from
// any goroutine. Once the app is quitting it opens nothing (the caller has
// logged the failure): a window opened after Fyne's loop ended panics
// ("GLFW library is not initialized"), and one opened during the quit would
// close at once.
func (w *windows) errorNotice(what string, err error) {
	if w.t.down.Load() {
		return
	}
	doUI(func() {
		if !w.t.down.Load() {
			w.showNotice(model.Failed(what, err))
		}
	})
}

// showNotice shows n in place of the notice open before. Main goroutine only.
func (w *windows) showNotice(n model.Notice) {
	w.notice.show("", false, func() (fyne.Window, struct{}, func()) {
		win := w.t.cfg.App.NewWindow(n.Title)
		lbl := widget.NewLabel(n.Text)
		lbl.Wrapping = fyne.TextWrapWord
		win.SetContent(container.NewBorder(nil, closeButton(win.Close), nil, nil, lbl))
		win.Resize(fyne.NewSize(420, 140))
		win.CenterOnScreen()
		return win, struct{}{}, nil
	})
}
