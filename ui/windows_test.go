package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

func TestCallWindow(t *testing.T) {
	m := newFakeManager(billing())
	tr, _, _ := newTestTray(t, m, nil)
	s := billing()
	s.Ours[0].Transcript = []calls.TranscriptLine{{Ordinal: 0, Role: "agent", Text: "Hello, how can I help?", Final: true}, {Ordinal: 1, Role: "user", Text: "I need", Final: false}}
	s.Ours[0].AgentState = "listening"
	m.mu.Lock()
	m.snap = s
	m.mu.Unlock()
	onUI(func() { tr.windows.showCall("c1") })
	cw, _, _ := tr.windows.call.get()
	if cw == nil {
		t.Fatal("no call window")
	}
	onUI(func() {
		if cw.transcript.Text != "Agent: Hello, how can I help?\nYou: I need …" {
			t.Errorf("transcript %q", cw.transcript.Text)
		}
		if !strings.HasPrefix(cw.header.Text, "Support agent: billing 0:0") || cw.agentState.Text != "Agent: listening" {
			t.Errorf("header %q / %q", cw.header.Text, cw.agentState.Text)
		}
		test.Tap(cw.micMute)
		cw.text.SetText("hello there")
		test.Tap(cw.send)
	})
	waitCalls(t, m, "mic c1 true", "text c1 hello there")
	onUI(func() { test.Tap(cw.end) })
	waitCalls(t, m, "mic c1 true", "text c1 hello there", "end c1")
	// The manager's words about the call show under the header.
	onUI(func() {
		if cw.note.Visible() || cw.audioErr.Visible() {
			t.Errorf("note %q / audio %q shown without a note", cw.note.Text, cw.audioErr.Text)
		}
		u := billing()
		u.Ours[0].State = calls.CallEndUnconfirmed
		u.Ours[0].Recovered = true
		u.Ours[0].Note = "the end is not confirmed yet: Ultravox answered 503"
		u.Ours[0].AudioError = "no microphone"
		cw.update(u, time.Now())
		if !cw.note.Visible() || cw.note.Text != "An earlier session of Ultravox Tray left this call live (it was in the call journal); it is being ended. The end is not confirmed yet: Ultravox answered 503." {
			t.Errorf("note %q", cw.note.Text)
		}
		if !cw.audioErr.Visible() || cw.audioErr.Text != "Audio: no microphone (you can still type)" {
			t.Errorf("audio %q", cw.audioErr.Text)
		}
		if cw.header.Text != "Support agent (earlier session): end not confirmed: may still be billing" || cw.end.Disabled() {
			t.Errorf("header %q, end disabled %v", cw.header.Text, cw.end.Disabled())
		}
	})
	// The call ends: the window says so and disables its controls.
	onUI(func() {
		cw.update(idle(), time.Now())
		if cw.header.Text != "This call has ended." || !cw.send.Disabled() || !cw.end.Disabled() || cw.note.Visible() {
			t.Errorf("after end: %q", cw.header.Text)
		}
		cw.win.Close()
	})
}

func TestRecentDetails(t *testing.T) {
	h := calls.HistoryEntry{CallID: "call-42", AgentName: "Support agent", Started: now0, BilledDuration: 151 * time.Second,
		Cost: 0.13, EndReason: "timeout", BillingStatus: "BILLING_STATUS_BILLED"}
	onUI(func() {
		d, ok := model.Recent(calls.Snapshot{History: []calls.HistoryEntry{h}}, "call-42", time.UTC)
		if !ok {
			t.Fatal("no details of a call in the history")
		}
		obj := recentDetails(d, func() {})
		var texts []string
		var walk func(o fyne.CanvasObject)
		walk = func(o fyne.CanvasObject) {
			switch x := o.(type) {
			case *widget.Label:
				texts = append(texts, x.Text)
			case *widget.Form:
				for _, it := range x.Items {
					texts = append(texts, it.Text)
					walk(it.Widget)
				}
			case *fyne.Container:
				for _, c := range x.Objects {
					walk(c)
				}
			}
		}
		walk(obj)
		all := strings.Join(texts, "|")
		for _, want := range []string{"Support agent", "call-42", "Sun Nov 22 2026 14:00:00 UTC", "2:31", "$0.13", "Timed out", "Billed"} {
			if !strings.Contains(all, want) {
				t.Errorf("details lack %q: %s", want, all)
			}
		}
	})
}

// Every kind of window is open at most once: asking again for the same one
// focuses it, asking for another call's replaces it.
func TestOneWindowOfAKind(t *testing.T) {
	s := billing()
	s.Ours = append(s.Ours, calls.CallView{ID: "c2", Ours: true, AgentName: "Sales", State: calls.CallJoining})
	s.History = []calls.HistoryEntry{{CallID: "h1", AgentName: "Support agent"}, {CallID: "h2", AgentName: "Sales"}}
	m := newFakeManager(s)
	tr, app, _ := newTestTray(t, m, nil)
	var before int
	onUI(func() { before = len(app.Driver().AllWindows()) })
	open := func() (n int) { onUI(func() { n = len(app.Driver().AllWindows()) - before }); return }
	w := tr.windows

	onUI(w.showSettings)
	sw, _, _ := w.settings.get()
	onUI(w.showSettings)
	if sw2, _, _ := w.settings.get(); sw2 != sw || open() != 1 {
		t.Fatalf("settings twice: same window %v, %d open", sw2 == sw, open())
	}
	onUI(func() { w.showCall("c1") })
	c1, _, _ := w.call.get()
	onUI(func() { w.showCall("c1") })
	if c, _, _ := w.call.get(); c != c1 || open() != 2 {
		t.Fatalf("call c1 twice: same window %v, %d open", c == c1, open())
	}
	onUI(func() { w.showCall("c2") })
	if c, _, _ := w.call.get(); c == c1 || c.callID != "c2" || open() != 2 {
		t.Fatalf("call c2 did not replace c1: %d open", open())
	}
	onUI(func() { w.showRecent("h1"); w.showRecent("h1") })
	_, r1, _ := w.recent.get()
	onUI(func() { w.showRecent("h2") })
	_, r2, _ := w.recent.get()
	if r1 == r2 || r2.Title() != "Call with Sales" || open() != 3 {
		t.Fatalf("recent: %q, %d open", r2.Title(), open())
	}
	onUI(func() { w.showNotice(model.Notice{Title: "one"}); w.showNotice(model.Notice{Title: "two"}) })
	if _, n, _ := w.notice.get(); n.Title() != "two" || open() != 4 {
		t.Fatalf("notices: %q, %d open", n.Title(), open())
	}
	// Closing a window frees its kind.
	onUI(func() { _, win, _ := w.call.get(); win.Close() })
	if _, _, ok := w.call.get(); ok || open() != 3 {
		t.Fatalf("closed call window still held (%v), %d open", ok, open())
	}
	onUI(func() {
		_, sw, _ := w.settings.get()
		_, rw, _ := w.recent.get()
		_, nw, _ := w.notice.get()
		sw.Close()
		rw.Close()
		nw.Close()
	})
	if open() != 0 {
		t.Errorf("%d windows left open", open())
	}
}
