//go:build !windows && !darwin

package notify

// newBackend is the freedesktop D-Bus service: it replaces a call's earlier
// notice and knows urgency, which beeep's Linux path does not.
func newBackend() (Sender, func() error, error) {
	d, err := NewDBus()
	if err != nil {
		return nil, nil, err
	}
	return d, d.Close, nil
}
