// Package model turns a call manager Snapshot into what the user sees: the
// tray's icon state, tooltip and title (which tick every second) and menu
// (which changes only when the state does), and the words, enabled flags and
// fields of the call, settings, recent-call and notice windows. It is plain
// data: no Fyne, no D-Bus, so every wording and every enabled flag is
// unit-tested, and package ui only draws what it returns.
package model

import (
	"fmt"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/assets"
)

// ActionKind is what a menu item does when clicked.
type ActionKind int

const (
	ActNone       ActionKind = iota
	ActStartCall             // Arg: agent ID ("" = default agent)
	ActEndOurs               // end every live call this app started
	ActEndAll                // end every live call on the account
	ActToggleMic             // Arg: call ID
	ActShowCall              // Arg: call ID
	ActShowRecent            // Arg: call ID of a history entry
	ActSettings              // open the settings window
	ActSetKey                // open the settings window at the API key
	ActTryDemo               // restart into demo mode
	ActRecheck               // check the account now
	ActQuit                  // end calls, then quit
	ActTextCall              // Arg: agent ID; a text-only call (review.go)
	ActHistory               // open the call history window
	ActUsage                 // open the usage window
)

// Action is a menu item's action with its argument.
type Action struct {
	Kind ActionKind
	Arg  string
}

// Item is one menu entry. A Separator has no other field set.
type Item struct {
	Label     string
	Enabled   bool
	Checkable bool
	Checked   bool
	Separator bool
	IsQuit    bool
	Action    Action
	Children  []Item
}

// Menu labels that tests and scripts rely on (documented in the README).
const (
	LabelStartCall = "Start call"
	LabelStartWith = "Start call with"
	LabelEndCall   = "End call"
	LabelEndAll    = "End all calls on account"
	LabelMute      = "Mute microphone"
	LabelShowCall  = "Show call…"
	LabelRecent    = "Recent calls"
	LabelSettings  = "Settings…"
	LabelSetKey    = "Set API key…"
	LabelTryDemo   = "Try demo mode"
	LabelCheckNow  = "Check now"
	LabelQuit      = "Quit"
)

// View is everything the tray shows for one snapshot at one instant.
type View struct {
	Icon    assets.State
	Demo    bool
	Tooltip string // ticks every second while billing
	Title   string // short form of the tooltip, ticks too
	Status  string // the menu's status line: no ticking numbers
	Menu    []Item
}

// Options are the few things the view needs beyond the snapshot.
type Options struct {
	// Location is the time zone for the times in "Recent calls"; nil = Local.
	Location *time.Location
	// RecentCount is how many history entries "Recent calls" lists (5).
	RecentCount int
	// Review offers "Start text call with", "Call history…" and "Usage…"
	// (the app can fetch a call's records; review.go).
	Review bool
}

// iconState maps the manager's overall state to the icon.
func iconState(o calls.Overall) assets.State {
	switch o {
	case calls.OverallIdle:
		return assets.Idle
	case calls.OverallConnecting:
		return assets.Connecting
	case calls.OverallBilling:
		return assets.Billing
	case calls.OverallEnding:
		return assets.Ending
	default:
		return assets.Unknown
	}
}

// Render builds the View of snap at now.
func Render(snap calls.Snapshot, now time.Time, opt Options) View {
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.RecentCount <= 0 {
		opt.RecentCount = 5
	}
	v := View{Icon: iconState(snap.Overall), Demo: snap.Demo}
	v.Tooltip, v.Title, v.Status = trayWords(snap, now)
	if snap.Demo {
		v.Tooltip += " [demo]"
	}
	v.Menu = menu(snap, now, v.Status, opt)
	return v
}

// Signature identifies the menu's structure and words: the tray rebuilds
// its menu only when the signature changes.
func Signature(items []Item) string {
	var b strings.Builder
	sig(&b, items)
	return b.String()
}

func sig(b *strings.Builder, items []Item) {
	for _, it := range items {
		fmt.Fprintf(b, "%q|%t%t%t%t%t|%d:%q", it.Label, it.Enabled, it.Checkable, it.Checked, it.Separator, it.IsQuit, it.Action.Kind, it.Action.Arg)
		if len(it.Children) > 0 {
			b.WriteString("[")
			sig(b, it.Children)
			b.WriteString("]")
		}
		b.WriteString(";")
	}
}
