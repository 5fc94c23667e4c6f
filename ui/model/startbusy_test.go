package model

import (
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
)

// Issue 12, defect 6: "Start call" (and "Start call with") cannot be
// clicked while a call of ours is connecting, live or ending; the label says
// why, so a double click does nothing visible instead of an error window.
func TestStartDisabledWhileACallOfOursIsBusy(t *testing.T) {
	for _, c := range []struct {
		state calls.CallState
		why   string
	}{
		{calls.CallCreating, "connecting"},
		{calls.CallJoining, "connecting"},
		{calls.CallBilling, "a call is live"},
		{calls.CallEnding, "ending"},
	} {
		s := billingSnap()
		s.Agents = append(s.Agents, calls.AgentView{ID: "a2", Name: "Sales agent"})
		s.Ours[0].State = c.state
		v := Render(s, t0, opt)
		st := find(v.Menu, LabelStartCall)
		if st == nil || st.Enabled || !strings.Contains(st.Label, c.why) {
			t.Errorf("%v: start item %+v, want disabled saying %q", c.state, st, c.why)
		}
		if sub := find(v.Menu, LabelStartWith); sub == nil || sub.Enabled {
			t.Errorf("%v: %+v enabled", c.state, sub)
		}
	}
	// Once our call ended, Start call is offered again; also after an end
	// the server never confirmed (that can last, and must not lock the
	// user out: the status line already warns of it).
	for _, st := range []calls.CallState{calls.CallEnded, calls.CallEndUnconfirmed} {
		s := billingSnap()
		s.Ours[0].State = st
		if it := find(Render(s, t0, opt).Menu, LabelStartCall); it == nil || !it.Enabled {
			t.Errorf("%v: %+v", st, it)
		}
	}
}
