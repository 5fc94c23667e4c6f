package power

// Options configure Open. The zero value is right for the real app.
type Options struct {
	// SystemBusAddress (Linux) is the D-Bus system bus where logind lives.
	// Empty: DBUS_SYSTEM_BUS_ADDRESS, else the standard socket. When set
	// explicitly and unreachable, Open fails; otherwise Open logs and goes on
	// without logind.
	SystemBusAddress string
	// SessionBusAddress (Linux) is where the ScreenSaver signals are watched.
	// Empty: DBUS_SESSION_BUS_ADDRESS; when that is unset too, the screen
	// saver is not watched (connecting would launch a stray dbus-launch).
	SessionBusAddress string
	// SessionID (Linux) is our logind session, for Lock/Unlock/LockedHint.
	// Empty: XDG_SESSION_ID, else the session of this process's PID.
	SessionID string

	// Who and Why are shown by `systemd-inhibit --list` for our delay lock.
	// Defaults: "Ultravox Tray", "Ending the live call before sleep".
	Who, Why string

	// ClockJump configures the clock-jump detector that runs on every OS.
	ClockJump ClockJumpOptions
	// NoClockJump turns the detector off (tests of one signal source).
	NoClockJump bool

	// Logf receives one line per problem (bus absent, lock refused...).
	Logf Logf
}

const (
	defaultWho = "Ultravox Tray"
	defaultWhy = "Ending the live call before sleep"
)

func (o *Options) defaults() {
	if o.Who == "" {
		o.Who = defaultWho
	}
	if o.Why == "" {
		o.Why = defaultWhy
	}
	if o.ClockJump.Logf == nil {
		o.ClockJump.Logf = o.Logf
	}
}

// withClockJump merges the clock-jump detector into the OS sources unless
// it is turned off.
func withClockJump(opts Options, srcs ...Source) Source {
	if !opts.NoClockJump {
		srcs = append(srcs, newClockJump(opts.ClockJump))
	}
	return Merge(srcs...)
}
