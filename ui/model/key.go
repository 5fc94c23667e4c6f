package model

import (
	"strings"
)

// KeyPanel is the API key part of the settings window: the line it says and
// which of its controls work, as the user acts and the keychain and
// Ultravox answer. Each method is one such event.
type KeyPanel struct {
	Status                                   string
	EntryEnabled, SaveEnabled, RemoveEnabled bool
}

// Key panel texts.
const (
	KeyPlaceholder  = "paste your Ultravox API key"
	LabelSaveKey    = "Check and save key"
	LabelRemoveKey  = "Remove key"
	keyFromEnvText  = "The key comes from ULTRAVOX_API_KEY in the environment; it is not stored."
	keyReadingText  = "Reading the keychain…"
	keyNoneText     = "No key stored. Paste one and press Check and save key."
	keyCheckingText = "Checking the key with Ultravox…"
)

// NewKeyPanel is the panel as the window opens. A key from the environment
// cannot be changed here; otherwise the keychain is being read.
func NewKeyPanel(fromEnv bool) KeyPanel {
	if fromEnv {
		return KeyPanel{Status: keyFromEnvText}
	}
	return KeyPanel{Status: keyReadingText, EntryEnabled: true, SaveEnabled: true, RemoveEnabled: true}
}

// Read is the keychain's answer: the stored key ("" for none) or why it
// could not be read.
func (p *KeyPanel) Read(key string, err error) {
	switch {
	case err != nil:
		p.Status = "Keychain: " + err.Error()
	case key == "":
		p.Status = keyNoneText
		p.RemoveEnabled = false
	default:
		p.Status = "A key is stored in the keychain (" + keyHint(key) + ")."
	}
}

// Submit takes what the user pasted: the key to check, or false with the
// reason in Status. While the key is checked, Save is off.
func (p *KeyPanel) Submit(text string) (key string, ok bool) {
	key = strings.TrimSpace(text)
	switch {
	case key == "":
		p.Status = "Paste a key first."
		return "", false
	case strings.ContainsAny(key, " \t\r\n"):
		p.Status = "The key contains spaces or line breaks; copy it again from the Ultravox console."
		return "", false
	}
	p.Status = keyCheckingText
	p.SaveEnabled = false
	return key, true
}

// Rejected is a key that Ultravox did not accept; nothing was stored.
func (p *KeyPanel) Rejected(err error) {
	p.Status = "Not saved: " + err.Error()
	p.SaveEnabled = true
}

// NotStored is a key that works but that the keychain refused.
func (p *KeyPanel) NotStored(account string, err error) {
	p.Status = "The key works (account " + account + ") but could not be stored: " + err.Error()
	p.SaveEnabled = true
}

// Stored is a checked key now in the keychain.
func (p *KeyPanel) Stored(account, key string) {
	p.Status = "Saved in the keychain. Account: " + account + " (" + keyHint(key) + ")."
	p.SaveEnabled, p.RemoveEnabled = true, true
}

// Removing is a click on Remove key: off until the keychain answers.
func (p *KeyPanel) Removing() { p.RemoveEnabled = false }

// Removed is the keychain's answer to Remove key.
func (p *KeyPanel) Removed(err error) {
	if err != nil {
		p.Status = "Could not remove the key: " + err.Error()
		p.RemoveEnabled = true
		return
	}
	p.Status = "The key was removed from the keychain."
}

// keyHint shows at most the 8-character prefix of a key.
func keyHint(key string) string {
	if i := strings.IndexByte(key, '.'); i > 0 && i <= 8 {
		return key[:i] + ".…"
	}
	if len(key) > 12 {
		return key[:4] + "…"
	}
	return "…"
}
