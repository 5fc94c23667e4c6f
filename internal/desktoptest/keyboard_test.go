package desktoptest

import "testing"

// The keyboard finds XTEST and the keys for letters, capitals and Return
// on a private Xvfb.
func TestKeyboardOnXvfb(t *testing.T) {
	k := NewKeyboard(t, Xvfb(t))
	for _, sym := range []uint32{'a', 'z', '0', '-', KeyReturn} {
		if _, shift, ok := k.keycode(sym); !ok || shift {
			t.Errorf("keysym %#x: found %v, shift %v; want an unshifted key", sym, ok, shift)
		}
	}
	if _, shift, ok := k.keycode('A'); !ok || !shift || k.shiftKey == 0 {
		t.Errorf("'A': found %v, shift %v (shift key %d)", ok, shift, k.shiftKey)
	}
	if _, _, found, _, err := k.findWindow("no such window"); err != nil || found {
		t.Errorf("findWindow on an empty screen: %v, %v", found, err)
	}
	k.MoveTo(t, 10, 10)
	k.Type(t, "Ab-1")
	k.Press(t, KeyReturn)
}
