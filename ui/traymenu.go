package ui

import (
	"strings"

	"fyne.io/systray"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// useNativeMenu makes the tray keep its own fyne.io/systray items (see
// nativeMenu). The package's tests, which run on Fyne's test driver with no
// system tray, turn it off and read the *fyne.Menu given to the app instead.
var useNativeMenu = true

// nativeMenu shows the tray menu through fyne.io/systray items that the tray
// keeps, so that a change of labels, enabled or checked updates the items in
// place and they keep their dbusmenu ids.
//
// Fyne 2.7.4's SetSystemTrayMenu (and Menu.Refresh, which calls it) resets
// the systray menu and creates every item again with a new id, so a click
// the tray host sends for an item it read before the rebuild is dropped
// ("systray error: no menu item with ID 68"). The menu is therefore given
// to Fyne once, to start the tray; after that the tray builds the items
// itself, and builds them again only when the menu's shape changes.
//
// Fyne re-applies its first menu when the StatusNotifierItem becomes ready,
// which removes our items; their click channels close, and the tray builds
// its current menu again (rebuildIfLost). Main goroutine only.
type nativeMenu struct {
	t     *Tray
	items []*nativeItem
	shape string
	gen   uint64 // counts builds; a closed channel of an older build is ours
	cur   []model.Item
}

// nativeItem is one systray item and the model item it shows now.
type nativeItem struct {
	it   model.Item
	sys  *systray.MenuItem // nil for a separator
	kids []*nativeItem
}

// menuShape is what cannot change in place: the items' order and kinds,
// separators, submenus and which items have a checkbox.
func menuShape(items []model.Item) string {
	var b strings.Builder
	var walk func([]model.Item)
	walk = func(items []model.Item) {
		for _, it := range items {
			switch {
			case it.Separator:
				b.WriteByte('-')
			case it.Checkable:
				b.WriteByte('c')
			default:
				b.WriteByte('i')
			}
			if len(it.Children) > 0 {
				b.WriteByte('[')
				walk(it.Children)
				b.WriteByte(']')
			}
		}
	}
	walk(items)
	return b.String()
}

// show makes the tray's menu show items: in place when the shape is the
// same, else by building it again.
func (n *nativeMenu) show(items []model.Item) {
	n.cur = items
	if shape := menuShape(items); n.items != nil && shape == n.shape {
		n.update(n.items, items)
		return
	}
	n.build()
}

// build replaces every systray item by new ones for n.cur.
func (n *nativeMenu) build() {
	n.gen++
	systray.ResetMenu()
	n.shape = menuShape(n.cur)
	n.items = n.add(n.cur, nil, n.gen)
}

func (n *nativeMenu) add(items []model.Item, parent *systray.MenuItem, gen uint64) []*nativeItem {
	out := make([]*nativeItem, 0, len(items))
	for _, it := range items {
		ni := &nativeItem{it: it}
		out = append(out, ni)
		if it.Separator {
			if parent != nil {
				parent.AddSeparator()
			} else {
				systray.AddSeparator()
			}
			continue
		}
		switch {
		case parent != nil && it.Checkable:
			ni.sys = parent.AddSubMenuItemCheckbox(it.Label, "", it.Checked)
		case parent != nil:
			ni.sys = parent.AddSubMenuItem(it.Label, "")
		case it.Checkable:
			ni.sys = systray.AddMenuItemCheckbox(it.Label, "", it.Checked)
		default:
			ni.sys = systray.AddMenuItem(it.Label, "")
		}
		if !it.Enabled {
			ni.sys.Disable()
		}
		if len(it.Children) > 0 {
			ni.kids = n.add(it.Children, ni.sys, gen)
		}
		go n.listen(ni, gen)
	}
	return out
}

// listen passes ni's clicks to the main goroutine. Its channel closes when
// the item is removed: by our own build (an older gen), or by Fyne
// re-applying its first menu, after which ours must be built again.
func (n *nativeMenu) listen(ni *nativeItem, gen uint64) {
	for range ni.sys.ClickedCh {
		doUI(func() {
			// The action the item shows now: an in-place update may have
			// changed it since the host read the menu.
			if gen == n.gen && len(ni.it.Children) == 0 {
				n.t.do(ni.it.Action)
			}
		})
	}
	doUI(func() { n.rebuildIfLost(gen) })
}

// rebuildIfLost builds the menu again if the build gen's items were removed
// by someone else (Fyne).
func (n *nativeMenu) rebuildIfLost(gen uint64) {
	if gen != n.gen {
		return
	}
	n.t.log.Debug("tray menu items were replaced by the driver; building ours again")
	n.build()
}

// update changes the items of the same shape in place; systray sends the
// host ItemsPropertiesUpdated for each item that changed, with its old id.
func (n *nativeMenu) update(have []*nativeItem, want []model.Item) {
	for i, ni := range have {
		w, old := want[i], ni.it
		ni.it = w
		if ni.sys == nil {
			continue
		}
		if w.Label != old.Label {
			ni.sys.SetTitle(w.Label)
		}
		if w.Enabled != old.Enabled {
			if w.Enabled {
				ni.sys.Enable()
			} else {
				ni.sys.Disable()
			}
		}
		if w.Checkable && w.Checked != old.Checked {
			if w.Checked {
				ni.sys.Check()
			} else {
				ni.sys.Uncheck()
			}
		}
		if len(ni.kids) > 0 {
			n.update(ni.kids, w.Children)
		}
	}
}
