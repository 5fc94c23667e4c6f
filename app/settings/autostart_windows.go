package settings

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/windows/registry"
)

// runKey is the per-user Run key: Windows starts each value's command at
// login (Settings > Apps > Startup lists it and can turn it off).
const (
	runKey   = `Software\Microsoft\Windows\CurrentVersion\Run`
	runValue = "Ultravox Tray"
)

// SetAutostart writes (on) or removes (off) the Run key value for exe.
func SetAutostart(on bool, exe string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("cannot open the Run key for start at login: %w", err)
	}
	defer k.Close()
	if !on {
		if err := k.DeleteValue(runValue); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("cannot remove the start-at-login entry: %w", err)
		}
		return nil
	}
	if exe == "" || !filepath.IsAbs(exe) {
		return fmt.Errorf("start at login needs the absolute path of the program, got %q", exe)
	}
	if err := k.SetStringValue(runValue, `"`+exe+`"`); err != nil {
		return fmt.Errorf("cannot write the start-at-login entry: %w", err)
	}
	return nil
}

// AutostartEnabled reports whether the Run key value exists.
func AutostartEnabled() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	_, _, err = k.GetStringValue(runValue)
	return err == nil
}
