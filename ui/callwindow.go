package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// callWindow shows one of our calls: its state, notes, transcript, mute
// boxes, a text entry and End call.
type callWindow struct {
	win    fyne.Window
	callID string
	m      Manager
	notice func(what string, err error)

	header     *widget.Label
	agentState *widget.Label
	note       *widget.Label
	audioErr   *widget.Label
	transcript *widget.Label
	scroll     *container.Scroll
	micMute    *widget.Check
	spkMute    *widget.Check
	text       *widget.Entry
	send       *widget.Button
	end        *widget.Button
	lastLines  int
	// updating is set while update sets the mute boxes, so that their
	// OnChanged does not send the manager's own state back to it.
	updating bool
}

// showCall focuses the call window of callID, or shows it in place of
// another call's. Main goroutine only.
func (w *windows) showCall(callID string) {
	w.call.show(callID, true, func() (fyne.Window, *callWindow, func()) {
		cw := newCallWindow(w.t.cfg.App, w.t.cfg.Manager, callID, w.errorNotice)
		cw.update(w.t.cfg.Manager.Snapshot(), time.Now())
		return cw.win, cw, nil
	})
}

func newCallWindow(app fyne.App, m Manager, callID string, notice func(string, error)) *callWindow {
	cw := &callWindow{callID: callID, m: m, notice: notice}
	cw.win = app.NewWindow(model.CallWindowTitle)
	cw.header = widget.NewLabel("")
	cw.header.TextStyle.Bold = true
	cw.agentState = widget.NewLabel("")
	cw.note = wrappedLabel(widget.WarningImportance)
	cw.audioErr = wrappedLabel(widget.DangerImportance)
	cw.transcript = widget.NewLabel("")
	cw.transcript.Wrapping = fyne.TextWrapWord
	cw.scroll = container.NewVScroll(cw.transcript)
	cw.micMute = widget.NewCheck(model.LabelMute, cw.onMute("Mute microphone", m.SetMicMuted))
	cw.spkMute = widget.NewCheck(model.LabelMuteSpeaker, cw.onMute("Mute speaker", m.SetSpeakerMuted))
	cw.text = widget.NewEntry()
	cw.text.SetPlaceHolder(model.TextPlaceholder)
	cw.text.OnSubmitted = func(string) { cw.sendText() }
	cw.send = widget.NewButton(model.LabelSend, cw.sendText)
	cw.end = widget.NewButton(model.LabelEndCall, cw.endCall)
	cw.end.Importance = widget.DangerImportance

	top := container.NewVBox(cw.header, cw.agentState, cw.note, cw.audioErr, container.NewHBox(cw.micMute, cw.spkMute))
	bottom := container.NewVBox(container.NewBorder(nil, nil, nil, cw.send, cw.text), container.NewHBox(cw.end))
	cw.win.SetContent(container.NewBorder(top, bottom, nil, nil, cw.scroll))
	cw.win.Resize(fyne.NewSize(460, 420))
	cw.win.CenterOnScreen()
	return cw
}

// wrappedLabel is a hidden, word-wrapped label for a note of importance imp.
func wrappedLabel(imp widget.Importance) *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	l.Hide()
	return l
}

// onMute passes the user's tick to set (the manager's mute for this call).
func (cw *callWindow) onMute(what string, set func(callID string, muted bool) error) func(bool) {
	return func(on bool) {
		if cw.updating {
			return
		}
		if err := set(cw.callID, on); err != nil {
			cw.notice(what, err)
		}
	}
}

// sendText sends the typed message; a message that fails to go out comes
// back into the entry, so nothing typed is lost.
func (cw *callWindow) sendText() {
	msg := strings.TrimSpace(cw.text.Text)
	if msg == "" {
		return
	}
	cw.text.SetText("")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		if err := cw.m.SendText(ctx, cw.callID, msg); err != nil {
			cw.notice("Sending text", err)
			doUI(func() {
				if cw.text.Text == "" {
					cw.text.SetText(msg)
				}
			})
		}
	}()
}

// endCall ends this call; the button is off until the manager answers.
func (cw *callWindow) endCall() {
	cw.end.Disable()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		if err := cw.m.End(ctx, cw.callID); err != nil {
			cw.notice("End call", err)
			doUI(cw.end.Enable)
		}
	}()
}

// update draws the call as snap has it at now; on the main goroutine.
func (cw *callWindow) update(snap calls.Snapshot, now time.Time) {
	v := model.CallWindowView(snap, cw.callID, now)
	cw.updating = true
	defer func() { cw.updating = false }()
	cw.header.SetText(v.Header)
	cw.agentState.SetText(v.AgentState)
	showText(cw.note, v.Note)
	showText(cw.audioErr, v.AudioError)
	for _, d := range []fyne.Disableable{cw.micMute, cw.spkMute, cw.text, cw.send} {
		setEnabled(d, v.Talk)
	}
	setEnabled(cw.end, v.CanEnd)
	if v.Ended { // the title, ticks and transcript stay as the call left them
		return
	}
	cw.win.SetTitle(v.Title)
	cw.micMute.SetChecked(v.MicMuted)
	cw.spkMute.SetChecked(v.SpeakerMute)
	if v.Transcript != cw.transcript.Text {
		cw.transcript.SetText(v.Transcript)
		if v.Lines != cw.lastLines {
			cw.lastLines = v.Lines
			cw.scroll.ScrollToBottom()
		}
	}
}

// showText shows l with text, or hides it when text is empty.
func showText(l *widget.Label, text string) {
	if text == "" {
		l.Hide()
		return
	}
	l.SetText(text)
	l.Show()
}

func setEnabled(d fyne.Disableable, on bool) {
	if on {
		d.Enable()
	} else {
		d.Disable()
	}
}
