package calls

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// Every client tool invocation is answered within a second: a tool the app
// does not have with errorType "undefined" and a message naming it, the
// built-in localTime with the local time. Both show in the transcript.
func TestClientToolsAnswered(t *testing.T) {
	e := newEnv(t, envOpt{sim: []simtest.Option{func(o *simulator.Options) {
		o.Agents = []simulator.AgentSeed{{Name: "Order desk", ClientTool: "lookupOrder"}}
		o.SpeakGreeting = false
	}}})
	v := e.startBilling()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var first simulator.ToolInvocation
	for first.InvocationID == "" {
		if invs := e.sim.ToolInvocations(v.ID); len(invs) > 0 {
			first = invs[0]
		} else if ctx.Err() != nil {
			t.Fatal("the agent never invoked its tool")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	got, err := e.sim.WaitToolReply(ctx, first.InvocationID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ErrorType != ultravox.ToolErrorUndefined || !strings.Contains(got.ErrorMessage, `"lookupOrder"`) || !strings.Contains(got.ErrorMessage, "not available in Ultravox Tray") {
		t.Fatalf("reply to an unknown tool: %+v, want errorType undefined and a message naming it", got)
	}
	if got.Latency() > time.Second {
		t.Errorf("reply took %v, want within a second", got.Latency())
	}

	id, err := e.sim.InvokeClientTool(v.ID, "localTime", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.sim.WaitToolReply(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		LocalTime string `json:"localTime"`
		TimeZone  string `json:"timeZone"`
	}
	if got.ErrorType != "" || json.Unmarshal([]byte(got.Result), &res) != nil || res.TimeZone == "" {
		t.Fatalf("localTime reply %+v, want a JSON result with the local time", got)
	}
	if lt, err := time.Parse(time.RFC3339, res.LocalTime); err != nil || time.Since(lt).Abs() > time.Minute {
		t.Fatalf("localTime %q is not now (%v)", res.LocalTime, err)
	}
	if got.Latency() > time.Second {
		t.Errorf("reply took %v, want within a second", got.Latency())
	}
	e.waitSnap("tool lines in the transcript", 5*time.Second, func(s Snapshot) bool {
		if len(s.Ours) != 1 {
			return false
		}
		var unknown, local bool
		for _, l := range s.Ours[0].Transcript {
			unknown = unknown || (l.Role == RoleTool && l.Text == "agent asked for tool lookupOrder; not available in Ultravox Tray")
			local = local || (l.Role == RoleTool && strings.HasPrefix(l.Text, "agent asked for tool localTime; answered: {"))
		}
		return unknown && local
	})
}
