package calls

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

func TestTemplateVariablesFound(t *testing.T) {
	got := templateVariables("Help {{ customerName }} with {{orderId}}; {{customerName}} again.", "{{account.tier}}", "no braces {single}")
	if strings.Join(got, ",") != "account.tier,customerName,orderId" {
		t.Fatalf("variables %v", got)
	}
}

func TestTemplateValuesValidated(t *testing.T) {
	s := DefaultSettings()
	s.TemplateValues = map[string]map[string]string{"agent": {"bad name": "x"}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `"bad name"`) {
		t.Fatalf("bad variable name: %v", err)
	}
	s.TemplateValues = map[string]map[string]string{"agent": {"note": strings.Repeat("x", maxTemplateValue+1)}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "note") {
		t.Fatalf("over-long value: %v", err)
	}
	s.TemplateValues = map[string]map[string]string{"agent": {"customerName": "Ada"}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

// An agent whose prompt uses {{variables}}: the manager reads them from the
// agent, a start without values fails with an error naming the missing one,
// and once the values are kept the create sends them as templateContext.
func TestStartSendsTemplateContext(t *testing.T) {
	e := newEnv(t, envOpt{sim: []simtest.Option{func(o *simulator.Options) {
		o.Agents = []simulator.AgentSeed{{Name: "Order desk", SystemPrompt: "Help {{customerName}}.", TemplateVariables: []string{"orderId"}}}
		o.SpeakGreeting = false
	}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	agent := e.sim.Agents()[0].AgentID
	at, err := e.m.AgentTemplate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if at.AgentID != agent || strings.Join(at.Variables, ",") != "customerName,orderId" || strings.Join(at.Missing, ",") != "customerName,orderId" {
		t.Fatalf("template %+v", at)
	}
	_, err = e.m.Start(ctx, agent)
	if err == nil || !strings.Contains(err.Error(), `"customerName"`) || !strings.Contains(err.Error(), `"orderId"`) {
		t.Fatalf("start without values: %v, want an error naming both missing variables", err)
	}
	if errors.Is(err, ErrKeyRejected) {
		t.Fatalf("a missing variable is not a key problem: %v", err)
	}
	s := testSettings(e.sim)
	s.TemplateValues = map[string]map[string]string{agent: {"customerName": "Ada", "orderId": "A-17"}}
	if err := e.m.ApplySettings(s); err != nil {
		t.Fatal(err)
	}
	if at, err = e.m.AgentTemplate(ctx, agent); err != nil || len(at.Missing) != 0 || at.Values["orderId"] != "A-17" {
		t.Fatalf("template after the values were kept: %+v, %v", at, err)
	}
	v := e.startBilling()
	if tc := e.sim.TemplateContext(v.ID); tc["customerName"] != "Ada" || tc["orderId"] != "A-17" {
		t.Fatalf("templateContext sent: %v", tc)
	}
}
