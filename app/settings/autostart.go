//go:build !windows && !darwin

package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ultravox-tray/ultravox-tray/internal/atomicfile"
)

// autostartPath is $XDG_CONFIG_HOME/autostart/ultravox-tray.desktop
// (~/.config/autostart/... by default).
func autostartPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the user config directory for the autostart entry: %w", err)
	}
	return filepath.Join(dir, "autostart", autostartFile), nil
}

// SetAutostart writes (on) or removes (off) the autostart entry for exe.
func SetAutostart(on bool, exe string) error {
	path, err := autostartPath()
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot remove the autostart entry %s: %w", path, err)
		}
		return nil
	}
	if exe == "" || !filepath.IsAbs(exe) {
		return fmt.Errorf("start at login needs the absolute path of the program, got %q", exe)
	}
	if err := atomicfile.Write(path, []byte(autostartEntry(exe)), 0o644); err != nil {
		return fmt.Errorf("cannot write the autostart entry: %w", err)
	}
	return nil
}

// AutostartEnabled reports whether the autostart entry exists.
func AutostartEnabled() bool {
	path, err := autostartPath()
	if err != nil {
		return false
	}
	_, err = os.Stat(path)
	return err == nil
}
