package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ultravox-tray/ultravox-tray/internal/atomicfile"
)

// autostartFile is the XDG autostart entry's name.
const autostartFile = "ultravox-tray.desktop"

// autostartPath is $XDG_CONFIG_HOME/autostart/ultravox-tray.desktop
// (~/.config/autostart/... by default).
func autostartPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the user config directory for the autostart entry: %w", err)
	}
	return filepath.Join(dir, "autostart", autostartFile), nil
}

// autostartEntry is the desktop entry that starts exe at login.
func autostartEntry(exe string) string {
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=Ultravox Tray\n" +
		"Comment=Start and end Ultravox calls and see what is billing\n" +
		"Exec=" + quoteExec(exe) + "\n" +
		"Icon=ultravox-tray\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// quoteExec quotes a path for the Exec key (Desktop Entry Specification:
// reserved characters inside double quotes, with ", `, $ and \ escaped, and
// % doubled; the file format then escapes backslashes again).
func quoteExec(p string) string {
	if !strings.ContainsAny(p, " \t\n\"'\\><~|&;$*?#()`%") {
		return p
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range p {
		switch r {
		case '"', '`', '$':
			b.WriteString(`\\`)
			b.WriteRune(r)
		case '\\':
			b.WriteString(`\\\\`)
		case '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
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
