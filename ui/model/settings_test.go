package model

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
)

func TestAgentChoices(t *testing.T) {
	t.Parallel()
	s := idleSnap()
	s.Agents = []calls.AgentView{{ID: "a1", Name: "Support agent"}, {ID: "a2", Name: "Sales"}, {ID: "a3", Name: "Sales"}, {ID: "a4"}}
	for _, c := range []struct {
		saved, current string
	}{
		{"a2", "Sales"},
		{"a3", "Sales (a3)"},
		{"a4", " (a4)"},
		{"", "Support agent"}, // nothing saved: the manager's default
		{"gone", "gone"},      // an ID no agent has stays as typed
	} {
		a := AgentChoicesOf(s, c.saved)
		if strings.Join(a.Labels, "|") != "Support agent|Sales|Sales (a3)| (a4)" {
			t.Fatalf("labels %q", a.Labels)
		}
		if a.Current != c.current {
			t.Errorf("saved %q: current %q, want %q", c.saved, a.Current, c.current)
		}
	}
	a := AgentChoicesOf(s, "")
	for text, id := range map[string]string{"Sales": "a2", " Sales (a3) ": "a3", "typed-id": "typed-id", "": ""} {
		if got := a.ID(text); got != id {
			t.Errorf("ID(%q) = %q, want %q", text, got, id)
		}
	}
}

func TestSettingsForm(t *testing.T) {
	t.Parallel()
	base := settings.Defaults()
	base.EchoCancellation = true
	agents := AgentChoicesOf(idleSnap(), "")
	f := FormOf(base, agents.Current)
	if f.MaxDuration != "240" || f.Agent != "Support agent" || !f.EchoCancellation {
		t.Fatalf("form of the defaults %+v", f)
	}
	// Unchanged, the form gives back what it showed.
	if s, err := f.Settings(base, agents, true); err != nil || !reflect.DeepEqual(s, func() settings.Settings { b := base; b.DefaultAgentID = "a1"; return b }()) {
		t.Fatalf("round trip %+v %v", s, err)
	}
	cases := []struct {
		name    string
		edit    func(f *SettingsForm)
		echo    bool
		wantErr string
		check   func(s settings.Settings) bool
	}{
		{"words for a number", func(f *SettingsForm) { f.MaxDuration = "four minutes"; f.Price = "cheap" }, true,
			`Max call duration must be a whole number of seconds, not "four minutes"; Price per minute must be an amount in dollars, not "cheap"`, nil},
		{"out of range", func(f *SettingsForm) { f.MaxDuration = "5" }, true, "between 10 and 3600 seconds, got 5", nil},
		{"dollars and spaces", func(f *SettingsForm) { f.Budget = " $2.50 "; f.Microphone = " USB mic "; f.Headset = true }, true, "",
			func(s settings.Settings) bool {
				return s.DailyBudget == 2.5 && s.MicrophoneDevice == "USB mic" && s.Headset
			}},
		{"echo read when offered", func(f *SettingsForm) { f.EchoCancellation = false }, true, "",
			func(s settings.Settings) bool { return !s.EchoCancellation }},
		{"echo kept when not offered", func(f *SettingsForm) { f.EchoCancellation = false }, false, "",
			func(s settings.Settings) bool { return s.EchoCancellation }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := f
			c.edit(&g)
			s, err := g.Settings(base, agents, c.echo)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				if SaveStatus(err) != "Not saved: "+err.Error() {
					t.Errorf("status %q", SaveStatus(err))
				}
				return
			}
			if err != nil || !c.check(s) {
				t.Errorf("settings %+v, %v", s, err)
			}
		})
	}
	if SaveStatus(nil) != "Saved." || !EchoEnabled(false) || EchoEnabled(true) {
		t.Error("status or echo rule")
	}
}

func TestKeyPanel(t *testing.T) {
	t.Parallel()
	key := "Zk9Ab3Cd." + strings.Repeat("abcdefgh", 4)
	type flags struct{ entry, save, remove bool }
	cases := []struct {
		name   string
		env    bool
		events func(p *KeyPanel)
		status string
		flags  flags
	}{
		{"from the environment", true, func(*KeyPanel) {}, "The key comes from ULTRAVOX_API_KEY in the environment; it is not stored.", flags{}},
		{"reading", false, func(*KeyPanel) {}, "Reading the keychain…", flags{true, true, true}},
		{"none stored", false, func(p *KeyPanel) { p.Read("", nil) }, "No key stored. Paste one and press Check and save key.", flags{true, true, false}},
		{"stored", false, func(p *KeyPanel) { p.Read(key, nil) }, "A key is stored in the keychain (Zk9Ab3Cd.…).", flags{true, true, true}},
		{"keychain error", false, func(p *KeyPanel) { p.Read("", errors.New("locked")) }, "Keychain: locked", flags{true, true, true}},
		{"empty paste keeps the buttons", false, func(p *KeyPanel) { p.Read("", nil); p.Submit("  ") }, "Paste a key first.", flags{true, true, false}},
		{"spaces", false, func(p *KeyPanel) { p.Submit("two words") }, "The key contains spaces or line breaks; copy it again from the Ultravox console.", flags{true, true, true}},
		{"checking", false, func(p *KeyPanel) { p.Submit(" " + key + "\n") }, "Checking the key with Ultravox…", flags{true, false, true}},
		{"rejected", false, func(p *KeyPanel) { p.Submit(key); p.Rejected(errors.New("Ultravox rejected the API key (401)")) },
			"Not saved: Ultravox rejected the API key (401)", flags{true, true, true}},
		{"not stored", false, func(p *KeyPanel) { p.Submit(key); p.NotStored("Acme", errors.New("locked")) },
			"The key works (account Acme) but could not be stored: locked", flags{true, true, true}},
		{"saved after none", false, func(p *KeyPanel) { p.Read("", nil); p.Submit(key); p.Stored("Acme", key) },
			"Saved in the keychain. Account: Acme (Zk9Ab3Cd.…).", flags{true, true, true}},
		{"removing", false, func(p *KeyPanel) { p.Removing() }, "Reading the keychain…", flags{true, true, false}},
		{"removed", false, func(p *KeyPanel) { p.Removing(); p.Removed(nil) }, "The key was removed from the keychain.", flags{true, true, false}},
		{"remove failed", false, func(p *KeyPanel) { p.Removing(); p.Removed(errors.New("locked")) }, "Could not remove the key: locked", flags{true, true, true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewKeyPanel(c.env)
			c.events(&p)
			if p.Status != c.status || (flags{p.EntryEnabled, p.SaveEnabled, p.RemoveEnabled}) != c.flags {
				t.Errorf("%q %+v, want %q %+v", p.Status, flags{p.EntryEnabled, p.SaveEnabled, p.RemoveEnabled}, c.status, c.flags)
			}
		})
	}
	p := NewKeyPanel(false)
	if got, ok := p.Submit(" " + key + "\n"); !ok || got != key {
		t.Errorf("submitted %q %v", got, ok)
	}
}

func TestKeyHint(t *testing.T) {
	t.Parallel()
	goodKey := "Zk9Ab3Cd." + strings.Repeat("abcdefgh", 4)
	if keyHint(goodKey) != "Zk9Ab3Cd.…" || keyHint("short") != "…" || keyHint("abcdefghijklmnop") != "abcd…" {
		t.Errorf("hints %q %q %q", keyHint(goodKey), keyHint("short"), keyHint("abcdefghijklmnop"))
	}
}
