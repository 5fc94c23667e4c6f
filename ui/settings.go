package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// settingsWindow edits the settings (Prefs) and the API key.
type settingsWindow struct {
	win    fyne.Window
	prefs  Prefs
	agents model.AgentChoices

	// key is what the key section shows; main goroutine only.
	key       model.KeyPanel
	keyEntry  *widget.Entry
	keyStatus *widget.Label
	saveKey   *widget.Button
	removeKey *widget.Button

	agent      *widget.SelectEntry
	maxDur     *widget.Entry
	joinTO     *widget.Entry
	price      *widget.Entry
	budget     *widget.Entry
	endOnLock  *widget.Check
	deleteRecs *widget.Check
	mic        *widget.SelectEntry
	speaker    *widget.SelectEntry
	headset    *widget.Check
	echo       *widget.Check // nil when the build cannot cancel echo
	record     *widget.CheckGroup
	autostart  *widget.Check
	status     *widget.Label
	save       *widget.Button
	// onTemplate edits an agent's template values (template_form.go).
	onTemplate func(agentID string)
}

// showSettings focuses the settings window, or opens it. Main goroutine only.
func (w *windows) showSettings() {
	w.settings.show("", true, func() (fyne.Window, *settingsWindow, func()) {
		sw := newSettingsWindow(w.t.cfg.App, w.t.cfg.Prefs, w.t.cfg.Manager.Snapshot())
		sw.onTemplate = w.editTemplateValues
		return sw.win, sw, nil
	})
}

// newSettingsWindow builds the window from the saved settings and the
// agents in snap; the key section starts reading the keychain.
func newSettingsWindow(app fyne.App, p Prefs, snap calls.Snapshot) *settingsWindow {
	sw := &settingsWindow{prefs: p}
	sw.win = app.NewWindow(model.SettingsTitle)
	s := p.Load()
	sw.agents = model.AgentChoicesOf(snap, s.DefaultAgentID)
	keyBox := sw.newKeySection()
	sw.newFields(model.FormOf(s, sw.agents.Current))
	form := widget.NewForm(
		widget.NewFormItem(model.FieldAPIKey, keyBox),
		widget.NewFormItem(model.FieldAgent, sw.agentRow()), // template_form.go
		widget.NewFormItem(model.FieldMaxDuration, sw.maxDur),
		widget.NewFormItem(model.FieldJoinTimeout, sw.joinTO),
		widget.NewFormItem(model.FieldPrice, sw.price),
		widget.NewFormItem(model.FieldBudget, sw.budget),
		widget.NewFormItem(model.FieldMicrophone, sw.mic),
		widget.NewFormItem(model.FieldSpeaker, sw.speaker),
		widget.NewFormItem("", container.NewVBox(sw.audioChecks(), sw.endOnLock, sw.deleteRecs, sw.autostart)),
	)
	sw.record = widget.NewCheckGroup(sw.agents.Labels, nil)
	sw.record.Horizontal = true
	sw.record.SetSelected(model.RecordTicked(sw.agents, s.RecordCalls))
	form.Append(model.FieldRecordCalls, sw.record)
	buttons := container.NewHBox(sw.save, widget.NewButton(model.LabelClose, sw.win.Close))
	sw.win.SetContent(container.NewBorder(nil, container.NewVBox(sw.status, buttons), nil, nil, container.NewVScroll(form)))
	sw.win.Resize(fyne.NewSize(560, 700))
	sw.win.CenterOnScreen()
	return sw
}

// newFields makes the settings fields, filled from f.
func (sw *settingsWindow) newFields(f model.SettingsForm) {
	sw.agent = widget.NewSelectEntry(sw.agents.Labels)
	sw.agent.SetPlaceHolder(model.AgentPlaceholder)
	sw.agent.SetText(f.Agent)
	sw.maxDur = textEntry(f.MaxDuration)
	sw.joinTO = textEntry(f.JoinTimeout)
	sw.price = textEntry(f.Price)
	sw.budget = textEntry(f.Budget)
	var mics, spks []string
	if sw.prefs.Devices != nil {
		mics, spks, _ = sw.prefs.Devices()
	}
	sw.mic = deviceEntry(mics, f.Microphone)
	sw.speaker = deviceEntry(spks, f.Speaker)
	sw.headset = checkBox(model.BoxHeadset, f.Headset)
	if sw.prefs.EchoCancellation {
		sw.echo = checkBox(model.BoxEcho, f.EchoCancellation)
		sw.headset.OnChanged = func(on bool) { setEnabled(sw.echo, model.EchoEnabled(on)) }
		sw.headset.OnChanged(f.Headset)
	}
	sw.endOnLock = checkBox(model.BoxEndOnLock, f.EndOnLock)
	sw.deleteRecs = checkBox(model.BoxDeleteAfterEnd, f.DeleteAfterEnd)
	sw.autostart = checkBox(model.BoxStartAtLogin, f.StartAtLogin)
	sw.status = widget.NewLabel("")
	sw.status.Wrapping = fyne.TextWrapWord
	sw.save = widget.NewButton(model.LabelSave, sw.onSave)
	sw.save.Importance = widget.HighImportance
}

// audioChecks are Headset and, where the build has it, echo cancellation.
func (sw *settingsWindow) audioChecks() fyne.CanvasObject {
	box := container.NewVBox(sw.headset)
	if sw.echo != nil {
		box.Add(sw.echo)
	}
	return box
}

func textEntry(v string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(v)
	return e
}

func deviceEntry(names []string, v string) *widget.SelectEntry {
	e := widget.NewSelectEntry(names)
	e.SetPlaceHolder(model.DevicePlaceholder)
	e.SetText(v)
	return e
}

func checkBox(label string, on bool) *widget.Check {
	c := widget.NewCheck(label, nil)
	c.SetChecked(on)
	return c
}

// form reads the fields as the user left them.
func (sw *settingsWindow) form() model.SettingsForm {
	f := model.SettingsForm{
		Agent: sw.agent.Text, MaxDuration: sw.maxDur.Text, JoinTimeout: sw.joinTO.Text,
		Price: sw.price.Text, Budget: sw.budget.Text, Microphone: sw.mic.Text, Speaker: sw.speaker.Text,
		Headset: sw.headset.Checked, EndOnLock: sw.endOnLock.Checked,
		DeleteAfterEnd: sw.deleteRecs.Checked, StartAtLogin: sw.autostart.Checked,
	}
	if sw.echo != nil {
		f.EchoCancellation = sw.echo.Checked
	}
	return f
}

// onSave checks the form and saves it; the status line says how it went.
func (sw *settingsWindow) onSave() {
	s, err := sw.form().Settings(sw.prefs.Load(), sw.agents, sw.echo != nil)
	s.RecordCalls = model.RecordCalls(sw.agents, sw.record.Selected, s.RecordCalls)
	if err == nil {
		err = sw.prefs.Save(s)
	}
	sw.status.SetText(model.SaveStatus(err))
}
