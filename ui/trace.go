package ui

import (
	"encoding/json"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// EnvTrace names a file to which the review, history and usage windows
// append what they show, one JSON object a line: the same plain data from
// ui/model they draw, plus where their buttons are on the screen. Tests of
// the real binary read it (there is no other way to see inside a window
// from outside); it holds no key, only what the window shows.
const EnvTrace = "UVT_UI_TRACE"

var traceMu sync.Mutex

// tracing reports whether $UVT_UI_TRACE is set.
func tracing() bool { return os.Getenv(EnvTrace) != "" }

// tracedButton is a button of a traced window: its label, whether it is
// enabled, and its centre in pixels from the window's top left.
type tracedButton struct {
	Label   string `json:"label"`
	Enabled bool   `json:"enabled"`
	X       int    `json:"x"`
	Y       int    `json:"y"`
}

// trace appends {window, title, view, buttons} to $UVT_UI_TRACE when set.
// Main goroutine only (it reads widget positions).
func trace(kind string, win fyne.Window, view any, buttons ...*widget.Button) {
	path := os.Getenv(EnvTrace)
	if path == "" {
		return
	}
	rec := struct {
		Time    time.Time      `json:"time"`
		Window  string         `json:"window"`
		Title   string         `json:"title"`
		View    any            `json:"view"`
		Buttons []tracedButton `json:"buttons"`
	}{Time: time.Now(), Window: kind, Title: win.Title(), View: view}
	scale := win.Canvas().Scale()
	drv := fyne.CurrentApp().Driver()
	for _, b := range buttons {
		if b == nil || !b.Visible() {
			continue
		}
		pos := drv.AbsolutePositionForObject(b)
		sz := b.Size()
		rec.Buttons = append(rec.Buttons, tracedButton{Label: b.Text, Enabled: !b.Disabled(),
			X: int((pos.X + sz.Width/2) * scale), Y: int((pos.Y + sz.Height/2) * scale)})
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return
	}
	traceMu.Lock()
	defer traceMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	f.Write(append(data, '\n'))
	f.Close()
}
