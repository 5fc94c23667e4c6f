package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// windows owns the app's windows; at most one of each kind is open.
type windows struct {
	t *Tray

	mu       sync.Mutex
	settings *settingsWindow
	call     *callWindow
	notice   fyne.Window
	// noTray is the "no system tray" window while it is open.
	noTray      fyne.Window
	noTrayLabel *widget.Label
}

func newWindows(t *Tray) *windows { return &windows{t: t} }

// refresh updates open windows from a snapshot; called off the main thread.
func (w *windows) refresh(snap calls.Snapshot, now time.Time) {
	w.mu.Lock()
	cw := w.call
	w.mu.Unlock()
	if cw != nil {
		doUI(func() { cw.update(snap, now) })
	}
}

// errorNotice tells the user an action failed, in a small window.
func (w *windows) errorNotice(what string, err error) {
	doUI(func() { w.showNotice(what+" failed", err.Error()) })
}

func (w *windows) showNotice(title, text string) {
	w.mu.Lock()
	old := w.notice
	w.mu.Unlock()
	if old != nil {
		old.Close()
	}
	win := w.t.cfg.App.NewWindow(title)
	lbl := widget.NewLabel(text)
	lbl.Wrapping = fyne.TextWrapWord
	win.SetContent(container.NewBorder(nil, container.NewHBox(widget.NewButton("Close", win.Close)), nil, nil, lbl))
	win.Resize(fyne.NewSize(420, 140))
	win.CenterOnScreen()
	win.SetOnClosed(func() {
		w.mu.Lock()
		if w.notice == win {
			w.notice = nil
		}
		w.mu.Unlock()
	})
	w.mu.Lock()
	w.notice = win
	w.mu.Unlock()
	win.Show()
}

// showRecent opens the details of one finished call.
func (w *windows) showRecent(callID string) {
	snap := w.t.cfg.Manager.Snapshot()
	var h *calls.HistoryEntry
	for i := range snap.History {
		if snap.History[i].CallID == callID {
			h = &snap.History[i]
		}
	}
	if h == nil {
		w.showNotice("Recent call", "That call is no longer in the history.")
		return
	}
	win := w.t.cfg.App.NewWindow("Call with " + orDash(h.AgentName))
	win.SetContent(recentDetails(*h, w.t.cfg.Location, win.Close))
	win.Resize(fyne.NewSize(420, 260))
	win.CenterOnScreen()
	win.Show()
}

func recentDetails(h calls.HistoryEntry, loc *time.Location, close func()) fyne.CanvasObject {
	started := "unknown"
	if !h.Started.IsZero() {
		started = h.Started.In(loc).Format("Mon Jan 2 2006 15:04:05 MST")
	}
	status := h.BillingStatus
	if status == "" {
		status = "not known yet"
	}
	form := widget.NewForm(
		widget.NewFormItem("Agent", widget.NewLabel(orDash(h.AgentName))),
		widget.NewFormItem("Call ID", selectable(h.CallID)),
		widget.NewFormItem("Started", widget.NewLabel(started)),
		widget.NewFormItem("Billed", widget.NewLabel(model.Clock(h.BilledDuration))),
		widget.NewFormItem("Cost", widget.NewLabel(model.Money(h.Cost))),
		widget.NewFormItem("Ended", widget.NewLabel(model.EndReasonWords(h.EndReason))),
		widget.NewFormItem("Billing status", widget.NewLabel(status)),
	)
	return container.NewBorder(nil, container.NewHBox(widget.NewButton("Close", close)), nil, nil, form)
}

func selectable(s string) fyne.CanvasObject {
	l := widget.NewLabel(s)
	l.Selectable = true
	return l
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// ---- Show call ----

type callWindow struct {
	win    fyne.Window
	callID string
	m      Manager

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
	updating   bool
	price      float64
}

func (w *windows) showCall(callID string) {
	w.mu.Lock()
	cw := w.call
	w.mu.Unlock()
	if cw != nil {
		if cw.callID == callID {
			cw.win.RequestFocus()
			return
		}
		cw.win.Close()
	}
	cw = w.newCallWindow(callID)
	w.mu.Lock()
	w.call = cw
	w.mu.Unlock()
	cw.update(w.t.cfg.Manager.Snapshot(), time.Now())
	cw.win.Show()
}

func (w *windows) newCallWindow(callID string) *callWindow {
	m := w.t.cfg.Manager
	cw := &callWindow{callID: callID, m: m}
	cw.win = w.t.cfg.App.NewWindow("Call")
	cw.header = widget.NewLabel("")
	cw.header.TextStyle.Bold = true
	cw.agentState = widget.NewLabel("")
	cw.note = widget.NewLabel("")
	cw.note.Wrapping = fyne.TextWrapWord
	cw.note.Importance = widget.WarningImportance
	cw.note.Hide()
	cw.audioErr = widget.NewLabel("")
	cw.audioErr.Wrapping = fyne.TextWrapWord
	cw.audioErr.Importance = widget.DangerImportance
	cw.audioErr.Hide()
	cw.transcript = widget.NewLabel("")
	cw.transcript.Wrapping = fyne.TextWrapWord
	cw.scroll = container.NewVScroll(cw.transcript)
	cw.micMute = widget.NewCheck("Mute microphone", func(on bool) {
		if cw.updating {
			return
		}
		if err := m.SetMicMuted(callID, on); err != nil {
			w.errorNotice("Mute microphone", err)
		}
	})
	cw.spkMute = widget.NewCheck("Mute speaker", func(on bool) {
		if cw.updating {
			return
		}
		if err := m.SetSpeakerMuted(callID, on); err != nil {
			w.errorNotice("Mute speaker", err)
		}
	})
	cw.text = widget.NewEntry()
	cw.text.SetPlaceHolder("Type a message to the agent")
	sendText := func() {
		msg := strings.TrimSpace(cw.text.Text)
		if msg == "" {
			return
		}
		cw.text.SetText("")
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
			defer cancel()
			if err := m.SendText(ctx, callID, msg); err != nil {
				w.errorNotice("Sending text", err)
				doUI(func() {
					if cw.text.Text == "" {
						cw.text.SetText(msg) // lose nothing
					}
				})
			}
		}()
	}
	cw.text.OnSubmitted = func(string) { sendText() }
	cw.send = widget.NewButton("Send", sendText)
	cw.end = widget.NewButton("End call", func() {
		cw.end.Disable()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
			defer cancel()
			if err := m.End(ctx, callID); err != nil {
				w.errorNotice("End call", err)
				doUI(cw.end.Enable)
			}
		}()
	})
	cw.end.Importance = widget.DangerImportance
	top := container.NewVBox(cw.header, cw.agentState, cw.note, cw.audioErr, container.NewHBox(cw.micMute, cw.spkMute))
	bottom := container.NewVBox(container.NewBorder(nil, nil, nil, cw.send, cw.text), container.NewHBox(cw.end))
	cw.win.SetContent(container.NewBorder(top, bottom, nil, nil, cw.scroll))
	cw.win.Resize(fyne.NewSize(460, 420))
	cw.win.CenterOnScreen()
	cw.win.SetOnClosed(func() {
		w.mu.Lock()
		if w.call == cw {
			w.call = nil
		}
		w.mu.Unlock()
	})
	return cw
}

// update shows the call as snap has it; on the main goroutine.
func (cw *callWindow) update(snap calls.Snapshot, now time.Time) {
	var c *calls.CallView
	for i := range snap.Ours {
		if snap.Ours[i].ID == cw.callID {
			c = &snap.Ours[i]
		}
	}
	cw.updating = true
	defer func() { cw.updating = false }()
	if c == nil {
		cw.header.SetText("This call has ended.")
		cw.agentState.SetText("")
		cw.note.Hide()
		cw.audioErr.Hide()
		for _, d := range []fyne.Disableable{cw.micMute, cw.spkMute, cw.text, cw.send, cw.end} {
			d.Disable()
		}
		return
	}
	name := c.AgentName
	if name == "" {
		name = c.AgentID
	}
	cw.win.SetTitle("Call with " + name)
	if c.Recovered {
		name += " (earlier session)"
	}
	state := c.State.String()
	switch c.State {
	case calls.CallBilling:
		state = fmt.Sprintf("billing %s, %s", model.Clock(c.Elapsed(now)), model.Money(c.Cost(now, snap.PricePerMinute)))
		if r := c.Remaining(now); r > 0 {
			state += fmt.Sprintf(" (ends in %s)", model.Clock(r))
		}
	case calls.CallEndUnconfirmed:
		state = "end not confirmed: may still be billing"
	}
	cw.header.SetText(fmt.Sprintf("%s: %s", name, state))
	as := c.AgentState
	if as == "" {
		as = "—"
	}
	cw.agentState.SetText("Agent: " + as)
	if note := CallNoteText(*c); note != "" {
		cw.note.SetText(note)
		cw.note.Show()
	} else {
		cw.note.Hide()
	}
	if c.AudioError != "" {
		cw.audioErr.SetText("Audio: " + c.AudioError + " (you can still type)")
		cw.audioErr.Show()
	} else {
		cw.audioErr.Hide()
	}
	cw.micMute.SetChecked(c.MicMuted)
	cw.spkMute.SetChecked(c.SpeakerMute)
	live := c.State == calls.CallBilling || c.State == calls.CallJoining || c.State == calls.CallCreating
	for _, d := range []fyne.Disableable{cw.micMute, cw.spkMute, cw.text, cw.send} {
		if c.State == calls.CallBilling {
			d.Enable()
		} else {
			d.Disable()
		}
	}
	if live || c.State == calls.CallEndUnconfirmed {
		cw.end.Enable()
	} else {
		cw.end.Disable()
	}
	text := TranscriptText(c.Transcript)
	if text != cw.transcript.Text {
		cw.transcript.SetText(text)
		if len(c.Transcript) != cw.lastLines {
			cw.lastLines = len(c.Transcript)
			cw.scroll.ScrollToBottom()
		}
	}
}

// CallNoteText is what the call window says about a call beyond its state:
// where it came from when an earlier session left it live, and the
// manager's note.
func CallNoteText(c calls.CallView) string {
	var parts []string
	if c.Recovered {
		parts = append(parts, "An earlier session of Ultravox Tray left this call live (it was in the call journal); it is being ended.")
	}
	if c.Note != "" {
		n := []rune(strings.TrimSpace(c.Note))
		if len(n) > 0 {
			n[0] = unicode.ToUpper(n[0])
		}
		t := string(n)
		if !strings.HasSuffix(t, ".") {
			t += "."
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// TranscriptText renders transcript lines as "Agent: ..." / "You: ...".
func TranscriptText(lines []calls.TranscriptLine) string {
	var b strings.Builder
	for _, l := range lines {
		who := "Agent"
		if l.Role == "user" {
			who = "You"
		}
		b.WriteString(who + ": " + l.Text)
		if !l.Final {
			b.WriteString(" …")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// ---- Settings ----

type settingsWindow struct {
	win   fyne.Window
	prefs Prefs

	keyEntry  *widget.Entry
	keyStatus *widget.Label
	saveKey   *widget.Button
	removeKey *widget.Button

	agent      *widget.SelectEntry
	agentIDs   map[string]string // label -> ID
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
	autostart  *widget.Check
	status     *widget.Label
	save       *widget.Button
}

func (w *windows) showSettings() {
	w.mu.Lock()
	sw := w.settings
	w.mu.Unlock()
	if sw != nil {
		sw.win.RequestFocus()
		return
	}
	sw = newSettingsWindow(w.t.cfg.App, w.t.cfg.Prefs, w.t.cfg.Manager.Snapshot())
	sw.win.SetOnClosed(func() {
		w.mu.Lock()
		if w.settings == sw {
			w.settings = nil
		}
		w.mu.Unlock()
	})
	w.mu.Lock()
	w.settings = sw
	w.mu.Unlock()
	sw.win.Show()
}

// keyTimeout bounds keychain and key-check calls from the settings window.
const keyTimeout = 15 * time.Second

func newSettingsWindow(app fyne.App, p Prefs, snap calls.Snapshot) *settingsWindow {
	sw := &settingsWindow{prefs: p, agentIDs: map[string]string{}}
	sw.win = app.NewWindow("Ultravox Tray Settings")
	s := p.Load()

	sw.keyEntry = widget.NewPasswordEntry()
	sw.keyEntry.SetPlaceHolder("paste your Ultravox API key")
	sw.keyStatus = widget.NewLabel("")
	sw.keyStatus.Wrapping = fyne.TextWrapWord
	sw.saveKey = widget.NewButton("Check and save key", sw.onSaveKey)
	sw.removeKey = widget.NewButton("Remove key", sw.onRemoveKey)
	if p.KeyFromEnv {
		sw.keyStatus.SetText("The key comes from ULTRAVOX_API_KEY in the environment; it is not stored.")
		sw.keyEntry.Disable()
		sw.saveKey.Disable()
		sw.removeKey.Disable()
	} else {
		sw.keyStatus.SetText("Reading the keychain…")
		go sw.loadKeyStatus()
	}

	var agentOpts []string
	current := s.DefaultAgentID
	for _, a := range snap.Agents {
		l := a.Name
		if l == "" || sw.agentIDs[l] != "" {
			l = fmt.Sprintf("%s (%s)", a.Name, a.ID)
		}
		sw.agentIDs[l] = a.ID
		agentOpts = append(agentOpts, l)
		if a.ID == s.DefaultAgentID {
			current = l
		}
	}
	if current == "" { // no choice saved: show the agent the manager uses
		for l, id := range sw.agentIDs {
			if id == snap.DefaultAgentID {
				current = l
			}
		}
	}
	sw.agent = widget.NewSelectEntry(agentOpts)
	sw.agent.SetPlaceHolder("agent name or ID")
	sw.agent.SetText(current)

	sw.maxDur = numEntry(strconv.Itoa(s.MaxDurationSeconds))
	sw.joinTO = numEntry(strconv.Itoa(s.JoinTimeoutSeconds))
	sw.price = numEntry(strconv.FormatFloat(s.PricePerMinute, 'f', -1, 64))
	sw.budget = numEntry(strconv.FormatFloat(s.DailyBudget, 'f', -1, 64))
	sw.endOnLock = widget.NewCheck("End calls when the screen locks", nil)
	sw.endOnLock.SetChecked(s.EndCallsOnLock)
	sw.deleteRecs = widget.NewCheck("Delete call records on Ultravox after a call ends", nil)
	sw.deleteRecs.SetChecked(s.DeleteAfterEnd)
	var mics, spks []string
	if p.Devices != nil {
		mics, spks, _ = p.Devices()
	}
	sw.mic = widget.NewSelectEntry(mics)
	sw.mic.SetPlaceHolder("system default")
	sw.mic.SetText(s.MicrophoneDevice)
	sw.speaker = widget.NewSelectEntry(spks)
	sw.speaker.SetPlaceHolder("system default")
	sw.speaker.SetText(s.SpeakerDevice)
	sw.headset = widget.NewCheck("Headset (no echo control)", nil)
	sw.headset.SetChecked(s.Headset)
	audioChecks := container.NewVBox(sw.headset)
	if p.EchoCancellation {
		// With a headset there is no echo to cancel: the option is off.
		sw.echo = widget.NewCheck("Echo cancellation (experimental)", nil)
		sw.echo.SetChecked(s.EchoCancellation)
		sw.headset.OnChanged = func(on bool) {
			if on {
				sw.echo.Disable()
			} else {
				sw.echo.Enable()
			}
		}
		sw.headset.OnChanged(s.Headset)
		audioChecks.Add(sw.echo)
	}
	sw.autostart = widget.NewCheck("Start at login", nil)
	sw.autostart.SetChecked(s.StartAtLogin)
	sw.status = widget.NewLabel("")
	sw.status.Wrapping = fyne.TextWrapWord
	sw.save = widget.NewButton("Save", sw.onSave)
	sw.save.Importance = widget.HighImportance

	keyBox := container.NewVBox(sw.keyEntry, container.NewHBox(sw.saveKey, sw.removeKey), sw.keyStatus)
	form := widget.NewForm(
		widget.NewFormItem("API key", keyBox),
		widget.NewFormItem("Default agent", sw.agent),
		widget.NewFormItem("Max call duration (s)", sw.maxDur),
		widget.NewFormItem("Join timeout (s)", sw.joinTO),
		widget.NewFormItem("Price per minute ($)", sw.price),
		widget.NewFormItem("Daily budget ($, 0 = none)", sw.budget),
		widget.NewFormItem("Microphone", sw.mic),
		widget.NewFormItem("Speaker", sw.speaker),
		widget.NewFormItem("", container.NewVBox(audioChecks, sw.endOnLock, sw.deleteRecs, sw.autostart)),
	)
	buttons := container.NewHBox(sw.save, widget.NewButton("Close", sw.win.Close))
	sw.win.SetContent(container.NewBorder(nil, container.NewVBox(sw.status, buttons), nil, nil, container.NewVScroll(form)))
	sw.win.Resize(fyne.NewSize(560, 700))
	sw.win.CenterOnScreen()
	return sw
}

func numEntry(v string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(v)
	return e
}

func (sw *settingsWindow) loadKeyStatus() {
	ctx, cancel := context.WithTimeout(context.Background(), keyTimeout)
	defer cancel()
	key, err := sw.prefs.Keys.Get(ctx)
	doUI(func() {
		switch {
		case err != nil:
			sw.keyStatus.SetText("Keychain: " + err.Error())
		case key == "":
			sw.keyStatus.SetText("No key stored. Paste one and press Check and save key.")
			sw.removeKey.Disable()
		default:
			sw.keyStatus.SetText("A key is stored in the keychain (" + KeyHint(key) + ").")
		}
	})
}

// KeyHint shows at most the 8-character prefix of a key.
func KeyHint(key string) string {
	if i := strings.IndexByte(key, '.'); i > 0 && i <= 8 {
		return key[:i] + ".…"
	}
	if len(key) > 12 {
		return key[:4] + "…"
	}
	return "…"
}

func (sw *settingsWindow) onSaveKey() {
	key := strings.TrimSpace(sw.keyEntry.Text)
	if key == "" {
		sw.keyStatus.SetText("Paste a key first.")
		return
	}
	if strings.ContainsAny(key, " \t\r\n") {
		sw.keyStatus.SetText("The key contains spaces or line breaks; copy it again from the Ultravox console.")
		return
	}
	sw.saveKey.Disable()
	sw.keyStatus.SetText("Checking the key with Ultravox…")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), keyTimeout)
		defer cancel()
		account, err := sw.prefs.CheckKey(ctx, key)
		if err != nil {
			doUI(func() {
				sw.keyStatus.SetText("Not saved: " + err.Error())
				sw.saveKey.Enable()
			})
			return
		}
		if err := sw.prefs.Keys.Set(ctx, key); err != nil {
			doUI(func() {
				sw.keyStatus.SetText("The key works (account " + account + ") but could not be stored: " + err.Error())
				sw.saveKey.Enable()
			})
			return
		}
		if sw.prefs.KeyChanged != nil {
			sw.prefs.KeyChanged(key)
		}
		doUI(func() {
			sw.keyEntry.SetText("")
			sw.keyStatus.SetText("Saved in the keychain. Account: " + account + " (" + KeyHint(key) + ").")
			sw.saveKey.Enable()
			sw.removeKey.Enable()
		})
	}()
}

func (sw *settingsWindow) onRemoveKey() {
	sw.removeKey.Disable()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), keyTimeout)
		defer cancel()
		err := sw.prefs.Keys.Delete(ctx)
		if err == nil && sw.prefs.KeyChanged != nil {
			sw.prefs.KeyChanged("")
		}
		doUI(func() {
			if err != nil {
				sw.keyStatus.SetText("Could not remove the key: " + err.Error())
				sw.removeKey.Enable()
				return
			}
			sw.keyStatus.SetText("The key was removed from the keychain.")
		})
	}()
}

// collect reads the form into settings, with a specific message for every
// field that is not a number.
func (sw *settingsWindow) collect() (settings.Settings, error) {
	s := sw.prefs.Load()
	var errs []string
	intField := func(name, text string, dst *int) {
		v, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s must be a whole number of seconds, not %q", name, text))
			return
		}
		*dst = v
	}
	floatField := func(name, text string, dst *float64) {
		v, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(text), "$"), 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s must be an amount in dollars, not %q", name, text))
			return
		}
		*dst = v
	}
	intField("Max call duration", sw.maxDur.Text, &s.MaxDurationSeconds)
	intField("Join timeout", sw.joinTO.Text, &s.JoinTimeoutSeconds)
	floatField("Price per minute", sw.price.Text, &s.PricePerMinute)
	floatField("Daily budget", sw.budget.Text, &s.DailyBudget)
	agent := strings.TrimSpace(sw.agent.Text)
	if id, ok := sw.agentIDs[agent]; ok {
		agent = id
	}
	s.DefaultAgentID = agent
	s.EndCallsOnLock = sw.endOnLock.Checked
	s.DeleteAfterEnd = sw.deleteRecs.Checked
	s.MicrophoneDevice = strings.TrimSpace(sw.mic.Text)
	s.SpeakerDevice = strings.TrimSpace(sw.speaker.Text)
	s.Headset = sw.headset.Checked
	if sw.echo != nil { // otherwise the saved choice stays as it was
		s.EchoCancellation = sw.echo.Checked
	}
	s.StartAtLogin = sw.autostart.Checked
	if len(errs) > 0 {
		return s, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

func (sw *settingsWindow) onSave() {
	s, err := sw.collect()
	if err != nil {
		sw.status.SetText("Not saved: " + err.Error())
		return
	}
	if err := sw.prefs.Save(s); err != nil {
		sw.status.SetText("Not saved: " + err.Error())
		return
	}
	sw.status.SetText("Saved.")
}
