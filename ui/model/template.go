package model

import (
	"fmt"
	"strings"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
)

// The template values form: "Start call with…" on an agent whose prompt
// uses {{variables}} without a kept value asks for them first.

// Words of the template values form.
const (
	TemplateStart  = "Start call"
	TemplateSave   = "Save"
	TemplateCancel = "Cancel"
	// LabelTemplateValues opens the form from the settings window for the
	// agent chosen there.
	LabelTemplateValues = "Template values…"
)

// TemplateNone says an agent needs no values.
func TemplateNone(at calls.AgentTemplate) Notice {
	who := at.AgentName
	if who == "" {
		who = "This agent"
	}
	return Notice{Title: "Template values", Text: who + " uses no {{variables}} in its prompt, so it needs no template values."}
}

// TemplateForm is what the form shows.
type TemplateForm struct {
	Title string
	Intro string
	// Fields are the agent's variables in order, with the kept values.
	Fields []TemplateField
}

// TemplateField is one variable.
type TemplateField struct {
	Name  string
	Value string
	// Missing: no value is kept yet.
	Missing bool
}

// TemplateFormOf is the form for at.
func TemplateFormOf(at calls.AgentTemplate) TemplateForm {
	who := at.AgentName
	if who == "" {
		who = "this agent"
	}
	f := TemplateForm{
		Title: "Values for " + who,
		Intro: fmt.Sprintf("The prompt of %s uses these variables. Fill them in to start the call; "+
			"they are kept in the settings for the next calls with this agent.", who),
	}
	missing := map[string]bool{}
	for _, m := range at.Missing {
		missing[m] = true
	}
	for _, v := range at.Variables {
		f.Fields = append(f.Fields, TemplateField{Name: v, Value: at.Values[v], Missing: missing[v]})
	}
	return f
}

// EditedValues is what the user typed, by variable name, for keeping: an
// empty field removes a kept value (used when editing from the settings).
func (f TemplateForm) EditedValues(typed map[string]string) map[string]string {
	out := map[string]string{}
	for _, fl := range f.Fields {
		out[fl.Name] = strings.TrimSpace(typed[fl.Name])
	}
	return out
}

// TemplateValues checks what the user typed (by variable name): every
// variable needs a value. It returns the values to keep, or an error that
// names the empty ones.
func (f TemplateForm) TemplateValues(typed map[string]string) (map[string]string, error) {
	out := map[string]string{}
	var empty []string
	for _, fl := range f.Fields {
		v := strings.TrimSpace(typed[fl.Name])
		if v == "" {
			empty = append(empty, fl.Name)
			continue
		}
		out[fl.Name] = v
	}
	if len(empty) > 0 {
		return nil, fmt.Errorf("fill in %s to start the call", strings.Join(empty, ", "))
	}
	return out, nil
}
