// Package ui is the Fyne side of Ultravox Tray: the tray icon, tooltip and
// menu, and the call, settings, recent-call and notice windows. Every word and
// enabled flag comes from ui/model; this package only draws it and turns each
// click into a manager call, deciding nothing the call manager owns.
package ui

import (
	"context"

	"fyne.io/fyne/v2"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
)

// Manager is what the UI needs from the call manager (*calls.Manager).
type Manager interface {
	Subscribe() (snaps <-chan calls.Snapshot, events <-chan calls.Event, cancel func())
	Snapshot() calls.Snapshot
	Start(ctx context.Context, agentID string) (calls.CallView, error)
	End(ctx context.Context, callID string) error
	EndAll(ctx context.Context) error
	EndOurs(ctx context.Context) error
	SetMicMuted(callID string, muted bool) error
	SetSpeakerMuted(callID string, muted bool) error
	SendText(ctx context.Context, callID, text string) error
	Recheck()
}

// KeyStore keeps the API key (the keychain, package secrets). Every method
// may block (a locked keychain prompts): the UI calls them off its thread.
type KeyStore interface {
	Get(ctx context.Context) (string, error) // "" and nil when no key is stored
	Set(ctx context.Context, key string) error
	Delete(ctx context.Context) error
}

// Prefs are the settings the Settings window edits and the ways to apply
// them. All function fields are required except where noted.
type Prefs struct {
	Load func() settings.Settings
	// Save validates, stores and applies s (manager limits, autostart).
	Save func(s settings.Settings) error
	Keys KeyStore
	// CheckKey validates key with GET /api/accounts/me and returns the
	// account's name.
	CheckKey func(ctx context.Context, key string) (account string, err error)
	// KeyChanged applies a new key (or "" after Remove) to the manager.
	KeyChanged func(key string)
	// KeyFromEnv is set when ULTRAVOX_API_KEY overrides the keychain.
	KeyFromEnv bool
	// EchoCancellation is set when the build has an echo canceller: only
	// then does Settings offer "Echo cancellation (experimental)".
	EchoCancellation bool
	// Devices lists microphones and speakers by name (optional).
	Devices func() (mics, speakers []string, err error)
}

// doUI runs f on Fyne's main goroutine (fyne.Do). Every UI change made from
// another goroutine goes through it; tests replace it with their own
// single-goroutine loop, since Fyne's test driver runs fyne.Do inline.
var doUI = fyne.Do
