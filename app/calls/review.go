package calls

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// After a call: review it from the service's own records, continue it
// (priorCallId), start a text-only call, and the month's usage per day.

// startOptions vary Start: a call that continues an earlier one, and a
// text-only call.
type startOptions struct {
	priorCallID string // POST /api/calls?priorCallId=...
	text        bool   // initialOutputMedium text, joined without audio
}

// textCallNote is the audio line of a text-only call.
const textCallNote = "text call: no microphone or speaker; type to the agent in Show call…"

// createFor sends the create request of oc: an agent call, or a
// continuation of an earlier call with our own medium, limits and metadata
// as overrides (so the cost guards hold for it as for any other call).
func (m *Manager) createFor(ctx context.Context, client *ultravox.Client, oc *ourCall, s Settings, o startOptions) (*ultravox.Call, error) {
	req := m.createRequest(oc, s)
	if o.text {
		req.InitialOutputMedium = ultravox.MessageMediumText
	}
	if s.RecordCalls[oc.view.AgentID] {
		rec := true
		req.RecordingEnabled = &rec
	}
	if o.priorCallID == "" {
		return client.CreateAgentCall(ctx, oc.view.AgentID, req)
	}
	return client.ContinueCall(ctx, o.priorCallID, ultravox.StartCallRequest{
		Metadata:            req.Metadata,
		Medium:              req.Medium,
		JoinTimeout:         req.JoinTimeout,
		MaxDuration:         req.MaxDuration,
		InitialOutputMedium: req.InitialOutputMedium,
		RecordingEnabled:    req.RecordingEnabled,
	})
}

// openMedia opens the microphone and speaker, or for a text call only the
// silent uplink that keeps the call from idling out.
func (m *Manager) openMedia(oc *ourCall, sock *ultravox.CallSocket, s Settings, o startOptions) (string, error) {
	if !o.text {
		return m.openAudio(oc, sock, s)
	}
	m.mu.Lock()
	m.startTextModeLocked(oc, sock, s.InputRate)
	m.mu.Unlock()
	return textCallNote, nil
}

// StartText starts a text-only call with agentID ("" => the default
// agent): created with initialOutputMedium text and joined without audio,
// for quiet places. Every guard of Start applies.
func (m *Manager) StartText(ctx context.Context, agentID string) (CallView, error) {
	return m.start(ctx, agentID, startOptions{text: true})
}

// Continue starts a new call that carries on the finished call priorCallID:
// the service copies its properties and message history; we send our own
// medium, maxDuration and joinTimeout. Every guard of Start applies
// (journal, limits, budget, ending on quit and sleep).
func (m *Manager) Continue(ctx context.Context, priorCallID string) (CallView, error) {
	client, err := m.reviewClient()
	if err != nil {
		return CallView{}, err
	}
	prior, err := client.GetCall(ctx, priorCallID)
	if err != nil {
		return CallView{}, fmt.Errorf("cannot continue the call: %w", err)
	}
	if prior.Live() {
		return CallView{}, fmt.Errorf("call %s has not ended yet; it can be continued once it has", shortID(priorCallID))
	}
	agent := ""
	if prior.AgentID != nil {
		agent = *prior.AgentID
	} else if prior.Agent != nil {
		agent = prior.Agent.AgentID
	}
	return m.start(ctx, agent, startOptions{priorCallID: priorCallID})
}

// Review is one call as the service recorded it: the call and its whole
// transcript.
type Review struct {
	Call           ultravox.Call
	Messages       []ultravox.Message
	PricePerMinute float64
	Fetched        time.Time
}

// Review fetches call callID and all pages of its messages.
func (m *Manager) Review(ctx context.Context, callID string) (Review, error) {
	client, err := m.reviewClient()
	if err != nil {
		return Review{}, err
	}
	call, err := client.GetCall(ctx, callID)
	if err != nil {
		return Review{}, err
	}
	msgs, err := client.ListMessages(ctx, callID)
	if err != nil {
		return Review{}, err
	}
	m.mu.Lock()
	price := m.settings.PricePerMinute
	m.mu.Unlock()
	return Review{Call: *call, Messages: msgs, PricePerMinute: price, Fetched: m.now()}, nil
}

// Recording copies the recording of call callID into w (see
// ultravox.Client.Recording: a storage redirect is followed without the
// key) and returns its size.
func (m *Manager) Recording(ctx context.Context, callID string, w io.Writer) (int64, error) {
	client, err := m.reviewClient()
	if err != nil {
		return 0, err
	}
	n, _, err := client.Recording(ctx, callID, w)
	return n, err
}

func (m *Manager) reviewClient() (*ultravox.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.client == nil {
		return nil, fmt.Errorf("%w: add your API key first", ErrNoKey)
	}
	return m.client, nil
}

// UsageDays is how many days the usage window shows.
const UsageDays = 30

// UsageDay is one UTC day of billed usage.
type UsageDay struct {
	Day     time.Time // UTC midnight
	Minutes float64
}

// Usage is the account's billed minutes of the last days (oldest first,
// today last), as GET /api/accounts/me/billing/usage reports them.
type Usage struct {
	Days    []UsageDay
	Fetched time.Time
}

// Usage fetches the billed minutes of the last `days` UTC days, today
// included. Today's figure also refreshes the manager's own (the budget
// check and the snapshot's TodayMinutes, which add what is live).
func (m *Manager) Usage(ctx context.Context, days int) (Usage, error) {
	client, err := m.reviewClient()
	if err != nil {
		return Usage{}, err
	}
	if days < 1 {
		days = UsageDays
	}
	asked := m.now()
	m.mu.Lock()
	mark := m.usageMarkLocked()
	m.mu.Unlock()
	today := asked.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, 1-days)
	u, err := client.BillingUsage(ctx, from, today.AddDate(0, 0, 1))
	if err != nil {
		return Usage{}, err
	}
	per := map[string]float64{}
	for _, d := range u.DailyUsage {
		per[d.Date] += d.Minutes
	}
	out := Usage{Fetched: m.now()}
	for d := from; !d.After(today); d = d.AddDate(0, 0, 1) {
		out.Days = append(out.Days, UsageDay{Day: d, Minutes: per[d.Format(time.DateOnly)]})
	}
	m.mu.Lock()
	if !m.usageAt.After(asked) {
		m.usageDay, m.usageMin, m.usageAt = today.Format(time.DateOnly), per[today.Format(time.DateOnly)], asked
		m.usageArrivedLocked(mark)
		m.publishLocked()
	}
	m.mu.Unlock()
	return out, nil
}
