package model

import (
	"slices"

	"github.com/ultravox-tray/ultravox-tray/app/settings"
)

// FieldRecordCalls is the settings row of the per-agent "Record calls"
// boxes: calls with a ticked agent are created with recordingEnabled.
const FieldRecordCalls = "Record calls"

// RecordTicked are the labels of a's agents whose calls are recorded.
func RecordTicked(a AgentChoices, saved settings.AgentSet) []string {
	var out []string
	for _, l := range a.Labels {
		if saved.Has(a.ids[l]) {
			out = append(out, l)
		}
	}
	return out
}

// RecordCalls is the saved per-agent choice after the user ticked the
// labels in ticked: agents the window did not list keep their saved choice.
// Empty (the default) records nothing.
func RecordCalls(a AgentChoices, ticked []string, saved settings.AgentSet) settings.AgentSet {
	var ids []string
	listed := map[string]bool{}
	for _, l := range a.Labels {
		listed[a.ids[l]] = true
		if slices.Contains(ticked, l) {
			ids = append(ids, a.ids[l])
		}
	}
	for _, id := range saved.IDs() {
		if !listed[id] {
			ids = append(ids, id)
		}
	}
	return settings.NewAgentSet(ids...)
}
