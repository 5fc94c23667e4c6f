package settings

import (
	"encoding/json"
	"slices"
	"strings"
)

// AgentSet is a set of agent IDs (e.g. the agents whose calls are
// recorded). It is stored in the file as a JSON list and kept in a
// canonical form (sorted, no duplicates), so Settings stay comparable
// with ==.
type AgentSet struct{ ids string } // sorted IDs joined by "\n"

// NewAgentSet is the set of ids (empty ones dropped).
func NewAgentSet(ids ...string) AgentSet {
	var keep []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !strings.Contains(id, "\n") {
			keep = append(keep, id)
		}
	}
	slices.Sort(keep)
	return AgentSet{ids: strings.Join(slices.Compact(keep), "\n")}
}

// IDs are the set's agent IDs, sorted.
func (a AgentSet) IDs() []string {
	if a.ids == "" {
		return nil
	}
	return strings.Split(a.ids, "\n")
}

// Has reports whether id is in the set.
func (a AgentSet) Has(id string) bool { return id != "" && slices.Contains(a.IDs(), id) }

// Map is the set as map[id]true (nil when empty).
func (a AgentSet) Map() map[string]bool {
	var m map[string]bool
	for _, id := range a.IDs() {
		if m == nil {
			m = map[string]bool{}
		}
		m[id] = true
	}
	return m
}

// MarshalJSON writes the set as a list of IDs.
func (a AgentSet) MarshalJSON() ([]byte, error) {
	ids := a.IDs()
	if ids == nil {
		ids = []string{}
	}
	return json.Marshal(ids)
}

// UnmarshalJSON reads a list of IDs.
func (a *AgentSet) UnmarshalJSON(b []byte) error {
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return err
	}
	*a = NewAgentSet(ids...)
	return nil
}
