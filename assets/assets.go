// Package assets holds the tray and application icons as embedded PNG files.
// They are drawn in code by assets/iconart; regenerate them with
//
//	go generate ./assets
package assets

//go:generate go run ./gen -out .

import (
	"embed"
	"fmt"

	"github.com/ultravox-tray/ultravox-tray/assets/iconart"
)

//go:embed *.png
var files embed.FS

// State is the overall state a tray icon shows.
type State = iconart.State

// The tray states.
const (
	Idle       = iconart.Idle
	Connecting = iconart.Connecting
	Billing    = iconart.Billing
	Ending     = iconart.Ending
	Unknown    = iconart.Unknown
)

// TraySize is the size used for the system tray: large enough for HiDPI
// panels, which scale it down.
const TraySize = 32

// Icon returns the PNG bytes of the icon for state s at size px (one of
// 16, 22, 24, 32), with the demo marker when demo is set.
func Icon(s State, size int, demo bool) ([]byte, error) {
	b, err := files.ReadFile(iconart.FileName(s, size, demo))
	if err != nil {
		return nil, fmt.Errorf("no %s icon at %d px (demo %v): %w", s, size, demo, err)
	}
	return b, nil
}

// MustIcon is Icon for the states and sizes known to exist; it panics on a
// state or size that has no asset, which the tests rule out.
func MustIcon(s State, size int, demo bool) []byte {
	b, err := Icon(s, size, demo)
	if err != nil {
		panic(err)
	}
	return b
}

// AppIcon returns the 64 px application icon as PNG bytes.
func AppIcon() []byte {
	b, err := files.ReadFile(iconart.AppIconFile)
	if err != nil {
		panic(err) // embedded at build time; the tests check it exists
	}
	return b
}
