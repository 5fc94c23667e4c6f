package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// templateManager is the part of *calls.Manager that tells which
// {{variables}} an agent needs. Managers without it (tests' fakes) start
// calls at once.
type templateManager interface {
	AgentTemplate(ctx context.Context, agentID string) (calls.AgentTemplate, error)
}

// startCall starts a call with agentID ("" = the default agent), unless
// the agent uses template variables without a kept value: then the form
// that asks for them opens first, and it starts the call. If the variables
// cannot be read, the call is started all the same (the server's refusal
// then names a missing variable).
func (t *Tray) startCall(ctx context.Context, agentID string) error {
	if tm, ok := t.cfg.Manager.(templateManager); ok && t.cfg.Prefs.Save != nil {
		at, err := tm.AgentTemplate(ctx, agentID)
		switch {
		case err != nil:
			t.log.Warn("could not read the agent's template variables; starting the call without asking", "err", err)
		case len(at.Missing) > 0:
			doUI(func() { t.windows.showTemplateForm(at) })
			return nil
		}
	}
	_, err := t.cfg.Manager.Start(ctx, agentID)
	return err
}

// templateWindow is the open template values form.
type templateWindow struct {
	entries map[string]*widget.Entry
	first   *widget.Entry // the first entry without a value: focused
	start   *widget.Button
	status  *widget.Label
}

// showTemplateForm opens the form for at's variables. Main goroutine only.
func (w *windows) showTemplateForm(at calls.AgentTemplate) {
	f := model.TemplateFormOf(at)
	w.template.show(at.AgentID, true, func() (fyne.Window, *templateWindow, func()) {
		win := w.t.cfg.App.NewWindow(f.Title)
		intro := widget.NewLabel(f.Intro)
		intro.Wrapping = fyne.TextWrapWord
		status := widget.NewLabel("")
		status.Wrapping = fyne.TextWrapWord
		entries := map[string]*widget.Entry{}
		form := widget.NewForm()
		var first *widget.Entry
		var submit func()
		for _, fl := range f.Fields {
			e := widget.NewEntry()
			e.SetText(fl.Value)
			e.OnSubmitted = func(string) { submit() }
			entries[fl.Name] = e
			form.Append(fl.Name, e)
			if first == nil && fl.Missing {
				first = e
			}
		}
		start := widget.NewButton(model.TemplateStart, nil)
		start.Importance = widget.HighImportance
		submit = func() {
			typed := map[string]string{}
			for name, e := range entries {
				typed[name] = e.Text
			}
			vals, err := f.TemplateValues(typed)
			if err != nil {
				status.SetText(err.Error())
				return
			}
			s := w.t.cfg.Prefs.Load().WithTemplateValues(at.AgentID, vals)
			if err := w.t.cfg.Prefs.Save(s); err != nil {
				status.SetText(err.Error())
				return
			}
			win.Close()
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
				defer cancel()
				if _, err := w.t.cfg.Manager.Start(ctx, at.AgentID); err != nil {
					w.t.log.Warn("Start call failed", "err", err)
					w.errorNotice("Start call", err)
				}
			}()
		}
		start.OnTapped = submit
		buttons := container.NewHBox(start, widget.NewButton(model.TemplateCancel, win.Close))
		win.SetContent(container.NewBorder(intro, container.NewVBox(status, buttons), nil, nil, container.NewVScroll(form)))
		win.Resize(fyne.NewSize(440, float32(160+50*len(f.Fields))))
		win.CenterOnScreen()
		return win, &templateWindow{entries: entries, first: first, start: start, status: status}, nil
	})
	// Typing goes to the first empty field at once (focus needs a shown window).
	if tw, win, ok := w.template.get(); ok && tw.first != nil {
		win.Canvas().Focus(tw.first)
	}
}
