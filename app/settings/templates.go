package settings

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strings"
)

// Template values: the user's values for agents' {{variables}}, kept per
// agent (agent id -> variable name -> value) and sent as templateContext
// when a call with that agent is created.

// Limits of the template values.
const (
	MaxTemplateValue     = 2000 // characters per value
	MaxTemplateVariables = 50   // variables per agent
)

var templateName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// templateValueErrors lists what is wrong with tv ("templateValues" field
// errors), in a stable order.
func templateValueErrors(tv map[string]map[string]string) []FieldError {
	var out []FieldError
	agents := make([]string, 0, len(tv))
	for a := range tv {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	for _, agent := range agents {
		if msg := templateAgentProblem(agent, tv[agent]); msg != "" {
			out = append(out, FieldError{"templateValues", msg})
		}
	}
	return out
}

// templateAgentProblem says what is wrong with one agent's values, or "".
func templateAgentProblem(agent string, vals map[string]string) string {
	if strings.TrimSpace(agent) == "" {
		return "template values must belong to an agent id"
	}
	if len(vals) > MaxTemplateVariables {
		return fmt.Sprintf("agent %s has %d template values; at most %d are kept", agent, len(vals), MaxTemplateVariables)
	}
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if !templateName.MatchString(name) {
			return fmt.Sprintf("template variable name %q of agent %s is not a name like customerName (letters, digits, _ and .)", name, agent)
		}
		if n := len([]rune(vals[name])); n > MaxTemplateValue {
			return fmt.Sprintf("the value of template variable %s of agent %s is %d characters long; at most %d", name, agent, n, MaxTemplateValue)
		}
	}
	return ""
}

// goodTemplateValues keeps the agents whose values are all valid.
func goodTemplateValues(tv map[string]map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for agent, vals := range tv {
		if templateAgentProblem(agent, vals) == "" {
			out[agent] = maps.Clone(vals)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// WithTemplateValues returns s with agentID's template values set to vals
// (merged over the values kept before; an empty value removes a variable).
// s itself is not changed.
func (s Settings) WithTemplateValues(agentID string, vals map[string]string) Settings {
	out := make(map[string]map[string]string, len(s.TemplateValues)+1)
	for a, v := range s.TemplateValues {
		out[a] = maps.Clone(v)
	}
	cur := out[agentID]
	if cur == nil {
		cur = map[string]string{}
	}
	for k, v := range vals {
		if strings.TrimSpace(v) == "" {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	if len(cur) == 0 {
		delete(out, agentID)
	} else {
		out[agentID] = cur
	}
	if len(out) == 0 {
		out = nil
	}
	s.TemplateValues = out
	return s
}
