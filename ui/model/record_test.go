package model

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
)

func TestRecordCallsChoice(t *testing.T) {
	a := AgentChoicesOf(calls.Snapshot{Agents: []calls.AgentView{{ID: "a1", Name: "Support"}, {ID: "a2", Name: "Sales"}}}, "")
	saved := settings.NewAgentSet("a2", "gone")
	if got := RecordTicked(a, saved); !reflect.DeepEqual(got, []string{"Sales"}) {
		t.Errorf("ticked %v", got)
	}
	if got := RecordCalls(a, []string{"Support"}, saved); got != settings.NewAgentSet("gone", "a1") || !reflect.DeepEqual(got.Map(), map[string]bool{"a1": true, "gone": true}) {
		t.Errorf("after ticking Support, unticking Sales: %v", got.IDs())
	}
	if got := RecordCalls(a, nil, settings.AgentSet{}); got.IDs() != nil || got.Map() != nil {
		t.Errorf("nothing ticked: %v, want none (off by default)", got.IDs())
	}
	// In the file: a list, read back into the same set.
	b, _ := json.Marshal(struct{ S settings.AgentSet }{saved})
	var back struct{ S settings.AgentSet }
	if err := json.Unmarshal(b, &back); err != nil || back.S != saved || string(b) != `{"S":["a2","gone"]}` {
		t.Errorf("JSON %s -> %v (%v)", b, back.S.IDs(), err)
	}
}
