package ui

import (
	"context"
	"image/color"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// Usage refreshes: today's bar from the manager's snapshot every second
// (it includes the live call); the days from Ultravox every usageFetch.
// Nothing runs while the window is closed.
const usageFetch = 60 * time.Second

type usageWindow struct {
	w    *windows
	win  fyne.Window
	stop chan struct{}

	mu       sync.Mutex
	usage    calls.Usage
	err      error
	selected string

	chart   *usageChart
	month   *widget.Label
	status  *widget.Label
	detail  *widget.Label
	scale   *widget.Label
	budget  *widget.Label
	lastSig string
}

// showUsage opens the usage window. Main goroutine only.
func (w *windows) showUsage() {
	w.usage.show("", true, func() (fyne.Window, *usageWindow, func()) {
		u := &usageWindow{w: w, stop: make(chan struct{})}
		u.win = w.t.cfg.App.NewWindow(model.UsageTitle)
		u.chart = newUsageChart(u.choose)
		u.month = widget.NewLabel("")
		u.month.TextStyle.Bold = true
		u.status = wrapped("", widget.LowImportance)
		u.detail = widget.NewLabel("")
		u.scale = widget.NewLabel("")
		u.budget = widget.NewLabel("")
		u.budget.Importance = widget.DangerImportance
		top := container.NewVBox(u.month, container.NewHBox(u.scale, u.budget))
		bottom := container.NewVBox(u.detail, u.status, closeButton(u.win.Close))
		u.win.SetContent(container.NewBorder(top, bottom, nil, nil, u.chart))
		u.win.Resize(fyne.NewSize(640, 420))
		u.win.CenterOnScreen()
		u.redraw()
		go u.run(w.t.cfg.Review)
		return u.win, u, func() { close(u.stop) }
	})
}

// run fetches the usage now and every usageFetch, and redraws each second,
// until the window closes.
func (u *usageWindow) run(rv Reviewer) {
	fetch := func() {
		ctx, cancel := context.WithTimeout(context.Background(), reviewTimeout)
		defer cancel()
		us, err := rv.Usage(ctx, calls.UsageDays)
		u.mu.Lock()
		if err == nil {
			u.usage = us
		}
		u.err = err
		u.mu.Unlock()
	}
	fetch()
	doUI(u.redraw)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-u.stop:
			return
		case now := <-tick.C:
			if now.Sub(last) >= usageFetch {
				last = now
				fetch()
			}
			doUI(u.redraw)
		}
	}
}

func (u *usageWindow) choose(date string) {
	u.mu.Lock()
	u.selected = date
	u.mu.Unlock()
	u.redraw()
}

// redraw updates the window from its model. Main goroutine only.
func (u *usageWindow) redraw() {
	u.mu.Lock()
	v := model.Usage(u.usage, u.w.t.cfg.Manager.Snapshot(), time.Now(), u.err, u.selected)
	fetched := u.usage.Fetched
	u.mu.Unlock()
	u.month.SetText(v.Month)
	u.status.SetText(v.Status)
	u.detail.SetText(v.Selected)
	u.scale.SetText(v.ScaleLabel)
	u.budget.SetText(v.BudgetLabel)
	u.chart.set(v)
	// Trace each new fetch once (and the first drawing), not every tick.
	if sig := fetched.String() + v.Selected; sig != u.lastSig && !fetched.IsZero() {
		u.lastSig = sig
		trace("usage", u.win, v)
	}
}

// usageChart draws the bars, their day numbers, and the budget line.
type usageChart struct {
	widget.BaseWidget
	choose func(date string)

	v      model.UsageView
	bars   []*usageBar
	labels []*canvas.Text
	line   *canvas.Rectangle
	box    *fyne.Container
}

func newUsageChart(choose func(string)) *usageChart {
	c := &usageChart{choose: choose}
	c.line = canvas.NewRectangle(theme.Color(theme.ColorNameError))
	c.box = container.NewWithoutLayout(c.line)
	c.ExtendBaseWidget(c)
	return c
}

func (c *usageChart) CreateRenderer() fyne.WidgetRenderer {
	return &chartRenderer{c: c}
}

func (c *usageChart) set(v model.UsageView) {
	c.v = v
	for len(c.bars) < len(v.Bars) {
		b := newUsageBar(c.choose)
		t := canvas.NewText("", theme.Color(theme.ColorNameForeground))
		t.TextSize = theme.CaptionTextSize()
		t.Alignment = fyne.TextAlignCenter
		c.bars = append(c.bars, b)
		c.labels = append(c.labels, t)
		c.box.Objects = append([]fyne.CanvasObject{b, t}, c.box.Objects...)
	}
	for i, b := range c.bars {
		if i < len(v.Bars) {
			b.bar = v.Bars[i]
			c.labels[i].Text = ""
			if i%5 == 4 || v.Bars[i].Today {
				c.labels[i].Text = v.Bars[i].Label
			}
		}
	}
	c.Refresh()
}

type chartRenderer struct{ c *usageChart }

func (r *chartRenderer) Layout(size fyne.Size) {
	c := r.c
	n := len(c.v.Bars)
	label := float32(18)
	h := size.Height - label
	if n > 0 {
		w := size.Width / float32(n)
		for i, b := range c.bars {
			if i >= n {
				b.Hide()
				c.labels[i].Hide()
				continue
			}
			b.Show()
			b.Move(fyne.NewPos(float32(i)*w, 0))
			b.Resize(fyne.NewSize(w, h))
			c.labels[i].Show()
			c.labels[i].Move(fyne.NewPos(float32(i)*w, h+2))
			c.labels[i].Resize(fyne.NewSize(w, label-2))
		}
	}
	if c.v.Budget > 0 {
		c.line.Show()
		c.line.Move(fyne.NewPos(0, h*(1-float32(min(c.v.Budget, 1)))-1))
		c.line.Resize(fyne.NewSize(size.Width, 2))
	} else {
		c.line.Hide()
	}
	c.box.Resize(size)
}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(300, 160) }

func (r *chartRenderer) Refresh() {
	r.Layout(r.c.Size())
	for _, b := range r.c.bars {
		b.Refresh()
	}
	for _, l := range r.c.labels {
		l.Refresh()
	}
	r.c.line.Refresh()
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.c.box} }
func (r *chartRenderer) Destroy()                     {}

// usageBar is one day: a bar from the bottom, tappable and hoverable.
type usageBar struct {
	widget.BaseWidget
	bar    model.UsageBar
	choose func(string)
	rect   *canvas.Rectangle
	hover  bool
}

var _ desktop.Hoverable = (*usageBar)(nil)

func newUsageBar(choose func(string)) *usageBar {
	b := &usageBar{choose: choose, rect: canvas.NewRectangle(color.Transparent)}
	b.ExtendBaseWidget(b)
	return b
}

func (b *usageBar) CreateRenderer() fyne.WidgetRenderer {
	return &barRenderer{b: b, bg: canvas.NewRectangle(color.Transparent)}
}

func (b *usageBar) Tapped(*fyne.PointEvent)     { b.choose(b.bar.Date) }
func (b *usageBar) MouseIn(*desktop.MouseEvent) { b.hover = true; b.choose(b.bar.Date); b.Refresh() }
func (b *usageBar) MouseMoved(*desktop.MouseEvent) {
}
func (b *usageBar) MouseOut() { b.hover = false; b.Refresh() }

type barRenderer struct {
	b  *usageBar
	bg *canvas.Rectangle
}

func (r *barRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	gap := max(size.Width*0.15, 1)
	h := size.Height * float32(r.b.bar.Height)
	if r.b.bar.Minutes > 0 {
		h = max(h, 2)
	}
	r.b.rect.Move(fyne.NewPos(gap/2, size.Height-h))
	r.b.rect.Resize(fyne.NewSize(size.Width-gap, h))
}

func (r *barRenderer) MinSize() fyne.Size { return fyne.NewSize(4, 10) }

func (r *barRenderer) Refresh() {
	switch {
	case r.b.bar.OverBudget:
		r.b.rect.FillColor = theme.Color(theme.ColorNameError)
	case r.b.bar.Today:
		r.b.rect.FillColor = theme.Color(theme.ColorNameSuccess)
	default:
		r.b.rect.FillColor = theme.Color(theme.ColorNamePrimary)
	}
	r.bg.FillColor = color.Transparent
	if r.b.hover {
		r.bg.FillColor = theme.Color(theme.ColorNameHover)
	}
	r.Layout(r.b.Size())
	r.bg.Refresh()
	r.b.rect.Refresh()
}

func (r *barRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.b.rect} }
func (r *barRenderer) Destroy()                     {}
