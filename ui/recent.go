package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// showRecent opens the details of one finished call. Main goroutine only.
func (w *windows) showRecent(callID string) {
	d, ok := model.Recent(w.t.cfg.Manager.Snapshot(), callID, w.t.cfg.Location)
	if !ok {
		w.showNotice(model.GoneFromHistory)
		return
	}
	w.recent.show(callID, true, func() (fyne.Window, struct{}, func()) {
		win := w.t.cfg.App.NewWindow(d.Title)
		win.SetContent(recentDetails(d, win.Close))
		win.Resize(fyne.NewSize(420, 260))
		win.CenterOnScreen()
		return win, struct{}{}, nil
	})
}

// recentDetails draws d as a form of labels above a Close button.
func recentDetails(d model.RecentDetails, close func()) fyne.CanvasObject {
	form := widget.NewForm()
	for _, r := range d.Rows {
		l := widget.NewLabel(r.Value)
		l.Selectable = r.Selectable
		form.Append(r.Label, l)
	}
	return container.NewBorder(nil, closeButton(close), nil, nil, form)
}
