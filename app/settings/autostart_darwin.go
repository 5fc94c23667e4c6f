package settings

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ultravox-tray/ultravox-tray/internal/atomicfile"
)

// LaunchAgentLabel names the per-user LaunchAgent that starts the app at
// login (launchd reads ~/Library/LaunchAgents at each login).
const LaunchAgentLabel = "io.github.ultravox-tray"

// autostartPath is ~/Library/LaunchAgents/io.github.ultravox-tray.plist.
func autostartPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory for the LaunchAgent: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", LaunchAgentLabel+".plist"), nil
}

// LaunchAgent is the property list that starts exe at login, in the Aqua
// (graphical) session only, and does not restart it when it quits.
func LaunchAgent(exe string) string {
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(exe))
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + LaunchAgentLabel + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + esc.String() + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<false/>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`
}

// SetAutostart writes (on) or removes (off) the LaunchAgent for exe.
func SetAutostart(on bool, exe string) error {
	path, err := autostartPath()
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot remove the LaunchAgent %s: %w", path, err)
		}
		return nil
	}
	if exe == "" || !filepath.IsAbs(exe) {
		return fmt.Errorf("start at login needs the absolute path of the program, got %q", exe)
	}
	if err := atomicfile.Write(path, []byte(LaunchAgent(exe)), 0o644); err != nil {
		return fmt.Errorf("cannot write the LaunchAgent: %w", err)
	}
	return nil
}

// AutostartEnabled reports whether the LaunchAgent exists.
func AutostartEnabled() bool {
	path, err := autostartPath()
	if err != nil {
		return false
	}
	_, err = os.Stat(path)
	return err == nil
}
