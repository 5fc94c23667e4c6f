package paths

import (
	"fmt"
	"os"
	"path/filepath"
)

// stateBase is ~/Library/Application Support, where macOS apps keep data
// that is theirs and not a cache.
func stateBase() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the state directory (set XDG_STATE_HOME or HOME): %w", err)
	}
	return filepath.Join(home, "Library", "Application Support"), nil
}
