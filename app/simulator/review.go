package simulator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// What the simulator does after a call: continuing it (priorCallId) and its
// recording, optionally served from a second loopback "storage" host the API
// redirects to, as Ultravox does.

// continueCall is POST /api/calls?priorCallId=...: a new call with the prior
// call's agent, prompt, voice and recording setting unless the body sets
// them, and the prior call's messages as its initial messages.
func (s *Server) continueCall(r *http.Request, body []byte, priorID string) reply {
	var raw map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &raw) == nil {
		if m, ok := raw["initialMessages"]; ok && string(m) != "null" && string(m) != "[]" {
			return fail(&apiError{status: 400, body: fieldErrors{"initialMessages": {"initialMessages cannot be set together with priorCallId."}}})
		}
	}
	s.mu.Lock()
	prior := s.liveCallLocked(priorID)
	s.mu.Unlock()
	if prior == nil {
		return fail(&apiError{status: 400, body: fieldErrors{"priorCallId": {fmt.Sprintf("No call %q to continue.", priorID)}}})
	}
	spec, apiErr := s.parseCreate(body, prior.agent, false)
	if apiErr != nil {
		return fail(apiErr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fail(errDetail(http.StatusServiceUnavailable, "Service is shutting down."))
	}
	c, apiErr := s.createLocked(spec, prior.agent, r.Host)
	if apiErr != nil {
		return fail(apiErr)
	}
	if spec.req.SystemPrompt == nil {
		c.systemPrompt = prior.systemPrompt
	}
	if spec.req.Voice == nil {
		c.voice = prior.voice
	}
	if spec.req.RecordingEnabled == nil {
		c.recording = prior.recording
	}
	if spec.req.TimeExceededMessage == nil {
		c.timeExceeded = prior.timeExceeded
	}
	c.priorCallID = prior.id
	for _, m := range prior.messages {
		m.CallStageMessageIndex = len(c.messages)
		m.CallStageID = c.id
		c.messages = append(c.messages, m)
	}
	return ok(http.StatusCreated, c.snapshot())
}

// PriorCallID is the call a call continued (POST /api/calls?priorCallId),
// "" for a fresh one.
func (s *Server) PriorCallID(callID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[callID]; c != nil {
		return c.priorCallID
	}
	return ""
}

// getRecording is GET /api/calls/{call_id}/recording: 404 unless the call
// was created with recordingEnabled, was joined and has ended; then the WAV
// itself, or a 302 to the storage host when SetRecordingRedirect is on.
func (s *Server) getRecording(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	c := s.liveCallLocked(r.PathValue("call_id"))
	if c == nil {
		s.mu.Unlock()
		return fail(errDetail(http.StatusNotFound, "No Call matches the given query."))
	}
	if !c.recording || c.joined.IsZero() || c.live() {
		why := "This call has no recording: it was created without recordingEnabled."
		if c.recording {
			why = "The recording is not available until the call has been joined and has ended."
		}
		s.mu.Unlock()
		return fail(errDetail(http.StatusNotFound, why))
	}
	wav := c.recordingWAV()
	st := s.storage
	s.mu.Unlock()
	if st != nil {
		return reply{status: http.StatusFound, location: st.put(c.id, wav)}
	}
	return reply{status: http.StatusOK, raw: wav, contentType: "audio/wav"}
}

// recordingWAV mixes what the caller sent and what the agent said into one
// mono 16-bit WAV at the call's output rate, each chunk placed at the time
// it arrived or left.
func (c *simCall) recordingWAV() []byte {
	rate := c.outRate
	if rate <= 0 {
		rate = 16000
	}
	n := int(c.ended.Sub(c.joined).Seconds()*float64(rate)) + 1
	n = min(n, rate*3600)
	mix := make([]int32, n)
	add := func(chunks []AudioChunk, from int) {
		if from <= 0 {
			return
		}
		var pos float64 // agent audio is sent ahead of real time: lay it end to end
		for _, ch := range chunks {
			at := ch.At.Sub(c.joined).Seconds() * float64(rate)
			if at > pos {
				pos = at
			}
			samples := len(ch.Data) / 2
			for i := 0; i < samples; i++ {
				j := int(pos) + i*rate/from
				if j >= n {
					break
				}
				mix[j] += int32(int16(binary.LittleEndian.Uint16(ch.Data[2*i:])))
			}
			pos += float64(samples) * float64(rate) / float64(from)
		}
	}
	add(c.audioIn, c.inRate)
	add(c.audioOut, c.outRate)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for _, v := range mix {
		binary.Write(&b, binary.LittleEndian, int16(max(-32768, min(32767, v))))
	}
	return b.Bytes()
}

// storageHost serves recordings from a second loopback address, the way
// Ultravox redirects to signed storage URLs: it needs the URL's signature
// and no API key, and records whether a key was sent anyway.
type storageHost struct {
	srv  *http.Server
	ln   net.Listener
	base string

	mu       sync.Mutex
	files    map[string][]byte // signature -> WAV
	requests []StorageRequest
}

// StorageRequest is one request to the recording storage host.
type StorageRequest struct {
	Time   time.Time
	Path   string
	Status int
	// HadAPIKey is set when the request carried X-API-Key: the key must
	// never leave for another host.
	HadAPIKey bool
}

// SetRecordingRedirect makes GET /api/calls/{id}/recording answer 302 to a
// storage URL on a second loopback host:port (started on first use, closed
// with the server), as the real service redirects to signed storage.
func (s *Server) SetRecordingRedirect(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		s.storage = nil
		return nil
	}
	if s.storage != nil {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("simulator: recording storage: %w", err)
	}
	st := &storageHost{ln: ln, base: "http://" + ln.Addr().String(), files: map[string][]byte{}}
	st.srv = &http.Server{Handler: http.HandlerFunc(st.serve), ReadHeaderTimeout: 10 * time.Second}
	go st.srv.Serve(ln)
	s.storage = st
	s.storages = append(s.storages, st)
	return nil
}

// StorageRequests are the requests the recording storage host answered.
func (s *Server) StorageRequests() []StorageRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StorageRequest
	for _, st := range s.storages {
		st.mu.Lock()
		out = append(out, st.requests...)
		st.mu.Unlock()
	}
	return out
}

func (st *storageHost) put(callID string, wav []byte) string {
	sig := randomToken()
	st.mu.Lock()
	st.files[sig] = wav
	st.mu.Unlock()
	return st.base + "/recordings/" + callID + ".wav?signature=" + sig
}

func (st *storageHost) serve(w http.ResponseWriter, r *http.Request) {
	st.mu.Lock()
	wav, found := st.files[r.URL.Query().Get("signature")]
	rec := StorageRequest{Time: time.Now(), Path: r.URL.Path, HadAPIKey: r.Header.Get("X-API-Key") != ""}
	switch {
	case rec.HadAPIKey:
		rec.Status = http.StatusBadRequest
	case !found || r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/recordings/"):
		rec.Status = http.StatusForbidden
	default:
		rec.Status = http.StatusOK
	}
	st.requests = append(st.requests, rec)
	st.mu.Unlock()
	switch rec.Status {
	case http.StatusBadRequest:
		http.Error(w, "Only one auth mechanism allowed; the X-API-Key header must not be sent to storage.", rec.Status)
	case http.StatusForbidden:
		http.Error(w, "Signature does not match.", rec.Status)
	default:
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav)
	}
}

func (st *storageHost) close() {
	st.srv.Close()
}

// summaries are the call's short and full summary: none until the call has
// ended, been joined and settled (the service writes them after the call),
// then a sentence built from its messages.
func (c *simCall) summaries() (short, full *string) {
	if c.ended.IsZero() || c.joined.IsZero() || !c.settled {
		return nil, nil
	}
	user, agent := 0, 0
	for _, m := range c.messages {
		switch m.Role {
		case "MESSAGE_ROLE_USER":
			user++
		case "MESSAGE_ROLE_AGENT":
			agent++
		}
	}
	why := map[string]string{
		EndHangup: "the caller hung up", EndAgentHangup: "the agent hung up", EndTimeout: "it reached its time limit",
		EndConnectionError: "the connection was lost", EndSystemError: "of a system error",
	}[c.endReason]
	if why == "" {
		why = "it ended"
	}
	dur := c.ended.Sub(c.joined).Round(time.Second)
	s := fmt.Sprintf("A %s call: the caller said %d thing(s), the agent %d.", formatDuration(dur), user, agent)
	f := fmt.Sprintf("The caller and the simulated agent talked for %s (%d message(s) from the caller, %d from the agent); the call ended because %s.",
		formatDuration(dur), user, agent, why)
	return &s, &f
}
