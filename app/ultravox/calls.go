package ultravox

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// accountPath is the account check: the one answer whose 403 means the key
// itself is refused.
const accountPath = "/api/accounts/me"

// GetAccount is GET /api/accounts/me.
func (c *Client) GetAccount(ctx context.Context) (*Account, error) {
	var a Account
	err := c.do(ctx, request{op: "get account", method: http.MethodGet, path: accountPath, out: &a})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// ListAgents returns every agent, following all pages.
func (c *Client) ListAgents(ctx context.Context) ([]Agent, error) {
	q := url.Values{"pageSize": {"100"}}
	var out []Agent
	for a, err := range allPages[Agent](ctx, c, "list agents", "/api/agents", q) {
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// GetAgent is GET /api/agents/{agent_id}.
func (c *Client) GetAgent(ctx context.Context, agentID string) (*Agent, error) {
	op := "get agent " + shortID(agentID)
	if err := checkID(op, "agent", agentID); err != nil {
		return nil, err
	}
	var a Agent
	err := c.do(ctx, request{op: op, method: http.MethodGet, path: "/api/agents/" + url.PathEscape(agentID), out: &a})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateAgentCall is POST /api/agents/{agent_id}/calls. req.Metadata must
// hold MetaRequestID (a fresh unique id per call the app means to create).
// See CreateCall for the retry rule.
func (c *Client) CreateAgentCall(ctx context.Context, agentID string, req StartAgentCallRequest) (*Call, error) {
	op := "create call with agent " + shortID(agentID)
	if err := checkID(op, "agent", agentID); err != nil {
		return nil, err
	}
	return c.create(ctx, op, "/api/agents/"+url.PathEscape(agentID)+"/calls", nil, req, req.Metadata)
}

// CreateCall is POST /api/calls (an ad-hoc call). req.Metadata must hold
// MetaRequestID.
//
// A create is never blindly retried. After an ambiguous failure (the request
// was sent, then a network error, a timeout, a 5xx, or an unreadable 2xx) the
// client waits, looks the call up by its request id, and returns it if it
// exists; only when it does not is the create sent again. 429 (and 503)
// answers are retried after Retry-After. Any other 4xx is final. When the
// lookup itself fails, or the caller's context ends after the request was
// sent, the error says the call may exist (MaybeCreated): keep the request
// id and look again later (FindCallByMetadata).
func (c *Client) CreateCall(ctx context.Context, req StartCallRequest) (*Call, error) {
	return c.create(ctx, "create call", "/api/calls", nil, req, req.Metadata)
}

func (c *Client) create(ctx context.Context, op, path string, query url.Values, body any, meta map[string]string) (*Call, error) {
	rid := strings.TrimSpace(meta[MetaRequestID])
	if rid == "" {
		return nil, invalid(op, "metadata[%q] must hold a unique request id, so a lost answer can never create a second billable call", MetaRequestID)
	}
	for k := range meta {
		if strings.HasPrefix(k, "ultravox.") {
			return nil, invalid(op, "metadata key %q is reserved by Ultravox (keys may not start with \"ultravox.\")", clip(k, 60))
		}
	}
	r := request{op: op, method: http.MethodPost, path: path, query: query, body: body}
	enc, err := c.encode(r)
	if err != nil {
		return nil, err
	}
	since := c.now().Add(-lookupSkew)
	for attempt := 0; ; attempt++ {
		var call Call
		r.out = &call
		wrote, e := c.once(ctx, r, enc)
		if e == nil {
			return &call, nil
		}
		if wrote && e.Kind == KindCanceled {
			// The caller gave up after the request left: the server may
			// have created the call, and there is no context left to look.
			return nil, c.maybeCreated(e, rid, nil)
		}
		ambiguous := wrote && (e.Kind == KindNetwork || e.Kind == KindTimeout || e.Kind == KindServer ||
			e.Kind == KindMalformed || e.Status == http.StatusServiceUnavailable)
		unsent := !wrote && (e.Kind == KindNetwork || e.Kind == KindTimeout)
		if !ambiguous && !unsent && e.Kind != KindRateLimited {
			return nil, e
		}
		if attempt >= c.maxRetries && !ambiguous {
			return nil, e
		}
		wait := c.backoff(attempt, e.RetryAfter)
		c.log.Debug("ultravox create failed", "op", op, "attempt", attempt+1, "status", e.Status, "kind", e.Kind.String(), "ambiguous", ambiguous, "wait", wait)
		if !c.sleep(ctx, wait) {
			if ambiguous {
				return nil, c.maybeCreated(e, rid, nil)
			}
			return nil, e
		}
		if ambiguous {
			found, lerr := c.FindCallByMetadata(ctx, MetaRequestID, rid, since)
			if lerr != nil {
				return nil, c.maybeCreated(e, rid, lerr)
			}
			if found != nil {
				c.log.Info("ultravox create answer was lost; found the call by its request id", "op", op, "call", shortID(found.CallID))
				return found, nil
			}
			if attempt >= c.maxRetries {
				return nil, e
			}
		}
	}
}

// maybeCreated marks an ambiguous create failure whose outcome could not be
// checked: the call may exist. The request id goes to the log (and stays in
// the caller's journal), not into the message a user may see.
func (c *Client) maybeCreated(e *Error, rid string, lookup error) *Error {
	c.log.Warn("ultravox create: the call may have been created; it can be found by its request id", "request", rid)
	out := *e
	out.maybeCreated = true
	msg := "the call may have been created"
	if lookup != nil {
		msg += " (the lookup failed too: " + lookup.Error() + ")"
	}
	if out.Message != "" {
		out.Message += "; " + msg
	} else {
		out.Message = msg
	}
	return &out
}

// GetCall is GET /api/calls/{call_id}.
func (c *Client) GetCall(ctx context.Context, callID string) (*Call, error) {
	op := "get call " + shortID(callID)
	if err := checkID(op, "call", callID); err != nil {
		return nil, err
	}
	var call Call
	err := c.do(ctx, request{op: op, method: http.MethodGet, path: callPath(callID), out: &call})
	if err != nil {
		return nil, err
	}
	return &call, nil
}

// ListCallsParams select calls for ListCalls and Calls.
type ListCallsParams struct {
	// Sort is a field name, "-" first for descending ("-created").
	Sort string
	// FromDate keeps calls created at or after it (zero: no bound).
	FromDate time.Time
	// PageSize is the page length (0: the server's default).
	PageSize int
	// Cursor is a page's cursor (Page.NextCursor); "" for the first page.
	Cursor string
	// Metadata filters by metadata.<key>=<value> (the server may ignore
	// this; FindCallByMetadata also filters on our side).
	Metadata map[string]string
}

func (p ListCallsParams) query() url.Values {
	q := url.Values{}
	if p.Sort != "" {
		q.Set("sort", p.Sort)
	}
	if !p.FromDate.IsZero() {
		q.Set("fromDate", p.FromDate.UTC().Format(time.RFC3339))
	}
	if p.PageSize > 0 {
		q.Set("pageSize", strconv.Itoa(p.PageSize))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	for k, v := range p.Metadata {
		q.Set("metadata."+k, v)
	}
	return q
}

// ListCalls is one page of GET /api/calls.
func (c *Client) ListCalls(ctx context.Context, p ListCallsParams) (*Page[Call], error) {
	return listPage[Call](ctx, c, "list calls", "/api/calls", p.query())
}

// Calls iterates over every call p selects, following next pages. An error
// is yielded once, as the last item.
func (c *Client) Calls(ctx context.Context, p ListCallsParams) iter.Seq2[Call, error] {
	return allPages[Call](ctx, c, "list calls", "/api/calls", p.query())
}

// FindCallByMetadata returns the newest call created since `since` whose
// metadata[key] is value, or nil, nil when there is none. It asks the server
// to filter and checks every result itself; when the filtered list holds no
// match (a server may not index metadata at once, or may not filter on it
// the way this client asks), it reads the recent calls unfiltered before
// deciding there is none.
func (c *Client) FindCallByMetadata(ctx context.Context, key, value string, since time.Time) (*Call, error) {
	op := "find call by metadata"
	if key == "" || value == "" {
		return nil, invalid(op, "metadata key and value must not be empty")
	}
	p := ListCallsParams{Sort: "-created", FromDate: since, PageSize: 100, Metadata: map[string]string{key: value}}
	best, err := c.findCall(ctx, op, p, key, value)
	if err != nil || best != nil {
		return best, err
	}
	p.Metadata = nil
	return c.findCall(ctx, op+" (unfiltered)", p, key, value)
}

// findCall is the newest call of the list p selects with metadata[key] = value.
func (c *Client) findCall(ctx context.Context, op string, p ListCallsParams, key, value string) (*Call, error) {
	var best *Call
	for call, err := range allPages[Call](ctx, c, op, "/api/calls", p.query()) {
		if err != nil {
			return nil, err
		}
		if call.Metadata[key] != value {
			continue
		}
		if best == nil || call.Created.After(best.Created) {
			cc := call
			best = &cc
		}
	}
	return best, nil
}

// HangUp ends a joined, live call from anywhere: POST
// /api/calls/{call_id}/send_data_message {"type":"hang_up","message":...}.
// It returns before the call has ended (GetCall until Ended is set). A call
// not joined yet or already ended gives an error for which IsNotActive is
// true. Network errors, timeouts, 429 and 503 are retried.
func (c *Client) HangUp(ctx context.Context, callID, message string) error {
	op := "hang up call " + shortID(callID)
	if err := checkID(op, "call", callID); err != nil {
		return err
	}
	return c.do(ctx, request{op: op, method: http.MethodPost, path: callPath(callID) + "/send_data_message",
		body: map[string]string{"type": "hang_up", "message": message}, policy: retryHangUp, notActive422: true})
}

// SendDataMessage posts a data message (hang_up, user_text_message,
// forced_agent_message) to a live call. msg must encode to a JSON object
// with a "type". Other than hang_up, a message is retried only when it
// certainly did not arrive (429, 503, not sent).
func (c *Client) SendDataMessage(ctx context.Context, callID string, msg any) error {
	op := "send data message to call " + shortID(callID)
	if err := checkID(op, "call", callID); err != nil {
		return err
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return invalid(op, "cannot encode the message: %v", err)
	}
	var head struct {
		Type any `json:"type"`
	}
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) || json.Unmarshal(b, &head) != nil {
		return invalid(op, "the message must be a JSON object")
	}
	typ, _ := head.Type.(string)
	if typ == "" {
		return invalid(op, "the message must have a string \"type\" (hang_up, user_text_message, forced_agent_message)")
	}
	pol := retryUnsent
	if typ == "hang_up" {
		pol = retryHangUp
	}
	return c.do(ctx, request{op: op + " (" + clip(typ, 30) + ")", method: http.MethodPost, path: callPath(callID) + "/send_data_message",
		body: json.RawMessage(b), policy: pol, notActive422: true})
}

// ListMessages returns every message of a call, following all pages.
func (c *Client) ListMessages(ctx context.Context, callID string) ([]Message, error) {
	op := "list messages of call " + shortID(callID)
	if err := checkID(op, "call", callID); err != nil {
		return nil, err
	}
	var out []Message
	for m, err := range allPages[Message](ctx, c, op, callPath(callID)+"/messages", url.Values{"pageSize": {"100"}}) {
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// DeleteCall is DELETE /api/calls/{call_id}. Only for calls that have ended:
// never use it to end a call. A 404 after an ambiguous first attempt counts
// as done.
func (c *Client) DeleteCall(ctx context.Context, callID string) error {
	op := "delete call " + shortID(callID)
	if err := checkID(op, "call", callID); err != nil {
		return err
	}
	return c.do(ctx, request{op: op, method: http.MethodDelete, path: callPath(callID), goneIsDone: true})
}

// BillingUsage is GET /api/accounts/me/billing/usage for the UTC days from
// `from` (inclusive) to `to` (exclusive). Zero times leave the bound to the
// server (the billing cycle).
func (c *Client) BillingUsage(ctx context.Context, from, to time.Time) (*Usage, error) {
	op := "get billing usage"
	q := url.Values{}
	if !from.IsZero() {
		q.Set("fromDate", from.UTC().Format(time.DateOnly))
	}
	if !to.IsZero() {
		q.Set("toDate", to.UTC().Format(time.DateOnly))
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return nil, invalid(op, "the end %s is not after the start %s", to.UTC().Format(time.DateOnly), from.UTC().Format(time.DateOnly))
	}
	var u Usage
	if err := c.do(ctx, request{op: op, method: http.MethodGet, path: "/api/accounts/me/billing/usage", query: q, out: &u}); err != nil {
		return nil, err
	}
	return &u, nil
}

func callPath(id string) string { return "/api/calls/" + url.PathEscape(id) }

func checkID(op, what, id string) error {
	if strings.TrimSpace(id) == "" {
		return invalid(op, "empty %s id", what)
	}
	if strings.ContainsAny(id, "/?#") || strings.TrimSpace(id) != id {
		return invalid(op, "%s id %q is not an id", what, clip(id, 40))
	}
	return nil
}

func listPage[T any](ctx context.Context, c *Client, op, path string, q url.Values) (*Page[T], error) {
	var p Page[T]
	if err := c.do(ctx, request{op: op, method: http.MethodGet, path: path, query: q, out: &p}); err != nil {
		return nil, err
	}
	if p.Results == nil {
		return nil, &Error{Op: op, Method: http.MethodGet, Path: path, Status: http.StatusOK, Kind: KindMalformed,
			Message: "the page has no \"results\" list"}
	}
	return &p, nil
}

// allPages yields every item of a cursor-paginated list. The next page is
// asked of our own base URL with the query of the server's next link merged
// into ours (the link's host or scheme may be wrong behind a proxy, and the
// key must never go to another host).
func allPages[T any](ctx context.Context, c *Client, op, path string, q url.Values) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := map[string]bool{}
		q := cloneValues(q)
		for {
			seen[q.Encode()] = true
			p, err := listPage[T](ctx, c, op, path, q)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range p.Results {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == nil || strings.TrimSpace(*p.Next) == "" {
				return
			}
			nu, err := url.Parse(*p.Next)
			if err != nil || nu.RawQuery == "" {
				yield(zero, &Error{Op: op, Method: http.MethodGet, Path: path, Status: http.StatusOK, Kind: KindMalformed,
					Message: "the next-page link " + strconv.Quote(clip(*p.Next, 80)) + " has no query to follow"})
				return
			}
			for k, vs := range nu.Query() {
				q[k] = vs
			}
			if seen[q.Encode()] {
				yield(zero, &Error{Op: op, Method: http.MethodGet, Path: path, Status: http.StatusOK, Kind: KindMalformed,
					Message: "the server sent the same next page twice (a pagination loop)"})
				return
			}
			if ctx.Err() != nil {
				yield(zero, &Error{Op: op, Method: http.MethodGet, Path: path, Kind: KindCanceled, Err: context.Cause(ctx)})
				return
			}
		}
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
