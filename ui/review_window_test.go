package ui

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// fakeReviewer answers as the manager would from canned service records,
// and records what the windows asked.
type fakeReviewer struct {
	mu        sync.Mutex
	review    calls.Review
	usage     calls.Usage
	continued []string
	usageN    int
}

func (f *fakeReviewer) Review(ctx context.Context, id string) (calls.Review, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.review, nil
}
func (f *fakeReviewer) Continue(ctx context.Context, id string) (calls.CallView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.continued = append(f.continued, id)
	return calls.CallView{ID: "next"}, nil
}
func (f *fakeReviewer) StartText(ctx context.Context, agentID string) (calls.CallView, error) {
	return calls.CallView{}, nil
}
func (f *fakeReviewer) Recording(ctx context.Context, id string, w io.Writer) (int64, error) {
	return 0, nil
}
func (f *fakeReviewer) PlayRecording(ctx context.Context, id string, done func(error)) (func(), error) {
	return func() {}, nil
}
func (f *fakeReviewer) Usage(ctx context.Context, days int) (calls.Usage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usageN++
	return f.usage, nil
}

func newReviewTray(t *testing.T, s calls.Snapshot, rv *fakeReviewer) *Tray {
	app := &trayApp{App: test.NewTempApp(t), quitCh: make(chan struct{})}
	tr, err := NewTray(Config{App: app, Manager: newFakeManager(s), EndEverything: func(context.Context) {}, Location: time.UTC,
		Prefs: testPrefs(&memPrefs{s: settings.Defaults()}, &memKeys{}), Review: rv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Stop)
	return tr
}

// texts walks a window's content: every label's text and every button.
func texts(o fyne.CanvasObject) (labels []string, buttons map[string]*widget.Button) {
	buttons = map[string]*widget.Button{}
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			labels = append(labels, x.Text)
		case *widget.Button:
			buttons[x.Text] = x
		case *widget.Form:
			for _, it := range x.Items {
				labels = append(labels, it.Text)
				walk(it.Widget)
			}
		case *container.Scroll:
			walk(x.Content)
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return labels, buttons
}

func waitUI(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		onUI(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReviewWindowShowsTranscriptAndContinues(t *testing.T) {
	joined, ended := now0, now0.Add(90*time.Second)
	billed := ultravox.Duration(90 * time.Second)
	rv := &fakeReviewer{review: calls.Review{PricePerMinute: 0.05, Call: ultravox.Call{CallID: "h1", Created: now0, Joined: &joined, Ended: &ended,
		BilledDuration: &billed, BillingStatus: ultravox.BillingStatusBilled, EndReason: strPtr(ultravox.EndReasonTimeout), Agent: &ultravox.AgentBasic{Name: "Support agent"}},
		Messages: []ultravox.Message{{Role: ultravox.MessageRoleAgent, Text: "Hello there."}, {Role: ultravox.MessageRoleUser, Text: "Hi!"}}}}
	s := idle()
	s.History = []calls.HistoryEntry{{CallID: "h1", AgentName: "Support agent", Started: now0}}
	tr := newReviewTray(t, s, rv)
	onUI(func() { tr.do(model.Action{Kind: model.ActShowRecent, Arg: "h1"}) })
	var labels []string
	var buttons map[string]*widget.Button
	waitUI(t, "the transcript", func() bool {
		_, win, ok := tr.windows.review.get()
		if !ok {
			return false
		}
		labels, buttons = texts(win.Content())
		return strings.Contains(strings.Join(labels, "|"), "Hello there.")
	})
	all := strings.Join(labels, "|")
	for _, want := range []string{"Support agent:", "You:", "Hi!", "Timed out", "Billed", "$0.08", "The call reached its time limit. The agent's last words: “Hello there.”", "No summary"} {
		if !strings.Contains(all, want) {
			t.Errorf("review lacks %q: %s", want, all)
		}
	}
	if strings.Contains(all, "BILLING_STATUS") {
		t.Errorf("a wire name in the review: %s", all)
	}
	cont := buttons[model.LabelContinue]
	if cont == nil || cont.Disabled() || !buttons[model.LabelPlayRecording].Disabled() {
		t.Fatalf("buttons %v", buttons)
	}
	onUI(func() { test.Tap(cont) })
	waitUI(t, "Continue", func() bool {
		rv.mu.Lock()
		defer rv.mu.Unlock()
		return len(rv.continued) == 1 && rv.continued[0] == "h1"
	})
}

func TestUsageWindowBarsAndHover(t *testing.T) {
	now := time.Now().UTC()
	var u calls.Usage
	for i := 29; i >= 0; i-- {
		u.Days = append(u.Days, calls.UsageDay{Day: now.Truncate(24*time.Hour).AddDate(0, 0, -i)})
	}
	u.Days[28].Minutes = 20
	u.Fetched = now
	rv := &fakeReviewer{usage: u}
	s := idle()
	s.PricePerMinute = 0.05
	s.DailyBudget = 2
	tr := newReviewTray(t, s, rv)
	onUI(tr.windows.showUsage)
	var uw *usageWindow
	waitUI(t, "usage fetched", func() bool {
		w, _, ok := tr.windows.usage.get()
		uw = w
		return ok && len(w.chart.v.Bars) == 30 && !strings.HasPrefix(w.status.Text, "Loading")
	})
	onUI(func() {
		if uw.chart.v.Budget != 0.8 || uw.budget.Text != "Daily budget $2.00" || uw.chart.line.Hidden {
			t.Errorf("budget line %v %q hidden %v", uw.chart.v.Budget, uw.budget.Text, uw.chart.line.Hidden)
		}
		uw.chart.bars[28].MouseIn(nil)
		if !strings.Contains(uw.detail.Text, "20 min, $1.00") {
			t.Errorf("hover detail %q", uw.detail.Text)
		}
		uw.win.Close()
	})
	rv.mu.Lock()
	n := rv.usageN
	rv.mu.Unlock()
	if n != 1 {
		t.Errorf("%d usage fetches, want 1", n)
	}
}

func TestHistoryWindowFiltersAndOpensReview(t *testing.T) {
	s := idle()
	s.History = []calls.HistoryEntry{{CallID: "a", AgentName: "Support agent", Started: now0}, {CallID: "b", AgentName: "Sales", Started: now0}}
	rv := &fakeReviewer{review: calls.Review{Call: ultravox.Call{CallID: "b", Created: now0}}}
	tr := newReviewTray(t, s, rv)
	onUI(tr.windows.showHistory)
	onUI(func() {
		h, _, ok := tr.windows.history.get()
		if !ok || len(h.view.Rows) != 2 {
			t.Fatalf("history rows %+v", h.view.Rows)
		}
		h.sel.SetSelected("Sales")
		if len(h.view.Rows) != 1 || h.view.Rows[0].CallID != "b" {
			t.Fatalf("filtered rows %+v", h.view.Rows)
		}
		h.list.Select(widget.TableCellID{Row: 0, Col: 0})
		if _, _, ok := tr.windows.review.get(); !ok {
			t.Error("selecting a call did not open its review")
		}
	})
}

func strPtr(s string) *string { return &s }
