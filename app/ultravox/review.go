package ultravox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ContinueCall is POST /api/calls?priorCallId=...: a new call that takes the
// prior call's properties and message history, with the fields req sets as
// overrides (the app always sets its own medium, maxDuration and
// joinTimeout). req.InitialMessages must be empty (the service refuses both)
// and req.Metadata must hold MetaRequestID. The retry rule is CreateCall's.
func (c *Client) ContinueCall(ctx context.Context, priorCallID string, req StartCallRequest) (*Call, error) {
	op := "continue call " + shortID(priorCallID)
	if err := checkID(op, "call", priorCallID); err != nil {
		return nil, err
	}
	if len(req.InitialMessages) > 0 {
		return nil, invalid(op, "a continued call takes its messages from the prior call; initial messages cannot be set as well")
	}
	return c.create(ctx, op, "/api/calls", url.Values{"priorCallId": {priorCallID}}, req, req.Metadata)
}

// MaxRecording bounds the size of a recording Recording copies.
const MaxRecording = 512 << 20

// Recording is GET /api/calls/{call_id}/recording, copied into w. The
// service answers with the audio itself or with a redirect to a storage URL,
// often on another host: that URL is fetched WITHOUT the API key (it carries
// its own authorization in the query), over https unless the host is a
// loopback address, following at most a few more redirects. It returns the
// bytes copied and the audio's content type. A call without a recording
// answers 404 (IsNotFound).
func (c *Client) Recording(ctx context.Context, callID string, w io.Writer) (int64, string, error) {
	op := "get recording of call " + shortID(callID)
	if err := checkID(op, "call", callID); err != nil {
		return 0, "", err
	}
	r := request{op: op, method: http.MethodGet, path: callPath(callID) + "/recording"}
	ctx, cancel := context.WithTimeout(ctx, recordingTimeout(c.timeout))
	defer cancel()
	req, _, err := c.newRequest(ctx, r, nil)
	if err != nil {
		return 0, "", c.fail(r, KindInvalid, 0, "", err)
	}
	req.Header.Set("Accept", "audio/wav, audio/*;q=0.9, */*;q=0.1")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", c.transportError(r, ctx, ctx, err)
	}
	defer resp.Body.Close()
	switch st := resp.StatusCode; {
	case st >= 200 && st <= 299:
		return copyRecording(c, r, resp, w)
	case st == http.StatusMovedPermanently || st == http.StatusFound || st == http.StatusSeeOther ||
		st == http.StatusTemporaryRedirect || st == http.StatusPermanentRedirect:
		loc, err := resp.Location()
		if err != nil {
			return 0, "", c.fail(r, KindMalformed, st, "the recording redirect has no usable Location", err)
		}
		return c.fetchStored(ctx, r, loc, w)
	default:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return 0, "", c.statusError(r, resp, data)
	}
}

// recordingTimeout is longer than one request's: a recording can be large.
func recordingTimeout(t time.Duration) time.Duration { return max(6*t, 2*time.Minute) }

// fetchStored gets a recording from the storage URL the API redirected to,
// with a client that never sends the key and follows at most 3 redirects,
// each held to the same https-or-loopback rule.
func (c *Client) fetchStored(ctx context.Context, r request, loc *url.URL, w io.Writer) (int64, string, error) {
	if err := storageURLOK(loc); err != nil {
		return 0, "", c.fail(r, KindInvalid, 0, "", err)
	}
	hc := &http.Client{
		Transport: c.hc.Transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if len(via) > 3 {
				return errors.New("more than 3 redirects from the recording's storage")
			}
			next.Header.Del("X-API-Key")
			return storageURLOK(next.URL)
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return 0, "", c.fail(r, KindInvalid, 0, "", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", c.transportError(r, ctx, ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, "", c.fail(r, kindForStatus(resp.StatusCode), resp.StatusCode,
			fmt.Sprintf("the recording's storage at %s answered %s", loc.Host, resp.Status), nil)
	}
	return copyRecording(c, r, resp, w)
}

// storageURLOK allows https anywhere and plain http only on loopback hosts.
func storageURLOK(u *url.URL) error {
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("refusing to fetch the recording from %q: only https (or a loopback address) is allowed", clip(u.Scheme+"://"+u.Host, 80))
}

func copyRecording(c *Client, r request, resp *http.Response, w io.Writer) (int64, string, error) {
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/html") {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, "", c.fail(r, KindMalformed, resp.StatusCode, "expected audio, got "+clip(ct, 60)+": "+clip(collapseSpace(string(data)), 80), nil)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, MaxRecording+1))
	if err != nil {
		return n, ct, c.fail(r, KindNetwork, resp.StatusCode, "the recording download broke off", err)
	}
	if n > MaxRecording {
		return n, ct, c.fail(r, KindMalformed, resp.StatusCode, fmt.Sprintf("the recording is larger than %d MB", MaxRecording>>20), nil)
	}
	return n, ct, nil
}
