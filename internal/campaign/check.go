package campaign

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
)

// The invariants.
const (
	InvEndedInTime = "ended-within-6s"    // every joined call ended within 6 s of the intent to stop
	InvEndedAtExit = "ended-before-exit"  // Quit and SIGTERM/SIGHUP end the app's calls before it exits
	InvOneCall     = "one-call-per-start" // at most one call per Start call click
	InvIdleTruth   = "idle-while-billing" // the app never said idle while a call billed
	InvSettings    = "settings-kept"
	InvHistory     = "history-kept"
	InvNoStray     = "no-stray-process"
	InvCleanExit   = "clean-exit" // SIGTERM and Quit exit 0 after "ultravox-tray stopped"
	InvIdleAgain   = "idle-again" // the tray says Idle again within the idle poll + 5 s of the stop and the fault's end
	InvSchema      = "schema"     // the app's requests follow the published schema
	InvHarness     = "harness"    // the run could not go on (the app never showed its tray, ...)
	EndBound       = 6 * time.Second
	idleSlack      = 300 * time.Millisecond // a join this close before an "Idle" read may not have reached the tray yet
)

// Invariants lists every invariant in report order.
var Invariants = []string{InvEndedInTime, InvEndedAtExit, InvOneCall, InvIdleTruth, InvIdleAgain, InvSettings, InvHistory, InvNoStray, InvCleanExit, InvSchema, InvHarness}

// Exit is one app process's end.
type Exit struct {
	At      time.Time
	Code    int    // -1 when killed by a signal
	Signal  string // the signal that killed it, if any
	Stopped bool   // it logged "ultravox-tray stopped"
	Panic   string // the first line of a Go panic in its output
	// Hung is how long the test waited before it killed a process that was
	// asked to stop and did not (zero when it exited by itself).
	Hung  time.Duration
	Clean bool // it was asked to stop (Quit, SIGTERM): exit 0 expected
}

// Observation is one read of the tray tooltip that said "Idle", between
// From (the read was sent) and To (the answer arrived).
type Observation struct{ From, To time.Time }

// Run is what one seed recorded: the simulator's calls and the app's side.
type Run struct {
	Plan   Plan
	Calls  []simulator.Call
	Clicks int // Start call clicks
	// Intent is the intent to stop: the End/Quit click or the signal, or
	// for SIGKILL the restart (nothing can end a call before it).
	Intent time.Time
	// StopExit is the exit of the process the stop ended (zero for the
	// End click and SIGKILL).
	StopExit *Exit
	// SocketClosed is when the fault closed the call's socket (zero: never);
	// the app must then end that call as if asked to.
	SocketClosed time.Time
	Exits        []Exit
	Idle         []Observation
	Strays       []string
	SettingsWant map[string]any
	SettingsGot  map[string]any
	SettingsErr  error
	// HistorySeen are the call ids the history held after any exit but the
	// last; HistoryFinal what it holds at the end.
	HistorySeen  map[string]bool
	HistoryFinal map[string]bool
	HistoryErr   error
	Schema       []string
	Harness      []string
	// NotIdle says what the tray showed when it did not return to Idle
	// after the stop ("" when it did).
	NotIdle  string
	Requests string // the simulator's request log, for the report of a failure
	Output   string // the app processes' output, for the report of a failure
}

// Violation is one broken invariant.
type Violation struct {
	Invariant string
	Detail    string
}

func (v Violation) String() string { return v.Invariant + ": " + v.Detail }

// Check returns every invariant the run broke.
func Check(r Run) []Violation {
	var out []Violation
	add := func(inv, format string, args ...any) {
		out = append(out, Violation{inv, fmt.Sprintf(format, args...)})
	}
	for _, h := range r.Harness {
		add(InvHarness, "%s", h)
	}
	for _, c := range r.Calls {
		if c.Joined == nil {
			continue // never joined: costs nothing
		}
		intent := r.Intent
		// After SIGKILL nothing can end a call before the restart, so the
		// closed socket counts only when the app lived on.
		if !r.SocketClosed.IsZero() && r.Plan.Stop != StopKILL && c.Joined.Before(r.SocketClosed) && (intent.IsZero() || r.SocketClosed.Before(intent)) {
			intent = r.SocketClosed
		}
		if intent.IsZero() {
			add(InvEndedInTime, "call %s joined but no stop was ever made", c.CallID)
			continue
		}
		if c.Joined.After(intent) {
			intent = *c.Joined // joined after the intent: the app must end it at once
		}
		switch {
		case c.Ended == nil:
			add(InvEndedInTime, "call %s (joined %s) still live, %v after the intent to stop", c.CallID, clock(*c.Joined), time.Since(intent).Round(time.Millisecond))
		case c.Ended.Sub(intent) > EndBound:
			add(InvEndedInTime, "call %s ended %v after the intent to stop (%s)", c.CallID, c.Ended.Sub(intent).Round(time.Millisecond), deref(c.EndReason))
		}
		if x := r.StopExit; x != nil && c.Joined.Before(r.Intent) && (c.Ended == nil || c.Ended.After(x.At)) {
			ended := "never"
			if c.Ended != nil {
				ended = fmt.Sprintf("%v after", c.Ended.Sub(x.At).Round(time.Millisecond))
			}
			add(InvEndedAtExit, "%s: the app exited (%s) with call %s live; it ended %s", r.Plan.Stop, x.describe(), c.CallID, ended)
		}
	}
	if len(r.Calls) > r.Clicks {
		ids := make([]string, len(r.Calls))
		for i, c := range r.Calls {
			ids[i] = c.CallID
		}
		add(InvOneCall, "%d calls for %d Start call click(s): %s", len(r.Calls), r.Clicks, strings.Join(ids, ", "))
	}
	for _, o := range r.Idle {
		for _, c := range r.Calls {
			if c.Joined != nil && c.Joined.Before(o.From.Add(-idleSlack)) && (c.Ended == nil || c.Ended.After(o.To)) {
				add(InvIdleTruth, "the tray said Idle at %s while call %s billed (joined %s, ended %s)", clock(o.From), c.CallID, clock(*c.Joined), clockp(c.Ended))
				break
			}
		}
	}
	switch {
	case r.SettingsErr != nil:
		add(InvSettings, "%v", r.SettingsErr)
	default:
		var bad []string
		for k, want := range r.SettingsWant {
			if got, ok := r.SettingsGot[k]; !ok || fmt.Sprint(got) != fmt.Sprint(want) {
				bad = append(bad, fmt.Sprintf("%s=%v (saved %v)", k, got, want))
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			add(InvSettings, "settings.json no longer holds what was saved: %s", strings.Join(bad, ", "))
		}
	}
	if r.HistoryErr != nil {
		add(InvHistory, "%v", r.HistoryErr)
	}
	var lost []string
	for id := range r.HistorySeen {
		if !r.HistoryFinal[id] {
			lost = append(lost, id)
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		add(InvHistory, "history.json lost call(s) it held before: %s", strings.Join(lost, ", "))
	}
	if r.NotIdle != "" {
		add(InvIdleAgain, "%s", r.NotIdle)
	}
	for _, s := range r.Strays {
		add(InvNoStray, "%s", s)
	}
	for _, x := range r.Exits {
		if x.Clean && (x.Code != 0 || !x.Stopped) {
			add(InvCleanExit, "asked to stop, the app exited %s", x.describe())
		}
	}
	for _, s := range r.Schema {
		add(InvSchema, "%s", s)
	}
	return out
}

func (x Exit) describe() string {
	s := fmt.Sprintf("code %d", x.Code)
	if x.Signal != "" {
		s = "killed by " + x.Signal
	}
	if x.Hung > 0 {
		s = fmt.Sprintf("no exit within %v of the request to stop; killed by the test", x.Hung)
	}
	if !x.Stopped {
		s += ", no \"ultravox-tray stopped\""
	}
	if x.Panic != "" {
		s += ", " + x.Panic
	}
	return s
}

func clock(t time.Time) string { return t.Format("15:04:05.000") }

func clockp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return clock(*t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
