package paths

import (
	"errors"
	"os"
	"path/filepath"
)

// stateBase is %LOCALAPPDATA%: machine-local data that does not roam with
// the user's profile (a journal of calls on this machine must not).
func stateBase() (string, error) {
	d := os.Getenv("LOCALAPPDATA")
	if d == "" || !filepath.IsAbs(d) {
		return "", errors.New("cannot find the state directory: %LOCALAPPDATA% is not set (or set XDG_STATE_HOME)")
	}
	return d, nil
}
