package calls

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// Template variables. An agent's call template may use {{variables}} that
// the create request fills from templateContext; without them the agent
// fails to start or speaks empty placeholders. The user keeps values per
// agent (Settings.TemplateValues); every create of a call with that agent
// sends them. AgentTemplate reads which variables an agent uses (GET
// /api/agents/{id}) so the UI can ask for missing values before a start.

// templateVar matches {{name}} and {{ name }} (also dotted names).
var templateVar = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}`)

// validTemplateName is a variable name as templates write it.
var validTemplateName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// Limits of the stored template values.
const (
	maxTemplateValue    = 2000 // characters per value
	maxTemplateVarCount = 50   // variables per agent
)

// templateVariables lists the {{variables}} of texts, each once, sorted.
func templateVariables(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, m := range templateVar.FindAllStringSubmatch(t, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

// agentTemplateTexts are the texts of a call template that may use
// variables: the system prompt, greetings and canned messages.
func agentTemplateTexts(t *ultravox.CallTemplate) []string {
	if t == nil {
		return nil
	}
	texts := []string{t.SystemPrompt, t.TimeExceededMessage}
	if fs := t.FirstSpeakerSettings; fs != nil {
		if fs.Agent != nil {
			texts = append(texts, fs.Agent.Text, fs.Agent.Prompt)
		}
		if fs.User != nil && fs.User.Fallback != nil {
			texts = append(texts, fs.User.Fallback.Text, fs.User.Fallback.Prompt)
		}
	}
	for _, m := range t.InactivityMessages {
		texts = append(texts, m.Message)
	}
	return texts
}

// AgentTemplate is what a start with an agent needs to know about its
// template variables.
type AgentTemplate struct {
	AgentID   string
	AgentName string
	// Variables the agent's call template uses, sorted.
	Variables []string
	// Values are the stored values (Settings.TemplateValues) for them.
	Values map[string]string
	// Missing are the variables without a stored value.
	Missing []string
}

// templateCacheFor is how long an agent's variables are reused.
const templateCacheFor = 2 * time.Minute

type templateCacheEntry struct {
	vars []string
	name string
	at   time.Time
}

// AgentTemplate reads the variables agentID's call template uses ("": the
// agent Start("") would call) and which of them have no stored value.
func (m *Manager) AgentTemplate(ctx context.Context, agentID string) (AgentTemplate, error) {
	m.mu.Lock()
	s := m.settings
	id, name, err := m.chooseAgentLocked(agentID, s)
	client := m.client
	m.mu.Unlock()
	if err != nil {
		return AgentTemplate{}, err
	}
	if client == nil {
		return AgentTemplate{}, fmt.Errorf("%w: add your API key first", ErrNoKey)
	}
	cache := &m.templates
	var vars []string
	if e, ok := cache.Load(id); ok && time.Since(e.(templateCacheEntry).at) < templateCacheFor {
		vars = e.(templateCacheEntry).vars
		if name == "" {
			name = e.(templateCacheEntry).name
		}
	} else {
		a, err := client.GetAgent(ctx, id)
		if err != nil {
			return AgentTemplate{}, fmt.Errorf("could not read the agent's template variables: %w", err)
		}
		vars = templateVariables(agentTemplateTexts(a.CallTemplate)...)
		if name == "" {
			name = a.Name
		}
		cache.Store(id, templateCacheEntry{vars: vars, name: a.Name, at: time.Now()})
	}
	at := AgentTemplate{AgentID: id, AgentName: name, Variables: vars, Values: map[string]string{}}
	for _, v := range vars {
		if val := s.TemplateValues[id][v]; strings.TrimSpace(val) != "" {
			at.Values[v] = val
		} else {
			at.Missing = append(at.Missing, v)
		}
	}
	return at, nil
}

// templateContext is what a create with agentID sends as templateContext
// (nil when the user keeps no values for it).
func templateContext(s Settings, agentID string) map[string]any {
	vals := s.TemplateValues[agentID]
	if len(vals) == 0 {
		return nil
	}
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		if strings.TrimSpace(v) != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// validateTemplateValues says what is wrong with stored template values.
func validateTemplateValues(tv map[string]map[string]string) error {
	for agent, vals := range tv {
		if strings.TrimSpace(agent) == "" {
			return fmt.Errorf("template values need an agent id")
		}
		if len(vals) > maxTemplateVarCount {
			return fmt.Errorf("agent %s has %d template values; at most %d are kept", shortID(agent), len(vals), maxTemplateVarCount)
		}
		for name, v := range vals {
			if !validTemplateName.MatchString(name) {
				return fmt.Errorf("template variable name %q is not a name like customerName (letters, digits, _ and .)", name)
			}
			if n := len([]rune(v)); n > maxTemplateValue {
				return fmt.Errorf("the value of template variable %s is %d characters long; at most %d", name, n, maxTemplateValue)
			}
		}
	}
	return nil
}
