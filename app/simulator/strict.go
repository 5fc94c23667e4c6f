package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Strictness where the real service is strict, and its timing where it is
// less friendly than a simple simulator:
//
//   - a create body with a field the schema does not list is refused with
//     400, as a protobuf-JSON server refuses unknown fields;
//   - metadata filters can lag behind creates (SetMetadataIndexLag), so a
//     lookup by metadata right after a create may find nothing;
//   - a hang_up can let the agent speak its farewell first
//     (SetHangupFarewell), so the call ends a few seconds after it.

// Create body fields the schema lists (StartAgentCallRequest and
// StartCallRequest), and those of medium.serverWebSocket.
var (
	agentCreateFields = fieldSet("templateContext", "initialMessages", "metadata", "medium", "joinTimeout", "maxDuration",
		"recordingEnabled", "initialOutputMedium", "firstSpeakerSettings", "dataConnection", "experimentalSettings",
		"callbacks", "voice", "voiceOverrides", "toolOverrides", "retentionPolicy", "sharedSecrets", "agentId")
	adhocCreateFields = fieldSet("systemPrompt", "temperature", "model", "voice", "externalVoice", "languageHint",
		"initialMessages", "joinTimeout", "maxDuration", "timeExceededMessage", "inactivityMessages", "selectedTools",
		"medium", "recordingEnabled", "firstSpeaker", "transcriptOptional", "initialOutputMedium", "vadSettings",
		"firstSpeakerSettings", "experimentalSettings", "metadata", "initialState", "dataConnection", "callbacks",
		"voiceOverrides", "retentionPolicy", "sharedSecrets")
	webSocketFields = fieldSet("inputSampleRate", "outputSampleRate", "clientBufferSizeMs", "dataMessages", "mediaIdleTimeout")
)

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// unknownCreateField is a 400 for the first field of body the schema does
// not list, or nil. A body that is not a JSON object is left to the decoder.
func unknownCreateField(body []byte, agentCall bool) *apiError {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	known, msgType := adhocCreateFields, "ultravox.v1.StartCallRequest"
	if agentCall {
		known, msgType = agentCreateFields, "ultravox.v1.StartAgentCallRequest"
	}
	if bad := unknownKeys(top, known); bad != "" {
		return errDetail(http.StatusBadRequest, fmt.Sprintf("Invalid request body: unknown field %q in %s.", bad, msgType))
	}
	var medium struct {
		ServerWebSocket map[string]json.RawMessage `json:"serverWebSocket"`
	}
	if raw, ok := top["medium"]; ok && json.Unmarshal(raw, &medium) == nil {
		if bad := unknownKeys(medium.ServerWebSocket, webSocketFields); bad != "" {
			return errDetail(http.StatusBadRequest, fmt.Sprintf("Invalid request body: unknown field %q in ultravox.v1.CallMedium.WebSocketMedium.", bad))
		}
	}
	return nil
}

func unknownKeys(m map[string]json.RawMessage, known map[string]bool) string {
	var bad []string
	for k := range m {
		if !known[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	sort.Strings(bad)
	return bad[0]
}

// SetMetadataIndexLag makes list filters on metadata.<key> miss calls
// created less than lag ago (0 turns it off), as a search index that
// catches up after the write would. Unfiltered lists still show them.
func (s *Server) SetMetadataIndexLag(lag time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metaLag = lag
}

// metadataIndexed reports whether c shows in metadata-filtered lists yet.
// s.mu is held.
func (s *Server) metadataIndexedLocked(c *simCall) bool {
	return s.metaLag <= 0 || s.clock.Now().Sub(c.created) >= s.metaLag
}

// SetHangupFarewell makes a hang_up (REST or socket) on a joined call
// with a socket let the agent speak first: the hang_up's message, or
// farewell when it has none, then the call ends. "" ends at once (the
// default).
func (s *Server) SetHangupFarewell(farewell string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.farewell = strings.TrimSpace(farewell)
}

// farewellFor is what the agent says before ending on a hang_up ("": end at
// once).
func (s *Server) farewellFor(msg dataMessage) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.farewell == "" {
		return ""
	}
	if m := strings.TrimSpace(msg.Message); m != "" {
		return m
	}
	return s.farewell
}

// controlStrict: POST /sim/control/strict?metadataLag=2s&farewell=Goodbye
func (s *Server) controlStrict(r *http.Request) (any, error) {
	q := r.URL.Query()
	if v := q.Get("metadataLag"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("metadataLag %q: want a Go duration such as 2s (0 to turn it off)", v)
		}
		s.SetMetadataIndexLag(d)
	}
	if q.Has("farewell") {
		s.SetHangupFarewell(q.Get("farewell"))
	}
	return controlDone, nil
}
