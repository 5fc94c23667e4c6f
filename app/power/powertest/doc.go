// Package powertest is a logind-shaped D-Bus service for tests (Linux): the
// test owns org.freedesktop.login1 on a private system bus
// (desktoptest.SystemBus), hands out real inhibitor file descriptors, sees
// when the code under test closes them, and emits PrepareForSleep,
// PrepareForShutdown and the session's Lock/Unlock/LockedHint.
//
// Used by app/power's tests and by the end-to-end test of the real binary
// (point the binary at the bus with DBUS_SYSTEM_BUS_ADDRESS=bus.Address and
// XDG_SESSION_ID=LogindOptions.SessionID).
package powertest
