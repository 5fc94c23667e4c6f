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
			doUI(func() { t.windows.showTemplateForm(at, true) })
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

// editTemplateValues opens the form for agentID's variables from the
// settings window: Save keeps them, no call starts.
func (w *windows) editTemplateValues(agentID string) {
	tm, ok := w.t.cfg.Manager.(templateManager)
	if !ok {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		at, err := tm.AgentTemplate(ctx, agentID)
		switch {
		case err != nil:
			w.errorNotice("Template values", err)
		case len(at.Variables) == 0:
			doUI(func() { w.showNotice(model.TemplateNone(at)) })
		default:
			doUI(func() { w.showTemplateForm(at, false) })
		}
	}()
}

// showTemplateForm opens the form for at's variables; with startCall its
// button keeps the values and starts the call, else it only keeps them.
// Main goroutine only.
func (w *windows) showTemplateForm(at calls.AgentTemplate, startCall bool) {
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
		label := model.TemplateSave
		if startCall {
			label = model.TemplateStart
		}
		start := widget.NewButton(label, nil)
		start.Importance = widget.HighImportance
		submit = func() {
			typed := map[string]string{}
			for name, e := range entries {
				typed[name] = e.Text
			}
			vals := f.EditedValues(typed)
			if startCall {
				var err error
				if vals, err = f.TemplateValues(typed); err != nil {
					status.SetText(err.Error())
					return
				}
			}
			s := w.t.cfg.Prefs.Load().WithTemplateValues(at.AgentID, vals)
			if err := w.t.cfg.Prefs.Save(s); err != nil {
				status.SetText(err.Error())
				return
			}
			win.Close()
			if !startCall {
				return
			}
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

// agentRow is the settings window's agent field with the button that edits
// the chosen agent's template values.
func (sw *settingsWindow) agentRow() fyne.CanvasObject {
	b := widget.NewButton(model.LabelTemplateValues, func() {
		if sw.onTemplate != nil {
			sw.onTemplate(sw.agents.ID(sw.agent.Text))
		}
	})
	return container.NewBorder(nil, nil, nil, b, sw.agent)
}
