package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// clickID sends dbusmenu Event(id, "clicked") as a tray host does for an
// item it read earlier: the host does not read the menu again between
// showing it and the user's click.
func clickID(t testing.TB, tr *desktoptest.Tray, id int32) {
	t.Helper()
	path, err := tr.MenuPath()
	if err != nil {
		t.Fatal(err)
	}
	call := tr.Conn.Object(tr.BusName, path).Call("com.canonical.dbusmenu.Event", 0,
		id, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix()))
	if call.Err != nil {
		t.Fatalf("click id %d: %v", id, call.Err)
	}
}

func findItem(t testing.TB, root desktoptest.MenuItem, prefix string) desktoptest.MenuItem {
	t.Helper()
	it, ok := root.Find(prefix)
	if !ok {
		t.Fatalf("no %q in the menu %q", prefix, root.Labels())
	}
	return it
}

// Issue 12, defect 7: a click on a menu item that a state change rebuilt
// was lost ("systray error: no menu item with ID 68"): Fyne's
// SetSystemTrayMenu gives every item a new id. A change of labels, enabled
// or checked (a call elsewhere on the account, a mute) now keeps the ids,
// and so do items that come and go or are appended (a call's notes, Recent
// calls' entries), so a click sent for an id read before the change
// reaches the app.
func TestE2EMenuIDsSurviveStateChanges(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, `{"maxDurationSeconds": 60}`, true)
	a := d.start(t, bin)
	tr := d.tr
	waitTray(t, tr, assets.Idle, "Idle: no calls billing")
	// The agents arrive after the first check; then the menu is idle.
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		it, err := tr.FindLabelPrefix("Start call")
		return err == nil && it.Enabled, err
	}, 30*time.Second)

	click(t, tr, "Start call")
	call := liveCall(t, d.sim, nil)
	waitTray(t, tr, assets.Billing, "Billing: ")
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		it, err := tr.FindLabelPrefix("End call")
		return err == nil && it.Enabled, err
	}, 15*time.Second)

	// What a host shows while our call bills: it keeps these ids.
	before, err := tr.Layout()
	if err != nil {
		t.Fatal(err)
	}
	end := findItem(t, before, "End call")
	mute := findItem(t, before, "Mute microphone")

	// A call elsewhere on the account changes a label, not the shape.
	other, err := d.sim.StartCallElsewhere(d.sim.Agents()[0].AgentID, true, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		_, err := tr.FindLabelPrefix("End all calls on account (2)")
		return err == nil, err
	}, 30*time.Second)

	// A click by the id read before reaches the app: the mute toggles
	// (before the fix the item had a new id and the click was dropped).
	clickID(t, tr, mute.ID)
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		root, err := tr.Layout()
		if err != nil {
			return false, err
		}
		m, _ := root.Find("Mute microphone")
		return m.ToggleType == "checkmark" && m.ToggleState == 1, fmt.Errorf("Mute %+v, clicked as id %d", m, mute.ID)
	}, 10*time.Second)

	// Both changes kept every item and id (in place, not a rebuild).
	after, err := tr.Layout()
	if err != nil {
		t.Fatal(err)
	}
	if was, is := shape(before), shape(after); was != is {
		t.Errorf("the items or their ids changed:\n%s\n%s", was, is)
	}

	// And End call, by the id read before both changes, ends our call.
	clickID(t, tr, end.ID)
	waitEnded(t, d.sim, call.CallID, 15*time.Second)
	if c, _ := d.sim.Call(other); c.Ended != nil {
		t.Errorf("End call ended the call elsewhere: %+v", c)
	}

	// The end gives Recent calls its first entry (a submenu, in place) and
	// hides the call's notes. A whole call is in place: a host that read
	// the menu now starts and ends the next call with the ids it read, and
	// Recent calls' second entry is appended.
	recentEntries := func(root desktoptest.MenuItem) []desktoptest.MenuItem {
		r, _ := root.Find("Recent calls")
		var out []desktoptest.MenuItem
		for _, c := range r.Children {
			if c.Visible {
				out = append(out, c)
			}
		}
		return out
	}
	var idle desktoptest.MenuItem
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		root, err := tr.Layout()
		if err != nil {
			return false, err
		}
		idle = root
		start, _ := root.Find("Start call")
		return len(recentEntries(root)) == 1 && start.Enabled, fmt.Errorf("menu %q", root.Labels())
	}, 30*time.Second)
	clickID(t, tr, findItem(t, idle, "Start call").ID)
	next := liveCall(t, d.sim, map[string]bool{call.CallID: true, other: true})
	waitTray(t, tr, assets.Billing, "Billing: ")
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		it, err := tr.FindLabelPrefix("End call")
		return err == nil && it.Enabled, err
	}, 15*time.Second)
	clickID(t, tr, findItem(t, idle, "End call").ID)
	waitEnded(t, d.sim, next.CallID, 15*time.Second)
	var final desktoptest.MenuItem
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		root, err := tr.Layout()
		final = root
		return err == nil && len(recentEntries(root)) == 2, fmt.Errorf("menu %q", root.Labels())
	}, 30*time.Second)
	have := map[int32]bool{}
	allIDs(final, have)
	for name, m := range map[string]desktoptest.MenuItem{"billing": before, "idle": idle} {
		was := map[int32]bool{}
		allIDs(m, was)
		for id := range was {
			if !have[id] {
				t.Errorf("item id %d of the %s menu is gone after the calls:\n%s\n%s", id, name, shape(m), shape(final))
			}
		}
	}
	if got, want := recentEntries(final)[0].ID, recentEntries(idle)[0].ID; got != want {
		t.Errorf("Recent calls' first entry has id %d, was %d: the submenu was built again", got, want)
	}

	click(t, tr, "Quit")
	a.waitExit(t, 15*time.Second)
	if out := a.out.String(); strings.Contains(out, "no menu item with ID") {
		t.Errorf("a click was lost:\n%s", out)
	}
}

// shape lists the menu's items and ids, without labels and states.
func shape(m desktoptest.MenuItem) string {
	var b strings.Builder
	for _, c := range m.Children {
		fmt.Fprintf(&b, "%d%s[%s] ", c.ID, c.Type, shape(c))
	}
	return b.String()
}

func allIDs(m desktoptest.MenuItem, into map[int32]bool) {
	for _, c := range m.Children {
		into[c.ID] = true
		allIDs(c, into)
	}
}
