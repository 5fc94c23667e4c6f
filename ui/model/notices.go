package model

// LabelClose is the button that closes a window.
const LabelClose = "Close"

// Notice is a small window that tells the user something and offers Close.
type Notice struct {
	Title, Text string
}

// Failed is the notice for an action (a menu click, a button) that did not
// work: the error's own words, which name what to do.
func Failed(what string, err error) Notice {
	return Notice{Title: what + " failed", Text: err.Error()}
}

// NoTrayText tells the user why no icon appears.
const NoTrayText = "Ultravox Tray is running, but your desktop has no system tray " +
	"(no StatusNotifierWatcher on the session bus), so its icon cannot be shown.\n\n" +
	"On GNOME, install and enable the \"AppIndicator and KStatusNotifierItem Support\" extension; " +
	"other desktops need a status tray/notifier area in the panel. The app keeps running and " +
	"shows its icon as soon as a tray appears. Quit ends any live call first."

// TrayFoundText replaces NoTrayText once a tray host appears.
const TrayFoundText = "A system tray is available now: the Ultravox Tray icon is in your panel."

// The no-tray window before and after a tray host appears.
var (
	NoTray    = Notice{Title: "Ultravox Tray: no system tray", Text: NoTrayText}
	TrayFound = Notice{Title: "Ultravox Tray: system tray found", Text: TrayFoundText + " This window closes by itself."}
)

// QuittingTooltip replaces the tooltip while Quit ends the calls.
const QuittingTooltip = "Quitting: ending calls…"

// TrayTitle is what the tray shows as its title (next to the icon, where the
// host supports it) for a View's Title.
func TrayTitle(title string) string { return "Ultravox: " + title }
