package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// Real agents do more than greet: this one's prompt uses a {{variable}}
// (the app asks for its value in a small form, typed here on the X
// keyboard, keeps it, and the create sends it), and that one invokes a
// client tool as soon as it is joined (the app answers within a second).
func TestE2EAgentsWithTemplateVariablesAndClientTools(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds the binary and runs it")
	}
	bin := buildBinary(t)
	d := newDesk(t, `{"maxDurationSeconds": 60, "joinTimeoutSeconds": 15, "pricePerMinute": 0.05}`, true)
	d.sim = simtest.New(t, func(o *simulator.Options) {
		o.Agents = []simulator.AgentSeed{
			{Name: "Support agent", SystemPrompt: "You are a friendly support agent."},
			{Name: "Order desk", SystemPrompt: "Help {{customerName}} with their order.", Greeting: "Hello {{customerName}}."},
			{Name: "Tool agent", SystemPrompt: "Look orders up.", ClientTool: "lookupOrder"},
		}
	})
	for i, e := range d.env {
		if strings.HasPrefix(e, "ULTRAVOX_API_URL=") {
			d.env[i] = "ULTRAVOX_API_URL=" + d.sim.URL()
		}
	}
	display := ""
	for _, e := range d.env {
		if v, ok := strings.CutPrefix(e, "DISPLAY="); ok {
			display = v
		}
	}
	kb := desktoptest.NewKeyboard(t, display)
	a := d.start(t, bin)
	tr := d.tr
	waitTray(t, tr, assets.Idle, "Idle: no calls billing")

	// Start call with -> Order desk: the form asks for customerName first.
	click(t, tr, "Order desk")
	x, y := kb.WindowCenter(t, "Values for Order desk", 20*time.Second)
	kb.MoveTo(t, x, y)
	kb.Type(t, "Ada")
	kb.Press(t, desktoptest.KeyReturn)
	first := liveCall(t, d.sim, nil)
	if tc := d.sim.TemplateContext(first.CallID); tc["customerName"] != "Ada" {
		t.Fatalf("templateContext of the call: %v, want customerName Ada", tc)
	}
	waitTray(t, tr, assets.Billing, "Billing: ")
	raw, err := os.ReadFile(filepath.Join(d.home, ".config", "ultravox-tray", "settings.json"))
	if err != nil || !strings.Contains(string(raw), `"customerName": "Ada"`) {
		t.Fatalf("the value was not kept in the settings (%v):\n%s", err, raw)
	}
	click(t, tr, "End call")
	waitEnded(t, d.sim, first.CallID, 15*time.Second)
	waitTray(t, tr, assets.Idle, "Idle: no calls billing")

	// Start call with -> Tool agent: it invokes lookupOrder at once; the
	// app answers within a second that it does not have that tool.
	click(t, tr, "Tool agent")
	second := liveCall(t, d.sim, map[string]bool{first.CallID: true})
	var inv simulator.ToolInvocation
	for deadline := time.Now().Add(10 * time.Second); ; {
		if invs := d.sim.ToolInvocations(second.CallID); len(invs) == 1 && invs[0].Answered() {
			inv = invs[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answered tool invocation: %+v", d.sim.ToolInvocations(second.CallID))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("figure: client tool invocation -> reply seen by the simulator %v", inv.Latency().Round(time.Millisecond))
	if inv.Latency() > time.Second || inv.ErrorType != "undefined" || !strings.Contains(inv.ErrorMessage, "lookupOrder") {
		t.Fatalf("tool reply %+v after %v, want errorType undefined naming lookupOrder within a second", inv, inv.Latency())
	}
	click(t, tr, "End call")
	waitEnded(t, d.sim, second.CallID, 15*time.Second)
	waitTray(t, tr, assets.Idle, "Idle: no calls billing")
	click(t, tr, "Quit")
	a.waitExit(t, 15*time.Second)
}
