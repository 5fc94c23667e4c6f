//go:build !windows && !darwin

package paths

import (
	"fmt"
	"os"
	"path/filepath"
)

// stateBase is ~/.local/state (the XDG Base Directory default).
func stateBase() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the state directory (set XDG_STATE_HOME or HOME): %w", err)
	}
	return filepath.Join(home, ".local", "state"), nil
}
