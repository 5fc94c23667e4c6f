package ui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// fyneMenu converts the model's items into a Fyne menu.
func (t *Tray) fyneMenu(items []model.Item) *fyne.Menu {
	return fyne.NewMenu("Ultravox Tray", t.fyneItems(items)...)
}

func (t *Tray) fyneItems(items []model.Item) []*fyne.MenuItem {
	var out []*fyne.MenuItem
	for _, it := range items {
		if it.Separator {
			out = append(out, fyne.NewMenuItemSeparator())
			continue
		}
		act := it.Action
		mi := fyne.NewMenuItem(it.Label, func() { t.do(act) })
		mi.Disabled = !it.Enabled
		mi.Checked = it.Checkable && it.Checked
		mi.IsQuit = it.IsQuit
		if len(it.Children) > 0 {
			mi.ChildMenu = fyne.NewMenu(it.Label, t.fyneItems(it.Children)...)
			mi.Action = nil
		}
		if act.Kind == model.ActNone {
			mi.Action = nil
		}
		out = append(out, mi)
	}
	return out
}

// actionTimeout bounds a manager call started from the menu.
const actionTimeout = 30 * time.Second

// do runs a menu action. It is called on the main goroutine; anything that
// talks to the network runs in a goroutine.
func (t *Tray) do(a model.Action) {
	m := t.cfg.Manager
	background := func(what string, f func(ctx context.Context) error) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
			defer cancel()
			if err := f(ctx); err != nil {
				t.log.Warn(what+" failed", "err", err)
				t.windows.errorNotice(what, err)
			}
		}()
	}
	switch a.Kind {
	case model.ActStartCall:
		background("Start call", func(ctx context.Context) error {
			err := t.startCall(ctx, a.Arg) // template_form.go: asks for template values first
			if errors.Is(err, calls.ErrStartInProgress) {
				// A second click before the menu showed Start call
				// disabled: the first start goes on; nothing to show.
				t.log.Info("start call: already starting; second click ignored")
				return nil
			}
			return err
		})
	case model.ActEndOurs:
		background("End call", m.EndOurs)
	case model.ActEndAll:
		background("End all calls", m.EndAll)
	case model.ActToggleMic:
		c, _ := m.Snapshot().Call(a.Arg)
		if err := m.SetMicMuted(a.Arg, !c.MicMuted); err != nil {
			t.windows.errorNotice("Mute microphone", err)
		}
	case model.ActShowCall:
		t.windows.showCall(a.Arg)
	case model.ActShowRecent:
		t.windows.openRecent(a.Arg)
	case model.ActHistory:
		t.windows.showHistory()
	case model.ActUsage:
		t.windows.showUsage()
	case model.ActTextCall:
		if rv := t.cfg.Review; rv != nil {
			background("Start text call", func(ctx context.Context) error {
				v, err := rv.StartText(ctx, a.Arg)
				if err == nil {
					doUI(func() { t.windows.showCall(v.ID) })
				}
				return err
			})
		}
	case model.ActSettings, model.ActSetKey:
		t.windows.showSettings()
	case model.ActTryDemo:
		if t.cfg.TryDemo != nil {
			t.cfg.TryDemo()
		}
	case model.ActRecheck:
		m.Recheck()
	case model.ActQuit:
		t.Quit()
	}
}
