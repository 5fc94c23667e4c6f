package ui

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// historyWindow lists the last finished calls; a row opens its review.
type historyWindow struct {
	w   *windows
	win fyne.Window

	mu     sync.Mutex
	filter string
	view   model.HistoryView

	sel  *widget.Select
	list *widget.Table
	hint *widget.Label
}

// showHistory opens the call history window. Main goroutine only.
func (w *windows) showHistory() {
	w.history.show("", true, func() (fyne.Window, *historyWindow, func()) {
		h := &historyWindow{w: w, filter: model.AllAgents}
		h.win = w.t.cfg.App.NewWindow(model.HistoryTitle)
		h.sel = widget.NewSelect(nil, func(f string) {
			h.mu.Lock()
			h.filter = f
			h.mu.Unlock()
			h.refresh()
		})
		h.list = widget.NewTable(h.size, func() fyne.CanvasObject { return widget.NewLabel("Mmm 00 00:00 xxxxxx") }, h.cell)
		for i, wd := range []float32{150, 110, 60, 60, 150} {
			h.list.SetColumnWidth(i, wd)
		}
		h.list.ShowHeaderRow = true
		h.list.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
		h.list.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if id.Col >= 0 && id.Col < len(h.view.Headers) {
				l := o.(*widget.Label)
				l.SetText(h.view.Headers[id.Col])
				l.TextStyle.Bold = true
			}
		}
		h.list.OnSelected = func(id widget.TableCellID) {
			h.mu.Lock()
			var callID string
			if id.Row >= 0 && id.Row < len(h.view.Rows) {
				callID = h.view.Rows[id.Row].CallID
			}
			h.mu.Unlock()
			h.list.UnselectAll()
			if callID != "" {
				w.openRecent(callID)
			}
		}
		h.hint = wrapped("", widget.LowImportance)
		top := container.NewBorder(nil, nil, widget.NewLabel("Agent:"), nil, h.sel)
		h.win.SetContent(container.NewBorder(top, container.NewVBox(h.hint, closeButton(h.win.Close)), nil, nil, h.list))
		h.win.Resize(fyne.NewSize(580, 480))
		h.win.CenterOnScreen()
		h.refresh()
		return h.win, h, nil
	})
}

// refresh rebuilds the view from the current snapshot. Main goroutine only.
func (h *historyWindow) refresh() {
	h.mu.Lock()
	h.view = model.History(h.w.t.cfg.Manager.Snapshot(), h.filter, h.w.t.cfg.Location)
	v := h.view
	h.mu.Unlock()
	h.sel.Options = v.Filters
	if h.sel.Selected != v.Filter {
		h.sel.SetSelected(v.Filter)
		return // SetSelected calls back into refresh
	}
	h.sel.Refresh()
	h.hint.SetText(v.Hint)
	if v.Empty != "" {
		h.hint.SetText(v.Empty)
	}
	h.list.Refresh()
	trace("history", h.win, v)
}

func (h *historyWindow) size() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.view.Rows), len(h.view.Headers)
}

func (h *historyWindow) cell(id widget.TableCellID, o fyne.CanvasObject) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := o.(*widget.Label)
	if id.Row < len(h.view.Rows) && id.Col < len(h.view.Rows[id.Row].Cells) {
		l.SetText(h.view.Rows[id.Row].Cells[id.Col])
	}
}
