// Package desktoptest starts the real desktop parts that Ultravox Tray's tests
// talk to: private D-Bus buses, Xvfb, gnome-keyring, PulseAudio, and test-owned
// D-Bus services (a notification server, a StatusNotifierWatcher) plus helpers
// that drive a StatusNotifierItem/dbusmenu tray over D-Bus.
//
// Every part is private to the test that asks for it: its own process (in its
// own process group), its own sockets in its own temporary directory. Each is
// stopped with SIGTERM (then SIGKILL) on the whole process group at t.Cleanup,
// and its directory is removed. Nothing touches the developer's desktop as
// long as the test passes the returned addresses on explicitly.
//
// When a binary is missing the test is skipped, or fails instead when CI=true
// or UVT_REQUIRE_DESKTOP=1 (see Need).
//
// # Environment a test must set
//
//   - godbus caches the process-wide session bus (dbus.SessionBus) and the
//     system bus (dbus.SystemBus) on first use. In-process code under test that
//     calls them must see DBUS_SESSION_BUS_ADDRESS / DBUS_SYSTEM_BUS_ADDRESS set
//     (t.Setenv(..., bus.Address)) before its first connection, and only one
//     such test per process can win. Prefer code that takes an explicit
//     *dbus.Conn or address; use Bus.Conn for the test's own side.
//   - Child processes get their environment explicitly: see Bus.Env,
//     Pulse.Env, and DISPLAY=Xvfb(t).
//   - go-keyring talks to the session bus through dbus.SessionBus, so an
//     in-process keychain test needs DBUS_SESSION_BUS_ADDRESS set to the bus
//     passed to Keyring before the first keychain call, or the code under test
//     must take an explicit bus. A test can also re-run its own binary as a
//     subprocess with a fresh environment (see the secrets package's tests).
//
// If UVT_DESKTOPTEST_PIDFILE names a file, every started daemon appends a line
// "pid starttime name" to it, so a test runner can sweep strays after a crash
// (scripts/test.sh does).
package desktoptest
