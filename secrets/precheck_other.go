//go:build !linux

package secrets

// sessionBusPrecheck has nothing to check where the keychain is not on D-Bus.
func sessionBusPrecheck() error { return nil }
