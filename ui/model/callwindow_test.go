package model

import (
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
)

func TestCallWindowView(t *testing.T) {
	t.Parallel()
	withCall := func(f func(c *calls.CallView)) calls.Snapshot {
		s := billingSnap()
		f(&s.Ours[0])
		return s
	}
	cases := []struct {
		name string
		snap calls.Snapshot
		want CallWindow
	}{
		{"billing", withCall(func(c *calls.CallView) { c.AgentState = "listening"; c.MicMuted = true }), CallWindow{
			Title: "Call with Support agent", Header: "Support agent: billing 2:31, $0.13 (ends in 1:29)",
			AgentState: "Agent: listening", MicMuted: true, Talk: true, CanEnd: true,
		}},
		{"joining: end works, talking does not", withCall(func(c *calls.CallView) { c.State, c.Joined = calls.CallJoining, time.Time{} }), CallWindow{
			Title: "Call with Support agent", Header: "Support agent: joining", AgentState: "Agent: —", CanEnd: true,
		}},
		{"ending: nothing to click", withCall(func(c *calls.CallView) { c.State = calls.CallEnding }), CallWindow{
			Title: "Call with Support agent", Header: "Support agent: ending", AgentState: "Agent: —",
		}},
		{"end unconfirmed from an earlier session", withCall(func(c *calls.CallView) {
			c.State, c.Recovered, c.AgentName = calls.CallEndUnconfirmed, true, ""
			c.Note = "  the end is not confirmed yet: Ultravox answered 503"
			c.AudioError = "no microphone"
		}), CallWindow{
			Title: "Call with a1", Header: "a1 (earlier session): end not confirmed: may still be billing", AgentState: "Agent: —",
			Note:       "An earlier session of Ultravox Tray left this call live (it was in the call journal); it is being ended. The end is not confirmed yet: Ultravox answered 503.",
			AudioError: "Audio: no microphone (you can still type)", CanEnd: true,
		}},
		{"a note that ends a sentence keeps its mark", withCall(func(c *calls.CallView) { c.Note = "joined?" }), CallWindow{
			Title: "Call with Support agent", Header: "Support agent: billing 2:31, $0.13 (ends in 1:29)", AgentState: "Agent: —",
			Note: "Joined?", Talk: true, CanEnd: true,
		}},
		{"transcript", withCall(func(c *calls.CallView) {
			c.Transcript = []calls.TranscriptLine{{Role: "agent", Text: "Hello", Final: true}, {Ordinal: 1, Role: "user", Text: "I need", Final: false}}
		}), CallWindow{
			Title: "Call with Support agent", Header: "Support agent: billing 2:31, $0.13 (ends in 1:29)", AgentState: "Agent: —",
			Talk: true, CanEnd: true, Transcript: "Agent: Hello\nYou: I need …", Lines: 2,
		}},
		{"gone from the snapshot", idleSnap(), CallWindow{Ended: true, Header: callEndedHeader}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CallWindowView(c.snap, "c1", t0); got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}
