package ui

import (
	"testing"

	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// The tray updates its systray items in place (keeping their ids) exactly
// when menuShape is unchanged: labels, enabled, checked and actions may
// change in place; the items' number, kinds and submenus may not.
func TestMenuShape(t *testing.T) {
	base := func() []model.Item {
		return []model.Item{
			{Label: "Idle"}, {Separator: true},
			{Label: "Start with", Enabled: true, Children: []model.Item{{Label: "A", Enabled: true}, {Label: "B"}}},
			{Label: "Mute", Checkable: true},
			{Label: "Quit", Enabled: true, IsQuit: true, Action: model.Action{Kind: model.ActQuit}},
		}
	}
	want := menuShape(base())
	inPlace := map[string]func([]model.Item){
		"label":        func(m []model.Item) { m[0].Label = "Billing" },
		"enabled":      func(m []model.Item) { m[2].Enabled = false },
		"child label":  func(m []model.Item) { m[2].Children[1].Label = "C" },
		"checked":      func(m []model.Item) { m[3].Checked = true },
		"child action": func(m []model.Item) { m[2].Children[0].Action = model.Action{Kind: model.ActStartCall, Arg: "a"} },
	}
	for name, change := range inPlace {
		m := base()
		change(m)
		if got := menuShape(m); got != want {
			t.Errorf("%s changed the shape: %q -> %q", name, want, got)
		}
	}
	rebuild := map[string]func([]model.Item) []model.Item{
		"an item more": func(m []model.Item) []model.Item {
			return append(m[:1:1], append([]model.Item{{Label: "Audio: off"}}, m[1:]...)...)
		},
		"an item less": func(m []model.Item) []model.Item { return append(m[:1:1], m[2:]...) },
		"a child more": func(m []model.Item) []model.Item {
			m[2].Children = append(m[2].Children, model.Item{Label: "D"})
			return m
		},
		"no submenu":    func(m []model.Item) []model.Item { m[2].Children = nil; return m },
		"checkbox gone": func(m []model.Item) []model.Item { m[3].Checkable = false; return m },
		"separator":     func(m []model.Item) []model.Item { m[0] = model.Item{Separator: true}; return m },
	}
	for name, change := range rebuild {
		if got := menuShape(change(base())); got == want {
			t.Errorf("%s kept the shape %q", name, got)
		}
	}
}
