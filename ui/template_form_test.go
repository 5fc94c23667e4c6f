package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
)

// templateFake is a manager whose agent a2 uses {{customerName}} and
// {{orderId}}, with the values kept in prefs.
type templateFake struct {
	*fakeManager
	prefs *memPrefs
}

func (m templateFake) AgentTemplate(_ context.Context, agentID string) (calls.AgentTemplate, error) {
	m.prefs.mu.Lock()
	vals := m.prefs.s.TemplateValues[agentID]
	m.prefs.mu.Unlock()
	at := calls.AgentTemplate{AgentID: agentID, AgentName: "Sales agent", Values: map[string]string{}}
	if agentID != "a2" {
		return at, nil
	}
	at.Variables = []string{"customerName", "orderId"}
	for _, v := range at.Variables {
		if vals[v] != "" {
			at.Values[v] = vals[v]
		} else {
			at.Missing = append(at.Missing, v)
		}
	}
	return at, nil
}

// "Start call with" an agent with a variable that has no value opens the
// form first; filled in, it keeps the values and starts the call; the next
// start goes straight through.
func TestTemplateFormBeforeStart(t *testing.T) {
	fm := newFakeManager(idle())
	prefs := &memPrefs{s: settings.Defaults().WithTemplateValues("a2", map[string]string{"customerName": "Ada"})}
	m := templateFake{fm, prefs}
	app := &trayApp{App: test.NewTempApp(t), quitCh: make(chan struct{})}
	tr, err := NewTray(Config{App: app, Manager: m, EndEverything: func(context.Context) {}, Location: time.UTC, Prefs: testPrefs(prefs, &memKeys{})})
	if err != nil {
		t.Fatal(err)
	}
	tr.setTooltip, tr.setTitle = func(string) {}, func(string) {}
	t.Cleanup(tr.Stop)
	onUI(tr.Start)
	menu := app.lastMenu()
	onUI(item(menu, "Start call: Support agent").Action)
	waitCalls(t, fm, "start a1") // no variables: straight through
	onUI(item(menu, "Sales").Action)
	var tw *templateWindow
	for deadline := time.Now().Add(5 * time.Second); tw == nil; {
		onUI(func() { tw, _, _ = tr.windows.template.get() })
		if tw == nil && time.Now().After(deadline) {
			t.Fatal("no template form opened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	onUI(func() {
		if tw.entries["customerName"].Text != "Ada" || tw.entries["orderId"].Text != "" {
			t.Errorf("form not filled with the kept values: %q %q", tw.entries["customerName"].Text, tw.entries["orderId"].Text)
		}
		test.Tap(tw.start)
		if tw.status.Text != "fill in orderId to start the call" {
			t.Errorf("status %q", tw.status.Text)
		}
		tw.entries["orderId"].SetText("A-17")
		test.Tap(tw.start)
	})
	waitCalls(t, fm, "start a1", "start a2")
	prefs.mu.Lock()
	kept := prefs.s.TemplateValues["a2"]
	prefs.mu.Unlock()
	if kept["orderId"] != "A-17" || kept["customerName"] != "Ada" {
		t.Fatalf("kept values %v", kept)
	}
	onUI(item(menu, "Sales").Action)
	waitCalls(t, fm, "start a1", "start a2", "start a2") // remembered: no form
}

// From the settings window, "Template values…" edits the chosen agent's
// values without starting a call; an emptied field forgets its value.
func TestTemplateValuesFromSettings(t *testing.T) {
	fm := newFakeManager(idle())
	prefs := &memPrefs{s: settings.Defaults().WithTemplateValues("a2", map[string]string{"customerName": "Ada"})}
	app := &trayApp{App: test.NewTempApp(t), quitCh: make(chan struct{})}
	tr, err := NewTray(Config{App: app, Manager: templateFake{fm, prefs}, EndEverything: func(context.Context) {}, Location: time.UTC, Prefs: testPrefs(prefs, &memKeys{})})
	if err != nil {
		t.Fatal(err)
	}
	tr.setTooltip, tr.setTitle = func(string) {}, func(string) {}
	t.Cleanup(tr.Stop)
	onUI(tr.windows.showSettings)
	var sw *settingsWindow
	onUI(func() { sw, _, _ = tr.windows.settings.get() })
	if sw == nil || sw.onTemplate == nil {
		t.Fatal("settings window without the template values button")
	}
	onUI(func() { sw.onTemplate("a2") })
	var tw *templateWindow
	for deadline := time.Now().Add(5 * time.Second); tw == nil; {
		onUI(func() { tw, _, _ = tr.windows.template.get() })
		if tw == nil && time.Now().After(deadline) {
			t.Fatal("no template form opened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	onUI(func() {
		if tw.start.Text != "Save" {
			t.Errorf("button %q, want Save", tw.start.Text)
		}
		tw.entries["customerName"].SetText("")
		tw.entries["orderId"].SetText("B-2")
		test.Tap(tw.start)
	})
	prefs.mu.Lock()
	kept := prefs.s.TemplateValues["a2"]
	prefs.mu.Unlock()
	if _, has := kept["customerName"]; has || kept["orderId"] != "B-2" {
		t.Fatalf("kept %v, want only orderId B-2", kept)
	}
	if got := fm.calls(); len(got) != 0 {
		t.Fatalf("editing values started something: %v", got)
	}
}
