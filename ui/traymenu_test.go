package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// The tray's menu as the model builds it, in short: a status line, notes,
// "Check now", starting, ending, Recent calls, today, settings and quit.
type menuState struct {
	status  string
	notes   []string
	unknown bool
	recent  []string
	muted   bool
	live    bool
	noSep   bool
}

func (s menuState) items() []model.Item {
	items := []model.Item{{Label: s.status}}
	for _, n := range s.notes {
		items = append(items, model.Item{Label: n})
	}
	if s.unknown {
		items = append(items, model.Item{Label: "Check now", Enabled: true, Action: model.Action{Kind: model.ActRecheck}})
	}
	items = append(items, model.Item{Separator: true},
		model.Item{Label: "Start call: A", Enabled: !s.live, Action: model.Action{Kind: model.ActStartCall, Arg: "a"}},
		model.Item{Label: "Start call with", Enabled: !s.live, Children: []model.Item{
			{Label: "A (default)", Enabled: !s.live, Action: model.Action{Kind: model.ActStartCall, Arg: "a"}},
			{Label: "B", Enabled: !s.live, Action: model.Action{Kind: model.ActStartCall, Arg: "b"}},
		}},
		model.Item{Label: "End call", Enabled: s.live, Action: model.Action{Kind: model.ActEndOurs}},
		model.Item{Label: "Mute microphone", Checkable: true, Checked: s.muted, Enabled: s.live, Action: model.Action{Kind: model.ActToggleMic}},
	)
	if !s.noSep {
		items = append(items, model.Item{Separator: true})
	}
	recent := model.Item{Label: "Recent calls (none yet)"}
	for _, r := range s.recent {
		recent.Label = "Recent calls"
		recent.Enabled = true
		recent.Children = append(recent.Children, model.Item{Label: r, Enabled: true, Action: model.Action{Kind: model.ActShowRecent, Arg: r}})
	}
	return append(items, recent, model.Item{Label: "Today: 0 min, $0.00"}, model.Item{Separator: true},
		model.Item{Label: "Settings…", Enabled: true, Action: model.Action{Kind: model.ActSettings}},
		model.Item{Label: "Quit", Enabled: true, IsQuit: true, Action: model.Action{Kind: model.ActQuit}},
	)
}

// shownSlots lists the slots that show something, in menu order, each with
// its label: what a host reads, the slot standing for its dbusmenu id.
func shownSlots(sl []*nativeItem) (out []string, slots []*nativeItem) {
	for _, ni := range sl {
		if !ni.shown {
			continue
		}
		out = append(out, ni.it.Label)
		slots = append(slots, ni)
		kl, ks := shownSlots(ni.kids)
		for i := range kl {
			out = append(out, ni.it.Label+" > "+kl[i])
		}
		slots = append(slots, ks...)
	}
	return out, slots
}

// labels is what the model asked for, flattened the same way.
func labels(items []model.Item) (out []string) {
	for _, it := range items {
		out = append(out, it.Label)
		for _, k := range labels(it.Children) {
			out = append(out, it.Label+" > "+k)
		}
	}
	return out
}

// ids gives each shown slot a name by its label, to compare slots across
// changes (a slot is an id: the same pointer, the same dbusmenu id).
func ids(n *nativeMenu) map[string]*nativeItem {
	l, s := shownSlots(n.items)
	m := map[string]*nativeItem{}
	for i := range l {
		m[l[i]] = s[i]
	}
	return m
}

// Issue 12, defect 7: a click a host sends for an item it read before a
// change must reach that item. The tray keeps each item's slot (its id)
// across changes of labels and states, items that come and go (in their
// own slots or the spares each section ends with), and items appended to
// a submenu; it builds all again only for a change the slots cannot take,
// and then keeps slots for both menus, so the same change back and forth
// builds once. (Soak seeds 163 and 219 lost an End and a Quit click to the
// build that a call's first note under the status line caused.)
func TestNativeMenuKeepsSlots(t *testing.T) {
	n := &nativeMenu{dry: true}
	show := func(s menuState) {
		t.Helper()
		want := s.items()
		n.show(want)
		if got, _ := shownSlots(n.items); strings.Join(got, "|") != strings.Join(labels(want), "|") {
			t.Fatalf("the menu shows\n%q\nwant\n%q", got, labels(want))
		}
	}
	// step shows s and says whether that built the items again, and
	// which shown items kept their slots.
	step := func(name string, s menuState, wantBuild bool) {
		t.Helper()
		before, gen := ids(n), n.gen
		show(s)
		if built := n.gen != gen; built != wantBuild {
			t.Errorf("%s: built again = %v, want %v", name, built, wantBuild)
		}
		if wantBuild {
			return
		}
		for l, slot := range ids(n) {
			if strings.HasPrefix(l, "Recent calls > ") {
				continue // by position, below
			}
			if was, ok := before[l]; ok && was != slot {
				t.Errorf("%s: %q moved to another slot (a new id)", name, l)
			}
		}
	}

	idle := menuState{status: "Idle: no calls billing"}
	show(idle)
	step("a label", menuState{status: "Idle: checked 0:05 ago"}, false)
	live := menuState{status: "Billing: 0:01", live: true}
	step("a call goes live (labels, enabled)", live, false)
	live.muted = true
	step("mute", live, false)

	// New items under the status line take the section's spares, in
	// place both ways.
	unknown := idle
	unknown.unknown = true
	step("Check now appears", unknown, false)
	checkNow := ids(n)["Check now"]
	step("Check now goes", idle, false)
	step("Check now is back", unknown, false)
	if ids(n)["Check now"] != checkNow {
		t.Error("Check now came back in a new slot")
	}
	noted := live
	noted.notes = []string{"Audio: no microphone", "Connection lost; reconnecting"}
	step("a call's notes appear", noted, false)
	step("the notes go", live, false)
	noted.unknown = true
	step("notes and Check now", noted, false)
	step("a note again", noted, false)

	// More new items than spares: built once, then in place both ways.
	crowded := noted
	crowded.notes = []string{"1", "2", "3", "4", "5"}
	step("five notes and Check now", crowded, true)
	step("back to two notes", noted, false)
	step("five again", crowded, false)

	// Recent calls gains its submenu in place, and each new entry is
	// appended.
	one := idle
	one.recent = []string{"call 1"}
	step("first recent call", one, false)
	// Entries are slots by position, newest first: the slot a host read as
	// "call 1" shows "call 2" after the update (as a label changes in place),
	// and the others keep theirs.
	recentSlots := func() []*nativeItem { return ids(n)["Recent calls"].kids }
	first := recentSlots()
	two := one
	two.recent = []string{"call 2", "call 1"}
	step("second recent call", two, false)
	three := two
	three.recent = []string{"call 3", "call 2", "call 1"}
	step("third recent call", three, false)
	if got := recentSlots(); len(got) != 3 || got[0] != first[0] {
		t.Errorf("Recent calls' entries were not appended to the slots there were: %d slots", len(got))
	}
	step("back to one", one, false)
	if got := recentSlots(); len(got) != 3 || got[0] != first[0] || got[1].shown || got[2].shown {
		t.Error("Recent calls' spare entries are not the hidden old slots")
	}

	// A separator cannot be hidden: its loss is a build, and no slot
	// keeps a separator the menu does not show.
	noSep := three
	noSep.noSep = true
	step("a separator goes", noSep, true)
	for _, ni := range n.items {
		if ni.key == "-" && !ni.shown {
			t.Error("a hidden separator: systray would show it")
		}
	}

	// Hidden slots are bounded: many different notes do not grow the
	// menu past maxSlots.
	for i := range 40 {
		s := idle
		s.notes = make([]string, i%7)
		for j := range s.notes {
			s.notes[j] = fmt.Sprint("note ", j)
		}
		s.unknown = i%3 == 0
		show(s)
		if want := s.items(); slotCount(n.items) > maxSlots(want) {
			t.Fatalf("%d slots for a menu of %d items", slotCount(n.items), len(want))
		}
	}
}

// fit never hides or appends a separator, takes a slot of the item's kind
// before a spare, and appends new items only in the last section.
func TestFit(t *testing.T) {
	quit := model.Item{Label: "q", Action: model.Action{Kind: model.ActQuit}}
	check := model.Item{Label: "c", Action: model.Action{Kind: model.ActRecheck}}
	box := model.Item{Label: "m", Checkable: true}
	sep := model.Item{Separator: true}
	// a, check(hidden), spare, spare, -, q
	have := []*nativeItem{
		{key: itemKey(model.Item{Label: "a"}), shown: true},
		{key: itemKey(check)},
		{key: spareKey}, {key: spareKey},
		{key: "-", shown: true},
		{key: itemKey(quit), shown: true},
	}
	cases := []struct {
		name string
		want []model.Item
		ok   bool
		at   []int
	}{
		{"same", []model.Item{{Label: "x"}, sep, quit}, true, []int{0, 4, 5}},
		{"its own slot before a spare", []model.Item{{Label: "a"}, check, sep, quit}, true, []int{0, 1, 4, 5}},
		{"notes take spares", []model.Item{{Label: "a"}, {Label: "n1"}, {Label: "n2"}, sep, quit}, true, []int{0, 2, 3, 4, 5}},
		{"one note too many", []model.Item{{Label: "a"}, {Label: "n1"}, {Label: "n2"}, {Label: "n3"}, sep, quit}, false, nil},
		{"first hidden", []model.Item{sep, quit}, true, []int{4, 5}},
		{"appended in the last section", []model.Item{{Label: "a"}, sep, quit, {Label: "z"}}, true, []int{0, 4, 5, -1}},
		{"separator gone", []model.Item{{Label: "a"}, quit}, false, nil},
		{"separator appended", []model.Item{{Label: "a"}, sep, quit, sep}, false, nil},
		{"a checkbox takes no spare", []model.Item{{Label: "a"}, box, sep, quit}, false, nil},
		{"a submenu takes a spare", []model.Item{{Label: "a"}, {Label: "s", Children: []model.Item{{Label: "k"}}}, sep, quit}, true, []int{0, 2, 4, 5}},
	}
	for _, c := range cases {
		at, ok := fit(have, c.want)
		if ok != c.ok || fmt.Sprint(at) != fmt.Sprint(c.at) {
			t.Errorf("%s: fit = %v, %v; want %v, %v", c.name, at, ok, c.at, c.ok)
		}
	}
}
