package ui

import (
	"slices"
	"strconv"

	"fyne.io/systray"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// useNativeMenu makes the tray keep its own fyne.io/systray items (see
// nativeMenu). The package's tests, which run on Fyne's test driver with no
// system tray, turn it off and read the *fyne.Menu given to the app instead.
var useNativeMenu = true

// nativeMenu shows the tray menu through fyne.io/systray items that the tray
// keeps, so that a menu item keeps its dbusmenu id while the menu changes.
//
// Fyne 2.7.4's SetSystemTrayMenu (and Menu.Refresh, which calls it) resets
// the systray menu and creates every item again with a new id, so a click
// the tray host sends for an item it read before the rebuild is dropped
// ("systray error: no menu item with ID 68"). The menu is therefore given
// to Fyne once, to start the tray; after that the tray keeps the items:
//
//   - a change of label, enabled or checked updates an item in place;
//   - an item that goes away (a note, "Check now") is hidden, not removed,
//     and shown again, with its old id, when it comes back;
//   - a new item in a section of the menu (a call's notes under the status
//     line, "Check now") takes one of the hidden spare slots each section
//     ends with;
//   - new items at the end of a submenu (Recent calls, the agents) are
//     appended, and the others keep their ids.
//
// Only a change the slots cannot take (more new items in a section than it
// has spares, a new separator, a new item before older ones in a
// submenu) builds all items again (systray can append but not insert): the
// new set then holds the old items as well as the new, hidden where unused,
// so the same change back and forth builds once.
//
// Fyne re-applies its first menu when the StatusNotifierItem becomes ready,
// which removes our items; their click channels close, and the tray builds
// its current menu again (rebuildIfLost). Main goroutine only.
type nativeMenu struct {
	t     *Tray
	items []*nativeItem
	gen   uint64 // counts builds; a closed channel of an older build is ours
	cur   []model.Item
	dry   bool // tests: keep the slots, make no systray items
}

// nativeItem is one systray item (a slot) and the model item it shows now.
type nativeItem struct {
	key   string // itemKey: what an item may change in place
	it    model.Item
	shown bool
	sys   *systray.MenuItem // nil for a separator, and before it is built
	kids  []*nativeItem
}

// itemKey says which slot can show an item: one of the same kind (action,
// separator, checkbox). Labels, enabled, checked, the action's argument and
// the items of a submenu change in place (an item that gains a submenu
// becomes one on every platform systray supports).
func itemKey(it model.Item) string {
	if it.Separator {
		return "-"
	}
	k := strconv.Itoa(int(it.Action.Kind))
	if it.Checkable {
		k += "c"
	}
	return k
}

// spareKey marks a spare slot: hidden until an item with no slot of its
// kind in the section needs one; it can show any item but a separator or a
// checkbox (systray makes an item a checkbox when it creates it).
const spareKey = "*"

// sparesPerSection is how many spare slots end each section of the menu
// but the last (which may grow at its end): enough for the status line's
// notes of a call and "Check now".
const sparesPerSection = 4

// maxSlots bounds the hidden slots a menu keeps, spares aside: past it, a
// build starts again from the menu as it is now.
func maxSlots(want []model.Item) int { return 2*len(want) + 8 }

// slotCount counts sl's slots but the spares.
func slotCount(sl []*nativeItem) (n int) {
	for _, ni := range sl {
		if ni.key != spareKey {
			n++
		}
	}
	return n
}

// show makes the tray's menu show items: in place when the items fit the
// slots there are, else by building them again.
func (n *nativeMenu) show(items []model.Item) {
	n.cur = items
	if n.items != nil {
		if at, ok := fit(n.items, items); ok && slotCount(n.items)+appended(at) <= maxSlots(items) {
			n.items = n.apply(n.items, items, at, nil)
			return
		}
	}
	n.build(slots(n.items, items))
}

// fit places want on the slots of have, in order: at[i] is want[i]'s slot,
// or -1 for an item to append after the last slot. Each item takes a slot
// of its kind in the same section (between separators), else a spare
// there; the slots it passes are hidden. It fails where that cannot be
// done in place: a new item with no slot or spare in its section, unless
// it is in the last section (then it and the rest are appended), a
// separator that would have to be hidden or appended (systray hides only
// items), or a submenu whose items do not fit.
func fit(have []*nativeItem, want []model.Item) (at []int, ok bool) {
	at = make([]int, len(want))
	j := 0
	for i, w := range want {
		x := slotFor(have, j, w)
		if x < 0 {
			if hasSeparator(have[j:]) {
				return nil, false
			}
			for r := i; r < len(want); r++ {
				if want[r].Separator {
					return nil, false
				}
				at[r] = -1
			}
			return at, true
		}
		if len(w.Children) > 0 {
			if _, ok := fit(have[x].kids, w.Children); !ok {
				return nil, false
			}
		}
		at[i] = x
		j = x + 1
	}
	if hasSeparator(have[j:]) {
		return nil, false
	}
	return at, true
}

// slotFor is the slot for w from have[j] on, in the same section: the
// first of w's kind, else the first spare; -1 when there is none.
func slotFor(have []*nativeItem, j int, w model.Item) int {
	k := itemKey(w)
	for x := j; x < len(have); x++ {
		if have[x].key == k {
			return x
		}
		if have[x].key == "-" {
			break
		}
	}
	if w.Separator || w.Checkable {
		return -1
	}
	for x := j; x < len(have) && have[x].key != "-"; x++ {
		if have[x].key == spareKey {
			return x
		}
	}
	return -1
}

func hasSeparator(sl []*nativeItem) bool {
	for _, ni := range sl {
		if ni.key == "-" {
			return true
		}
	}
	return false
}

func appended(at []int) (n int) {
	for _, j := range at {
		if j < 0 {
			n++
		}
	}
	return n
}

// slots is the list of slots for a new build: have's and want's items in
// one order (a shortest common supersequence by key), want's shown and the
// rest hidden, so that going back to have's menu fits in place, and
// sparesPerSection spares before each separator. Unused separators are
// dropped (they cannot be hidden); past maxSlots it is want's items alone.
func slots(have []*nativeItem, want []model.Item) []*nativeItem {
	out := merge(have, want)
	if len(out) > maxSlots(want) {
		out = merge(nil, want)
	}
	return withSpares(out)
}

func withSpares(sl []*nativeItem) []*nativeItem {
	out := make([]*nativeItem, 0, len(sl)+3*sparesPerSection)
	for _, ni := range sl {
		if ni.key == "-" {
			for range sparesPerSection {
				out = append(out, &nativeItem{key: spareKey})
			}
		}
		out = append(out, ni)
	}
	return out
}

// merge is slots without spares: have's spares are dropped (a build makes
// new ones), an item a spare showed gets a slot of its kind.
func merge(have []*nativeItem, want []model.Item) []*nativeItem {
	have = slices.DeleteFunc(slices.Clone(have), func(ni *nativeItem) bool { return ni.key == spareKey })
	// lcs[i][j]: the longest common subsequence of have[i:] and want[j:] by key.
	lcs := make([][]int, len(have)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(want)+1)
	}
	for i := len(have) - 1; i >= 0; i-- {
		for j := len(want) - 1; j >= 0; j-- {
			if have[i].key == itemKey(want[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []*nativeItem
	hidden := func(h *nativeItem) {
		if h.key != "-" {
			out = append(out, &nativeItem{key: h.key, it: h.it, kids: merge(h.kids, nil)})
		}
	}
	shown := func(w model.Item, kids []*nativeItem) {
		out = append(out, &nativeItem{key: itemKey(w), it: w, shown: true, kids: merge(kids, w.Children)})
	}
	i, j := 0, 0
	for i < len(have) && j < len(want) {
		switch {
		case have[i].key == itemKey(want[j]):
			shown(want[j], have[i].kids)
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			hidden(have[i])
			i++
		default:
			shown(want[j], nil)
			j++
		}
	}
	for ; i < len(have); i++ {
		hidden(have[i])
	}
	for ; j < len(want); j++ {
		shown(want[j], nil)
	}
	return out
}

// build replaces every systray item by new ones for the slots sl.
func (n *nativeMenu) build(sl []*nativeItem) {
	n.gen++
	n.items = sl
	if !n.dry {
		systray.ResetMenu()
		n.create(sl, nil, n.gen)
	}
}

// create makes the systray items of the slots sl under parent (nil: the
// menu), hiding those not shown.
func (n *nativeMenu) create(sl []*nativeItem, parent *systray.MenuItem, gen uint64) {
	for _, ni := range sl {
		n.add(ni, parent, gen)
	}
}

func (n *nativeMenu) add(ni *nativeItem, parent *systray.MenuItem, gen uint64) {
	it := ni.it
	switch {
	case n.dry:
		return
	case it.Separator:
		if parent != nil {
			parent.AddSeparator()
		} else {
			systray.AddSeparator()
		}
		return
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
	n.create(ni.kids, ni.sys, gen)
	if !ni.shown {
		ni.sys.Hide()
	}
	go n.listen(ni, gen)
}

// listen passes ni's clicks to the main goroutine. Its channel closes when
// the item is removed: by our own build (an older gen), or by Fyne
// re-applying its first menu, after which ours must be built again.
func (n *nativeMenu) listen(ni *nativeItem, gen uint64) {
	for range ni.sys.ClickedCh {
		doUI(func() {
			switch {
			case gen != n.gen || len(ni.it.Children) > 0:
			case !ni.shown:
				// A host that had not yet read the change; the item's
				// meaning is gone, so its old action is not done.
				n.t.log.Info("tray menu: click on an item no longer shown ignored", "item", ni.it.Label)
			default:
				// The action the item shows now: an in-place update may
				// have changed it since the host read the menu.
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
	n.build(slots(n.items, n.cur))
}

// apply shows want on the slots have as fit placed them (at): matched slots
// updated in place and shown, the others hidden, new items appended under
// parent (nil: the menu). It returns the slots, appended ones included.
func (n *nativeMenu) apply(have []*nativeItem, want []model.Item, at []int, parent *systray.MenuItem) []*nativeItem {
	used := make([]bool, len(have))
	for i, w := range want {
		if at[i] < 0 {
			continue
		}
		ni := have[at[i]]
		used[at[i]] = true
		n.set(ni, w)
		if len(w.Children) > 0 || len(ni.kids) > 0 {
			kidsAt, _ := fit(ni.kids, w.Children) // fits: checked by show
			ni.kids = n.apply(ni.kids, w.Children, kidsAt, ni.sys)
		}
	}
	for j, ni := range have {
		if !used[j] && ni.shown {
			ni.shown = false
			if ni.sys != nil {
				ni.sys.Hide()
			}
		}
	}
	for i, w := range want {
		if at[i] < 0 {
			ni := &nativeItem{key: itemKey(w), it: w, shown: true, kids: merge(nil, w.Children)}
			n.add(ni, parent, n.gen)
			have = append(have, ni)
		}
	}
	return have
}

// set updates one slot in place; systray sends the host
// ItemsPropertiesUpdated for each change, with the item's id.
func (n *nativeMenu) set(ni *nativeItem, w model.Item) {
	old, wasShown := ni.it, ni.shown
	ni.it, ni.shown = w, true
	if ni.sys == nil {
		return
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
	if !wasShown {
		ni.sys.Show()
	}
}
