package calls

import (
	"strings"
	"testing"
	"time"
)

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	d := DefaultSettings()
	if d.MaxDuration != 240*time.Second || d.JoinTimeout != 15*time.Second || d.MediaIdleTimeout != 30*time.Second ||
		d.PricePerMinute != 0.05 || d.DailyBudget != 0 || d.InputRate != 16000 || d.OutputRate != 16000 ||
		d.DefaultAgentID != "" || d.DeleteAfterEnd || d.EndingSoonLead != 30*time.Second {
		t.Fatalf("defaults changed: %+v", d)
	}
	bad := map[string]func(*Settings){
		"maximum call duration": func(s *Settings) { s.MaxDuration = 0 },
		"at most 24 hours":      func(s *Settings) { s.MaxDuration = 25 * time.Hour },
		"join timeout":          func(s *Settings) { s.JoinTimeout = 0 },
		"media idle timeout":    func(s *Settings) { s.MediaIdleTimeout = -time.Second },
		"price per minute":      func(s *Settings) { s.PricePerMinute = -1 },
		"daily budget":          func(s *Settings) { s.DailyBudget = -1 },
		"input sample rate":     func(s *Settings) { s.InputRate = 1000 },
		"output sample rate":    func(s *Settings) { s.OutputRate = 96000 },
		"ending-soon":           func(s *Settings) { s.EndingSoonLead = -time.Second },
	}
	for want, f := range bad {
		s := DefaultSettings()
		f(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

func TestApplySettingsRefusesBadValues(t *testing.T) {
	m, err := New(Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := DefaultSettings()
	s.InputRate = 7
	if err := m.ApplySettings(s); err == nil || !strings.Contains(err.Error(), "not applied") {
		t.Fatalf("bad settings applied: %v", err)
	}
	if settingsInUse(m).InputRate != 16000 {
		t.Fatal("bad settings changed the settings in use")
	}
	s.InputRate, s.DailyBudget = 24000, 2
	if err := m.ApplySettings(s); err != nil {
		t.Fatal(err)
	}
	if got := m.Snapshot(); got.DailyBudget != 2 || got.Health != HealthNoKey || got.Overall != OverallUnknown {
		t.Fatalf("snapshot after settings: budget %v health %v overall %v", got.DailyBudget, got.Health, got.Overall)
	}
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "StateDir") {
		t.Fatalf("New without a state dir: %v", err)
	}
}

func settingsInUse(m *Manager) Settings {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settings
}
