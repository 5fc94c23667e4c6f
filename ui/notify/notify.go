// Package notify turns the call manager's events into desktop notifications:
// one per event, duplicates dropped, bursts merged into one popup, and the
// billing-risk ones marked urgent. The sender is an interface; the real one
// talks org.freedesktop.Notifications over the session bus.
package notify

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// Notification is one popup.
type Notification struct {
	Summary string
	Body    string
	Urgent  bool
	// Key groups notifications that replace each other on screen (e.g.
	// everything about one call); empty for none.
	Key string
	// Now marks news about money (a lost connection, an unconfirmed end, a
	// time-out, a call billing elsewhere): the Coalescer sends it at once,
	// on its own, never bundled or held for its rate window. Urgent implies
	// it.
	Now bool
}

// Sender shows notifications.
type Sender interface {
	Send(n Notification) error
}

// fromEvent maps a manager event to a notification. The body is the
// manager's own sentence (ev.Message); the words here are only the title and
// a fallback for an event that comes without one. ok is false for events that
// need no popup (our own hang-up: the billed summary follows; back online).
func fromEvent(ev calls.Event) (n Notification, ok bool) {
	c := ev.Call
	who := c.AgentName
	if who == "" {
		who = "The call"
	}
	body := ev.Message
	fallback := func(s string) {
		if body == "" {
			body = s
		}
	}
	n.Key = c.ID
	defer func() { n.Now = n.Now || n.Urgent || billingNews(ev.Kind) }()
	switch ev.Kind {
	case calls.EventCallStarted:
		n.Summary = "Call started: billing"
		fallback(fmt.Sprintf("%s joined; billing runs until the call ends (at most %s).", who, words.Clock(c.MaxDuration)))
	case calls.EventEndingSoon:
		n.Summary = "Call ending soon"
		fallback(fmt.Sprintf("%s reaches its time limit in %s.", who, words.Clock(c.Remaining(ev.Time))))
	case calls.EventTimedOut:
		n.Summary = "Call timed out"
		fallback(fmt.Sprintf("%s timed out after %s of billing.", who, words.Clock(billed(c))))
	case calls.EventEndedByAgent:
		n.Summary = "Agent ended the call"
		fallback(fmt.Sprintf("%s was ended by the agent after %s.", who, words.Clock(billed(c))))
	case calls.EventConnectionLost:
		n.Summary = "Connection lost"
		fallback(fmt.Sprintf("%s lost its connection after %s; the call has ended.", who, words.Clock(billed(c))))
	case calls.EventEndUnconfirmed:
		n.Summary = "Call may still be billing"
		n.Urgent = true
		fallback(fmt.Sprintf("Could not confirm that %s ended. Use \"End all calls on account\" or check the Ultravox console.", strings.ToLower(who[:1])+who[1:]))
	case calls.EventBillingElsewhere:
		n.Summary = "A call is billing elsewhere"
		fallback("A call this app did not start is live on your account.")
	case calls.EventRecoveredEnded:
		n.Summary = "Earlier call ended"
		if c.Joined.IsZero() {
			n.Summary = "Earlier call ended: nothing billed" // never joined: it cost nothing
		}
		fallback(fmt.Sprintf("%s from an earlier session was still live and has been ended.", who))
	case calls.EventBilledSummary:
		n.Summary = "Call billed"
		fallback(fmt.Sprintf("%s was billed for %s.", who, words.Clock(c.BilledDuration)))
	case calls.EventBudgetReached:
		n.Summary = "Daily budget reached"
		n.Key = "budget"
		fallback("Today's spend reached your daily budget; new calls are refused until tomorrow (UTC).")
	case calls.EventKeyRejected:
		n.Summary = "API key rejected"
		n.Key = "key"
		fallback("Ultravox rejected the API key. Set a new one in Settings.")
	case calls.EventUnjoinedExpired:
		n.Summary = "Call never joined"
		fallback(fmt.Sprintf("%s was never joined and expired; it cost nothing.", who))
	case calls.EventJournalProblem:
		// The journal is what ends this app's calls after a crash. Urgent
		// only when it cannot be read (calls it lists may be billing unseen);
		// a corrupt one moved aside with its references recovered is news,
		// not an alarm.
		n.Key = "journal"
		body = words.Sentence(body)
		if !ev.AtRisk {
			n.Summary = "Call journal repaired"
			fallback("The call journal was damaged and has been repaired.")
			break
		}
		n.Summary = "Crash protection problem"
		n.Urgent = true
		if body == "" {
			body = "The call journal could not be read or written."
		}
		body += " Until this is fixed, a call this app starts may keep billing after a crash until its time limit."
	case calls.EventHistoryProblem:
		n.Summary = "Call history problem"
		n.Key = "history"
		body = words.Sentence(body)
		fallback("The call history could not be read.")
		body += " Recent calls may be incomplete; billing and crash protection are not affected."
	case calls.EventEnded:
		// Our own hang-up: the user asked for it, and EventBilledSummary
		// follows with the billed time and cost.
		return Notification{}, false
	case calls.EventBackOnline:
		// Checks work again: the icon leaves "unknown" by itself, and going
		// offline made no popup either.
		return Notification{}, false
	default:
		// A kind this version does not know (e.g. one added to the manager
		// later): show the manager's own sentence rather than drop it.
		n.Summary = "Ultravox Tray"
		if name := ev.Kind.String(); name != "" && name != "unknown event" {
			n.Summary = words.Capitalize(name)
		}
		body = words.Sentence(body)
		if body == "" {
			if c.ID != "" {
				body = fmt.Sprintf("%s: %s.", who, ev.Kind)
			} else {
				body = fmt.Sprintf("The call manager reported: %s.", ev.Kind)
			}
		}
	}
	n.Body = body
	return n, true
}

// billingNews are the kinds that tell of money now: sent at once, alone.
func billingNews(k calls.EventKind) bool {
	switch k {
	case calls.EventEndingSoon, calls.EventTimedOut, calls.EventConnectionLost, calls.EventEndUnconfirmed,
		calls.EventBillingElsewhere, calls.EventBudgetReached:
		return true
	}
	return false
}

// billed is the call's billed time: the server's once settled, until then
// the elapsed time rounded up to the billing unit.
func billed(c calls.CallView) time.Duration {
	if c.Settled {
		return c.BilledDuration
	}
	return calls.RoundToBillingUnit(c.Elapsed(c.Ended))
}

// Coalescer sends one notification per event: the first of a quiet period at
// once, the ones that follow within the window merged into one popup when the
// window closes, and the same event (kind and call) only once per dedupe
// period. News about money (Notification.Now) is never merged nor held: it
// goes out at once, on its own.
type Coalescer struct {
	sender  Sender
	window  time.Duration
	dedupe  time.Duration
	onError func(error)

	mu      sync.Mutex           // guards seen, pending, timer, open and closed
	seen    map[string]time.Time // when each dedupe key was last shown
	pending []Notification
	timer   *time.Timer
	open    bool // a window is running
	closed  bool
	wg      sync.WaitGroup
}

// NewCoalescer sends through s. window bounds the rate (one popup per
// window), dedupe drops repeats of the same event; onError (may be nil)
// hears send failures.
func NewCoalescer(s Sender, window, dedupe time.Duration, onError func(error)) *Coalescer {
	if onError == nil {
		onError = func(error) {}
	}
	return &Coalescer{sender: s, window: window, dedupe: dedupe, onError: onError, seen: map[string]time.Time{}}
}

// Event notifies about ev if it deserves a popup.
func (c *Coalescer) Event(ev calls.Event) {
	n, ok := fromEvent(ev)
	if !ok {
		return
	}
	key := fmt.Sprintf("%d/%s", ev.Kind, ev.Call.ID)
	if ev.Call.ID == "" {
		key += "/" + n.Body
	}
	c.Push(n, key)
}

// Push shows n under the same rules as events: dedupeKey (or, when empty,
// the summary and body) is shown once per Dedupe, and bursts are merged.
func (c *Coalescer) Push(n Notification, dedupeKey string) {
	if dedupeKey == "" {
		dedupeKey = n.Summary + "\x00" + n.Body
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	now := time.Now()
	if t, ok := c.seen[dedupeKey]; ok && now.Sub(t) < c.dedupe {
		return
	}
	c.seen[dedupeKey] = now
	for k, t := range c.seen {
		if now.Sub(t) >= c.dedupe {
			delete(c.seen, k)
		}
	}
	if n.Now || n.Urgent {
		c.sendLocked(n)
		if !c.open { // what follows it is still rate-bounded
			c.open = true
			c.timer = time.AfterFunc(c.window, c.flush)
		}
		return
	}
	if c.open {
		c.pending = append(c.pending, n)
		return
	}
	c.open = true
	c.timer = time.AfterFunc(c.window, c.flush)
	c.sendLocked(n)
}

func (c *Coalescer) sendLocked(n Notification) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.sender.Send(n); err != nil {
			c.onError(err)
		}
	}()
}

func (c *Coalescer) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if len(c.pending) == 0 {
		c.open = false
		return
	}
	n := merge(c.pending)
	c.pending = nil
	c.sendLocked(n)
	c.timer = time.AfterFunc(c.window, c.flush) // keep the rate bounded
}

// merge folds several notifications into one.
func merge(ns []Notification) Notification {
	if len(ns) == 1 {
		return ns[0]
	}
	m := Notification{Summary: fmt.Sprintf("Ultravox Tray: %d updates", len(ns))}
	var lines []string
	for _, n := range ns {
		lines = append(lines, n.Summary+": "+n.Body)
		m.Urgent = m.Urgent || n.Urgent
	}
	m.Body = strings.Join(lines, "\n")
	return m
}

// Close sends what is pending, stops the timer and waits for sends in flight.
func (c *Coalescer) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	if len(c.pending) > 0 {
		c.sendLocked(merge(c.pending))
		c.pending = nil
	}
	c.mu.Unlock()
	c.wg.Wait()
}
