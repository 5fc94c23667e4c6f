// Package paths says where the app keeps its state (the call journal, the
// single-instance lock) on each OS: $XDG_STATE_HOME or ~/.local/state on
// Linux and BSD, %LOCALAPPDATA% on Windows, ~/Library/Application Support
// on macOS. Settings use os.UserConfigDir, which already follows each OS
// (XDG_CONFIG_HOME, %APPDATA%, ~/Library/Application Support).
//
// It must not import other packages of this module.
package paths

import (
	"fmt"
	"os"
	"path/filepath"
)

// App is the directory name under each base directory.
const App = "ultravox-tray"

// StateDir is the app's state directory. XDG_STATE_HOME, when set, wins on
// every OS (tests and portable setups point it elsewhere); it must be
// absolute.
func StateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("XDG_STATE_HOME must be an absolute path, got %q", d)
		}
		return filepath.Join(d, App), nil
	}
	base, err := stateBase()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, App), nil
}
