package desktoptest

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	sniIface  = "org.kde.StatusNotifierItem"
	menuIface = "com.canonical.dbusmenu"
	// callTimeout bounds every D-Bus call the tray helpers make.
	callTimeout = 5 * time.Second
)

// Tray drives a StatusNotifierItem with a dbusmenu (what fyne.io/systray
// exports on Linux) over D-Bus, as a tray host would.
type Tray struct {
	Conn    *dbus.Conn
	BusName string          // e.g. from Watcher.WaitItem
	Path    dbus.ObjectPath // the item's path; DefaultItemPath when empty
}

// MenuItem is one dbusmenu item with the properties a tray host shows.
type MenuItem struct {
	ID      int32
	Label   string
	Enabled bool // "enabled", default true
	Visible bool // "visible", default true
	// Type is "separator" for separators, "" (standard) otherwise.
	Type string
	// ToggleType is "checkmark", "radio" or ""; ToggleState is 1 on, 0 off,
	// -1 indeterminate.
	ToggleType  string
	ToggleState int
	// ChildrenDisplay is "submenu" when the item opens a submenu.
	ChildrenDisplay string
	Children        []MenuItem
}

func (tr *Tray) itemPath() dbus.ObjectPath {
	if tr.Path == "" {
		return DefaultItemPath
	}
	return tr.Path
}

func (tr *Tray) prop(name string) (dbus.Variant, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var v dbus.Variant
	err := tr.Conn.Object(tr.BusName, tr.itemPath()).CallWithContext(ctx,
		"org.freedesktop.DBus.Properties.Get", 0, sniIface, name).Store(&v)
	if err != nil {
		return v, fmt.Errorf("read %s.%s of %s: %w", sniIface, name, tr.BusName, err)
	}
	return v, nil
}

// MenuPath reads the item's Menu property (the dbusmenu object path).
func (tr *Tray) MenuPath() (dbus.ObjectPath, error) {
	v, err := tr.prop("Menu")
	if err != nil {
		return "", err
	}
	p, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		return "", fmt.Errorf("Menu property of %s is %s, not an object path", tr.BusName, v.Signature())
	}
	return p, nil
}

// Layout returns the whole menu tree (GetLayout(0, -1, [])); the root's
// children are the top-level items. fyne.io/systray answers its first
// GetLayout with one level only, so Layout asks again when a submenu comes
// back without children.
func (tr *Tray) Layout() (MenuItem, error) {
	root, err := tr.layoutOnce()
	if err != nil || !missingChildren(root) {
		return root, err
	}
	return tr.layoutOnce()
}

func missingChildren(m MenuItem) bool {
	if m.ChildrenDisplay == "submenu" && len(m.Children) == 0 {
		return true
	}
	for _, c := range m.Children {
		if missingChildren(c) {
			return true
		}
	}
	return false
}

func (tr *Tray) layoutOnce() (MenuItem, error) {
	path, err := tr.MenuPath()
	if err != nil {
		return MenuItem{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	call := tr.Conn.Object(tr.BusName, path).CallWithContext(ctx, menuIface+".GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		return MenuItem{}, fmt.Errorf("GetLayout on %s%s: %w", tr.BusName, path, call.Err)
	}
	if len(call.Body) != 2 {
		return MenuItem{}, fmt.Errorf("GetLayout on %s%s returned %d values, want 2", tr.BusName, path, len(call.Body))
	}
	return parseLayout(call.Body[1])
}

// parseLayout turns a dbusmenu (ia{sv}av) value into a MenuItem.
func parseLayout(v any) (MenuItem, error) {
	if vv, ok := v.(dbus.Variant); ok {
		v = vv.Value()
	}
	fields, ok := v.([]any)
	if !ok || len(fields) != 3 {
		return MenuItem{}, fmt.Errorf("menu layout is %T, want (ia{sv}av)", v)
	}
	id, ok1 := fields[0].(int32)
	props, ok2 := fields[1].(map[string]dbus.Variant)
	kids, ok3 := fields[2].([]dbus.Variant)
	if !ok1 || !ok2 || !ok3 {
		return MenuItem{}, fmt.Errorf("menu layout has types (%T, %T, %T), want (int32, a{sv}, av)", fields[0], fields[1], fields[2])
	}
	m := MenuItem{ID: id, Enabled: true, Visible: true}
	for k, pv := range props {
		switch k {
		case "label":
			m.Label, _ = pv.Value().(string)
		case "enabled":
			m.Enabled, _ = pv.Value().(bool)
		case "visible":
			m.Visible, _ = pv.Value().(bool)
		case "type":
			m.Type, _ = pv.Value().(string)
			if m.Type == "standard" {
				m.Type = ""
			}
		case "toggle-type":
			m.ToggleType, _ = pv.Value().(string)
		case "toggle-state":
			m.ToggleState = toInt(pv.Value())
		case "children-display":
			m.ChildrenDisplay, _ = pv.Value().(string)
		}
	}
	for _, k := range kids {
		c, err := parseLayout(k)
		if err != nil {
			return MenuItem{}, err
		}
		m.Children = append(m.Children, c)
	}
	return m, nil
}

func toInt(v any) int {
	switch x := v.(type) {
	case int32:
		return int(x)
	case int64:
		return int(x)
	case int:
		return x
	case uint32:
		return int(x)
	case int16:
		return int(x)
	case byte:
		return int(x)
	}
	return 0
}

// Find returns the first visible item (depth first, in menu order) whose
// label starts with prefix.
func (m MenuItem) Find(prefix string) (MenuItem, bool) {
	for _, c := range m.Children {
		if !c.Visible || c.Type == "separator" {
			continue
		}
		if strings.HasPrefix(c.Label, prefix) {
			return c, true
		}
		if f, ok := c.Find(prefix); ok {
			return f, true
		}
	}
	return MenuItem{}, false
}

// Labels lists the visible labels of m's children (separators as "---"),
// for messages.
func (m MenuItem) Labels() []string {
	var out []string
	for _, c := range m.Children {
		switch {
		case !c.Visible:
		case c.Type == "separator":
			out = append(out, "---")
		default:
			out = append(out, c.Label)
		}
	}
	return out
}

// FindLabelPrefix reads the menu now and returns the first visible item whose
// label starts with prefix. Item ids change when the menu is rebuilt: find
// items again before each use.
func (tr *Tray) FindLabelPrefix(prefix string) (MenuItem, error) {
	root, err := tr.Layout()
	if err != nil {
		return MenuItem{}, err
	}
	if it, ok := root.Find(prefix); ok {
		return it, nil
	}
	return MenuItem{}, fmt.Errorf("no menu item starting with %q; the menu has %q", prefix, root.Labels())
}

// Click finds the first visible item whose label starts with prefix and sends
// it dbusmenu Event(id, "clicked", <int32 0>, 0), as a tray host does. It
// fails for a disabled item (a host would not let the user click it).
func (tr *Tray) Click(prefix string) error {
	it, err := tr.FindLabelPrefix(prefix)
	if err != nil {
		return err
	}
	if !it.Enabled {
		return fmt.Errorf("menu item %q is disabled", it.Label)
	}
	path, err := tr.MenuPath()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	call := tr.Conn.Object(tr.BusName, path).CallWithContext(ctx, menuIface+".Event", 0,
		it.ID, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix()))
	if call.Err != nil {
		// An app that exits on this click (Quit) may close its connection
		// before its reply goes out: the click was delivered, and the bus
		// says the item is gone. Anything else is a failed click.
		var de dbus.Error
		if errors.As(call.Err, &de) && de.Name == "org.freedesktop.DBus.Error.NoReply" && !tr.hasOwner() {
			return nil
		}
		return fmt.Errorf("click %q: %w", it.Label, call.Err)
	}
	return nil
}

// hasOwner reports whether the item's bus name is still on the bus.
func (tr *Tray) hasOwner() bool {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var has bool
	err := tr.Conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, tr.BusName).Store(&has)
	return err != nil || has
}

// Tooltip reads the ToolTip property (sa(iiay)ss) and returns its title and
// text (description).
func (tr *Tray) Tooltip() (title, text string, err error) {
	v, err := tr.prop("ToolTip")
	if err != nil {
		return "", "", err
	}
	fields, ok := v.Value().([]any)
	if !ok || len(fields) != 4 {
		return "", "", fmt.Errorf("ToolTip of %s is %s, want (sa(iiay)ss)", tr.BusName, v.Signature())
	}
	title, _ = fields[2].(string)
	text, _ = fields[3].(string)
	return title, text, nil
}

// Title reads the Title property.
func (tr *Tray) Title() (string, error) {
	v, err := tr.prop("Title")
	if err != nil {
		return "", err
	}
	s, ok := v.Value().(string)
	if !ok {
		return "", fmt.Errorf("Title of %s is %s, not a string", tr.BusName, v.Signature())
	}
	return s, nil
}

// IconPixmap reads IconPixmap (a(iiay)) and returns the largest pixmap:
// width, height and ARGB32 bytes in network (big-endian) order.
func (tr *Tray) IconPixmap() (w, h int, argb []byte, err error) {
	v, err := tr.prop("IconPixmap")
	if err != nil {
		return 0, 0, nil, err
	}
	list, ok := v.Value().([][]any)
	if !ok {
		return 0, 0, nil, fmt.Errorf("IconPixmap of %s is %s, want a(iiay)", tr.BusName, v.Signature())
	}
	for _, px := range list {
		if len(px) != 3 {
			continue
		}
		pw, _ := px[0].(int32)
		ph, _ := px[1].(int32)
		data, _ := px[2].([]byte)
		if int(pw)*int(ph) > w*h && len(data) == int(pw)*int(ph)*4 {
			w, h, argb = int(pw), int(ph), data
		}
	}
	if argb == nil {
		return 0, 0, nil, fmt.Errorf("IconPixmap of %s has no usable pixmap (%d entries)", tr.BusName, len(list))
	}
	return w, h, argb, nil
}

// Icon returns the largest IconPixmap as an image.
func (tr *Tray) Icon() (image.Image, error) {
	w, h, argb, err := tr.IconPixmap()
	if err != nil {
		return nil, err
	}
	return ARGBImage(w, h, argb), nil
}

// ARGBImage converts w x h ARGB32 big-endian pixels (the StatusNotifierItem
// pixmap format) to an image.
func ARGBImage(w, h int, argb []byte) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i+3 < len(argb) && i/4 < w*h; i += 4 {
		x, y := (i/4)%w, (i/4)/w
		img.SetNRGBA(x, y, color.NRGBA{R: argb[i+1], G: argb[i+2], B: argb[i+3], A: argb[i]})
	}
	return img
}

// WaitFor polls pred (every 50 ms) until it returns true, failing the test
// after timeout with the last error pred reported and the current tooltip
// and menu.
func (tr *Tray) WaitFor(t testing.TB, pred func(tr *Tray) (bool, error), timeout time.Duration) {
	t.Helper()
	var last error
	deadline := time.Now().Add(timeout)
	for {
		ok, err := pred(tr)
		if ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	title, text, terr := tr.Tooltip()
	root, lerr := tr.Layout()
	t.Fatalf("desktoptest: tray condition not met within %s (last error: %v); tooltip %q %q (%v); menu %q (%v)",
		timeout, last, title, text, terr, root.Labels(), lerr)
}
