package settings

import "strings"

// autostartFile is the XDG autostart entry's name.
const autostartFile = "ultravox-tray.desktop"

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
