package ui

import "sync/atomic"

// trayFrozen stops every tray update (icon, menu, tooltip) while set.
var trayFrozen atomic.Bool

// FreezeTray stops (on) or resumes tray updates. Windows: between
// WM_QUERYENDSESSION and WM_ENDSESSION nothing may call Shell_NotifyIconW,
// because fyne.io/systray holds its lock across that call while the
// re-entrant WM_ENDSESSION handler on the same thread takes the same lock:
// the shutdown would hang.
func FreezeTray(on bool) { trayFrozen.Store(on) }
