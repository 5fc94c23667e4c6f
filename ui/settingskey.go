package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// keyTimeout bounds keychain and key-check calls from the settings window.
const keyTimeout = 15 * time.Second

// newKeySection makes the API key entry, its buttons and status line, and
// starts reading the keychain unless the key comes from the environment.
func (sw *settingsWindow) newKeySection() fyne.CanvasObject {
	sw.keyEntry = widget.NewPasswordEntry()
	sw.keyEntry.SetPlaceHolder(model.KeyPlaceholder)
	sw.keyStatus = widget.NewLabel("")
	sw.keyStatus.Wrapping = fyne.TextWrapWord
	sw.saveKey = widget.NewButton(model.LabelSaveKey, sw.onSaveKey)
	sw.removeKey = widget.NewButton(model.LabelRemoveKey, sw.onRemoveKey)
	sw.key = model.NewKeyPanel(sw.prefs.KeyFromEnv)
	sw.drawKey()
	if !sw.prefs.KeyFromEnv {
		go sw.readKey()
	}
	return container.NewVBox(sw.keyEntry, container.NewHBox(sw.saveKey, sw.removeKey), sw.keyStatus)
}

// drawKey shows sw.key. Main goroutine only.
func (sw *settingsWindow) drawKey() {
	sw.keyStatus.SetText(sw.key.Status)
	setEnabled(sw.keyEntry, sw.key.EntryEnabled)
	setEnabled(sw.saveKey, sw.key.SaveEnabled)
	setEnabled(sw.removeKey, sw.key.RemoveEnabled)
}

// keyEvent applies one event to the key panel on the main goroutine.
func (sw *settingsWindow) keyEvent(f func(p *model.KeyPanel)) {
	doUI(func() { f(&sw.key); sw.drawKey() })
}

func (sw *settingsWindow) readKey() {
	ctx, cancel := context.WithTimeout(context.Background(), keyTimeout)
	defer cancel()
	key, err := sw.prefs.Keys.Get(ctx)
	sw.keyEvent(func(p *model.KeyPanel) { p.Read(key, err) })
}

// onSaveKey checks the pasted key with Ultravox, then stores it. The entry
// keeps the key until it is stored, so that a failure loses nothing.
func (sw *settingsWindow) onSaveKey() {
	key, ok := sw.key.Submit(sw.keyEntry.Text)
	sw.drawKey()
	if !ok {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), keyTimeout)
		defer cancel()
		account, err := sw.prefs.CheckKey(ctx, key)
		if err != nil {
			sw.keyEvent(func(p *model.KeyPanel) { p.Rejected(err) })
			return
		}
		if err := sw.prefs.Keys.Set(ctx, key); err != nil {
			sw.keyEvent(func(p *model.KeyPanel) { p.NotStored(account, err) })
			return
		}
		if sw.prefs.KeyChanged != nil {
			sw.prefs.KeyChanged(key)
		}
		sw.keyEvent(func(p *model.KeyPanel) {
			sw.keyEntry.SetText("") // a stored key is never shown again
			p.Stored(account, key)
		})
	}()
}

func (sw *settingsWindow) onRemoveKey() {
	sw.key.Removing()
	sw.drawKey()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), keyTimeout)
		defer cancel()
		err := sw.prefs.Keys.Delete(ctx)
		if err == nil && sw.prefs.KeyChanged != nil {
			sw.prefs.KeyChanged("")
		}
		sw.keyEvent(func(p *model.KeyPanel) { p.Removed(err) })
	}()
}
