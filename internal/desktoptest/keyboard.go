package desktoptest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Keyboard types into a private X server (Xvfb) the way a user would: it
// moves the pointer and presses keys through the XTEST extension, speaking
// the X11 protocol itself (no xdotool, no X library). Without a window
// manager the keyboard focus follows the pointer, so Type reaches the
// window under the point given to MoveTo.
type Keyboard struct {
	conn     net.Conn
	xtest    byte   // XTEST major opcode
	root     uint32 // root window of screen 0
	minKey   byte
	keysyms  [][]uint32 // per keycode from minKey: the keysym columns
	shiftKey byte
}

// NewKeyboard connects to display (":N", as Xvfb returned). Closed at
// t.Cleanup.
func NewKeyboard(t testing.TB, display string) *Keyboard {
	t.Helper()
	k, err := dialKeyboard(display)
	if err != nil {
		t.Fatalf("desktoptest: keyboard on %s: %v", display, err)
	}
	t.Cleanup(func() { k.conn.Close() })
	return k
}

func dialKeyboard(display string) (*Keyboard, error) {
	num := strings.TrimPrefix(display, ":")
	if i := strings.IndexByte(num, '.'); i >= 0 {
		num = num[:i]
	}
	c, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+num, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	k := &Keyboard{conn: c}
	if err := k.setup(); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return k, nil
}

var le = binary.LittleEndian

func pad4(n int) int { return (4 - n%4) % 4 }

// setup does the connection handshake, finds XTEST and reads the keymap.
func (k *Keyboard) setup() error {
	req := []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := k.conn.Write(req); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(k.conn, head); err != nil {
		return err
	}
	more := make([]byte, int(le.Uint16(head[6:]))*4)
	if _, err := io.ReadFull(k.conn, more); err != nil {
		return err
	}
	if head[0] != 1 {
		return fmt.Errorf("the X server refused the connection: %q", strings.TrimSpace(string(more[:min(int(head[1]), len(more))])))
	}
	vlen, nformats := int(le.Uint16(more[16:])), int(more[21])
	k.minKey, _ = more[26], more[27]
	maxKey := more[27]
	screens := 32 + vlen + pad4(vlen) + 8*nformats
	k.root = le.Uint32(more[screens:])

	// QueryExtension "XTEST".
	name := "XTEST"
	q := make([]byte, 8+len(name)+pad4(len(name)))
	q[0] = 98
	le.PutUint16(q[2:], uint16(len(q)/4))
	le.PutUint16(q[4:], uint16(len(name)))
	copy(q[8:], name)
	rep, err := k.request(q)
	if err != nil {
		return err
	}
	if rep[8] == 0 {
		return fmt.Errorf("the X server has no XTEST extension")
	}
	k.xtest = rep[9]

	// GetKeyboardMapping for every keycode.
	count := int(maxKey) - int(k.minKey) + 1
	g := []byte{101, 0, 2, 0, k.minKey, byte(count), 0, 0}
	rep, err = k.request(g)
	if err != nil {
		return err
	}
	per := int(rep[1])
	syms := rep[32:]
	for i := 0; i < count; i++ {
		row := make([]uint32, per)
		for j := 0; j < per; j++ {
			row[j] = le.Uint32(syms[(i*per+j)*4:])
		}
		k.keysyms = append(k.keysyms, row)
		if per > 0 && row[0] == 0xffe1 && k.shiftKey == 0 { // Shift_L
			k.shiftKey = k.minKey + byte(i)
		}
	}
	return nil
}

// request sends req and reads its reply (32 bytes plus the extra length).
func (k *Keyboard) request(req []byte) ([]byte, error) {
	if _, err := k.conn.Write(req); err != nil {
		return nil, err
	}
	for {
		head := make([]byte, 32)
		if _, err := io.ReadFull(k.conn, head); err != nil {
			return nil, err
		}
		switch head[0] {
		case 0:
			return nil, fmt.Errorf("X error %d for request %d", head[1], req[0])
		case 1:
			extra := make([]byte, int(le.Uint32(head[4:]))*4)
			if _, err := io.ReadFull(k.conn, extra); err != nil {
				return nil, err
			}
			return append(head, extra...), nil
		}
		// An event: ignore it.
	}
}

// fake sends one XTestFakeInput event: type 2 KeyPress, 3 KeyRelease,
// 6 MotionNotify (absolute, at x, y).
func (k *Keyboard) fake(typ, detail byte, x, y int16) error {
	b := make([]byte, 36)
	b[0], b[1] = k.xtest, 2
	le.PutUint16(b[2:], 9)
	b[4], b[5] = typ, detail
	le.PutUint32(b[12:], k.root)
	le.PutUint16(b[24:], uint16(x))
	le.PutUint16(b[26:], uint16(y))
	_, err := k.conn.Write(b)
	return err
}

// sync waits until the server has handled everything sent so far
// (GetInputFocus round trip).
func (k *Keyboard) sync() error {
	k.conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer k.conn.SetDeadline(time.Time{})
	_, err := k.request([]byte{43, 0, 1, 0})
	return err
}

// MoveTo moves the pointer to x, y on screen 0 (the keyboard focus follows
// it: the window there gets the keys).
func (k *Keyboard) MoveTo(t testing.TB, x, y int) {
	t.Helper()
	// SetInputFocus(PointerRoot, revert to PointerRoot, CurrentTime).
	f := []byte{42, 1, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0}
	if _, err := k.conn.Write(f); err != nil {
		t.Fatalf("desktoptest: set input focus: %v", err)
	}
	if err := k.fake(6, 0, int16(x), int16(y)); err != nil {
		t.Fatalf("desktoptest: move pointer: %v", err)
	}
	if err := k.sync(); err != nil {
		t.Fatalf("desktoptest: move pointer: %v", err)
	}
}

// keycode finds the key for keysym and whether it needs Shift.
func (k *Keyboard) keycode(sym uint32) (code byte, shift bool, ok bool) {
	for col := 0; col < 2; col++ {
		for i, row := range k.keysyms {
			if col < len(row) && row[col] == sym {
				return k.minKey + byte(i), col == 1, true
			}
		}
	}
	return 0, false, false
}

// Key names Press knows besides printable ASCII.
const (
	KeyReturn = 0xff0d
	KeyTab    = 0xff09
)

// Press presses and releases the key for keysym (ASCII characters are
// their own keysyms), with Shift when the keymap needs it.
func (k *Keyboard) Press(t testing.TB, sym uint32) {
	t.Helper()
	code, shift, ok := k.keycode(sym)
	if !ok {
		t.Fatalf("desktoptest: no key for keysym %#x in the X server's keymap", sym)
	}
	var err error
	step := func(typ, detail byte) {
		if err == nil {
			err = k.fake(typ, detail, 0, 0)
		}
	}
	if shift {
		step(2, k.shiftKey)
	}
	step(2, code)
	step(3, code)
	if shift {
		step(3, k.shiftKey)
	}
	if err == nil {
		err = k.sync()
	}
	if err != nil {
		t.Fatalf("desktoptest: press %#x: %v", sym, err)
	}
	time.Sleep(20 * time.Millisecond) // let the app read each key in turn
}

// Type presses the keys for text (printable ASCII).
func (k *Keyboard) Type(t testing.TB, text string) {
	t.Helper()
	for _, r := range text {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("desktoptest: Type supports printable ASCII only, got %q", r)
		}
		k.Press(t, uint32(r))
	}
}

// WindowCenter waits until a top-level window titled title (WM_NAME) is
// mapped on screen 0 and returns the middle of it, for MoveTo.
func (k *Keyboard) WindowCenter(t testing.TB, title string, timeout time.Duration) (x, y int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var seen []string
	for {
		x, y, found, names, err := k.findWindow(title)
		if err != nil {
			t.Fatalf("desktoptest: find window %q: %v", title, err)
		}
		if found {
			return x, y
		}
		seen = names
		if time.Now().After(deadline) {
			t.Fatalf("desktoptest: no window %q within %s; windows: %q", title, timeout, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (k *Keyboard) findWindow(title string) (x, y int, found bool, names []string, err error) {
	k.conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer k.conn.SetDeadline(time.Time{})
	q := make([]byte, 8)
	q[0] = 15 // QueryTree
	le.PutUint16(q[2:], 2)
	le.PutUint32(q[4:], k.root)
	rep, err := k.request(q)
	if err != nil {
		return 0, 0, false, nil, err
	}
	n := int(le.Uint16(rep[16:]))
	for i := 0; i < n; i++ {
		win := le.Uint32(rep[32+4*i:])
		p := make([]byte, 24)
		p[0] = 20 // GetProperty WM_NAME, any type
		le.PutUint16(p[2:], 6)
		le.PutUint32(p[4:], win)
		le.PutUint32(p[8:], 39) // WM_NAME
		le.PutUint32(p[20:], 256)
		pr, err := k.request(p)
		if err != nil {
			continue // the window went away meanwhile
		}
		vlen := int(le.Uint32(pr[16:])) * int(pr[1]) / 8
		name := string(pr[32 : 32+min(vlen, len(pr)-32)])
		if name == "" {
			continue
		}
		names = append(names, name)
		if name != title {
			continue
		}
		g := make([]byte, 8)
		g[0] = 14 // GetGeometry
		le.PutUint16(g[2:], 2)
		le.PutUint32(g[4:], win)
		gr, err := k.request(g)
		if err != nil {
			continue
		}
		// Only a mapped window is worth typing into: GetWindowAttributes.
		a := make([]byte, 8)
		a[0] = 3
		le.PutUint16(a[2:], 2)
		le.PutUint32(a[4:], win)
		ar, err := k.request(a)
		if err != nil || ar[26] != 2 { // map-state Viewable
			continue
		}
		wx, wy := int(int16(le.Uint16(gr[12:]))), int(int16(le.Uint16(gr[14:])))
		w, h := int(le.Uint16(gr[16:])), int(le.Uint16(gr[18:]))
		return wx + w/2, wy + h/2, true, names, nil
	}
	return 0, 0, false, names, nil
}
