package simulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// Template variables. An agent's system prompt may use {{variables}},
// filled from a create's templateContext. A seed's TemplateVariables are
// added to its prompt (GET /api/agents/{id} shows them in
// callTemplate.systemPrompt), and a create that lacks a value for one is
// refused with 400, naming it. The exact wording of the real service's
// refusal is not documented; this one follows its field-error shape.

// templateVar matches {{name}} and {{ name }} (also dotted names).
var templateVar = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}`)

// TemplateVariables lists the {{variables}} text uses, each once, sorted.
func TemplateVariables(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range templateVar.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// seedPrompt is a seed's system prompt with each declared variable used.
func seedPrompt(a AgentSeed) string {
	p := a.SystemPrompt
	have := map[string]bool{}
	for _, v := range TemplateVariables(p) {
		have[v] = true
	}
	for _, v := range a.TemplateVariables {
		if v = strings.TrimSpace(v); v != "" && !have[v] {
			p = strings.TrimSpace(p + " The " + v + " is {{" + v + "}}.")
			have[v] = true
		}
	}
	return p
}

// checkTemplateContext refuses an agent create whose templateContext lacks
// a value for a variable of the agent's prompt, or is not an object.
func checkTemplateContext(raw json.RawMessage, agent *Agent) (map[string]any, *apiError) {
	ctx := map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &ctx); err != nil {
			return nil, &apiError{status: http.StatusBadRequest, body: fieldErrors{"templateContext": {"templateContext must be an object of variable values: " + err.Error()}}}
		}
	}
	if agent == nil || agent.CallTemplate == nil {
		return ctx, nil
	}
	var missing []string
	for _, v := range TemplateVariables(agent.CallTemplate.SystemPrompt) {
		if val, ok := lookupVar(ctx, v); !ok || val == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		fe := fieldErrors{}
		for _, v := range missing {
			fe.add("templateContext", "Missing value for template variable %q used by the agent's prompt.", v)
		}
		return nil, &apiError{status: http.StatusBadRequest, body: fe}
	}
	return ctx, nil
}

// lookupVar finds a (dotted) variable in ctx, as text.
func lookupVar(ctx map[string]any, name string) (string, bool) {
	var cur any = ctx
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = m[part]; !ok || cur == nil {
			return "", false
		}
	}
	if s, ok := cur.(string); ok {
		return s, true
	}
	b, _ := json.Marshal(cur)
	return string(b), true
}

// renderTemplate fills text's variables from ctx (missing ones stay).
func renderTemplate(text string, ctx map[string]any) string {
	return templateVar.ReplaceAllStringFunc(text, func(m string) string {
		name := templateVar.FindStringSubmatch(m)[1]
		if v, ok := lookupVar(ctx, name); ok {
			return v
		}
		return m
	})
}

// TemplateContext returns the templateContext the create of callID sent
// (nil for none or an ad-hoc call), for tests.
func (s *Server) TemplateContext(callID string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[callID]; c != nil {
		return c.templateContext
	}
	return nil
}
