package calls

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// Client tools. An agent may ask the client to run a tool over the call
// socket; the agent then waits for the answer while the call keeps billing.
// So every invocation is answered at once (well within a second): the
// built-in tools below run locally, any other tool gets errorType
// "undefined" and a message that says the app does not have it. Each
// invocation is shown in the call's transcript.

// toolAnswerTimeout is how long sending a tool result may take before
// it is logged as slow (the agent waits for it).
const toolAnswerTimeout = time.Second

// RoleTool is the TranscriptLine.Role of a client tool invocation.
const RoleTool = "tool"

// builtinTool answers a tool the app implements: result is the tool's
// result text (JSON).
type builtinTool func(now time.Time, params json.RawMessage) (result string, err error)

// builtinTools are the client tools Ultravox Tray implements, by name.
var builtinTools = map[string]builtinTool{
	"localTime": localTimeTool,
}

// localTimeTool returns the user's local time, time zone and UTC offset.
func localTimeTool(now time.Time, _ json.RawMessage) (string, error) {
	zone, off := now.Zone()
	b, err := json.Marshal(map[string]any{
		"localTime":     now.Format(time.RFC3339),
		"timeZone":      zone,
		"utcOffsetSecs": off,
		"weekday":       now.Weekday().String(),
	})
	return string(b), err
}

// toolAnswer is the result for inv, and the transcript line that shows it.
func toolAnswer(inv ultravox.ClientToolInvocation, now time.Time) (ultravox.ClientToolResult, string) {
	name := strings.TrimSpace(inv.ToolName)
	res := ultravox.ClientToolResult{InvocationID: inv.InvocationID}
	tool, ok := builtinTools[name]
	if !ok {
		res.ErrorType = ultravox.ToolErrorUndefined
		res.ErrorMessage = fmt.Sprintf("The client tool %q is not available in Ultravox Tray (it implements only: %s).", name, strings.Join(builtinToolNames(), ", "))
		return res, fmt.Sprintf("agent asked for tool %s; not available in Ultravox Tray", toolLabel(name))
	}
	out, err := tool(now, inv.Parameters)
	if err != nil {
		res.ErrorType = ultravox.ToolErrorImplementation
		res.ErrorMessage = fmt.Sprintf("The client tool %q failed in Ultravox Tray: %v", name, err)
		return res, fmt.Sprintf("agent asked for tool %s; it failed: %v", name, err)
	}
	res.Result = out
	return res, fmt.Sprintf("agent asked for tool %s; answered: %s", name, out)
}

func toolLabel(name string) string {
	if name == "" {
		return "(unnamed)"
	}
	return name
}

func builtinToolNames() []string {
	names := make([]string, 0, len(builtinTools))
	for n := range builtinTools {
		names = append(names, n)
	}
	return names
}

// toolLineSeq numbers tool transcript lines (negative ordinals).
var toolLineSeq atomic.Int64

// answerTool answers one client tool invocation on oc's socket and shows it
// in oc's transcript. The answer is sent on its own goroutine, ahead of
// queued audio, so the reader goes on.
func (m *Manager) answerTool(oc *ourCall, inv ultravox.ClientToolInvocation) {
	res, line := toolAnswer(inv, m.now().Local())
	m.mu.Lock()
	oc.view.Transcript = appendToolLine(oc.view.Transcript, int(-toolLineSeq.Add(1)), line)
	m.publishLocked()
	sock := oc.sock
	if m.closed || sock == nil {
		m.mu.Unlock()
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	m.log.Info("client tool invoked", "call", shortID(oc.view.ID), "tool", inv.ToolName, "implemented", res.ErrorType == "")
	go func() {
		defer m.wg.Done()
		start := time.Now()
		err := sock.SendToolResult(res)
		switch {
		case err != nil:
			m.log.Warn("client tool result could not be sent", "call", shortID(oc.view.ID), "tool", inv.ToolName, "err", err)
		case time.Since(start) > toolAnswerTimeout:
			m.log.Warn("client tool result took over a second to send", "call", shortID(oc.view.ID), "tool", inv.ToolName, "took", time.Since(start))
		}
	}()
}

// appendToolLine adds a final tool line; ordinals of tool lines are negative
// so they never merge with the server's utterances.
func appendToolLine(lines []TranscriptLine, ordinal int, text string) []TranscriptLine {
	lines = append(lines, TranscriptLine{Ordinal: ordinal, Role: RoleTool, Text: text, Final: true})
	if len(lines) > maxTranscriptLines {
		lines = lines[len(lines)-maxTranscriptLines:]
	}
	return lines
}
