package calls

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ultravox-tray/ultravox-tray/internal/atomicfile"
)

// historyFileName is the local call history's file name in the state directory.
const historyFileName = "history.json"

// historyLimit is how many finished calls the history keeps.
const historyLimit = 100

type historyDoc struct {
	Version int            `json:"version"`
	Calls   []historyEntry `json:"calls"`
}

// historyEntry is HistoryEntry on disk: durations as seconds so the file is
// readable by people.
type historyEntry struct {
	CallID        string    `json:"callId"`
	AgentName     string    `json:"agentName,omitempty"`
	Started       time.Time `json:"started"`
	BilledSeconds float64   `json:"billedSeconds"`
	Cost          float64   `json:"cost"`
	EndReason     string    `json:"endReason,omitempty"`
	BillingStatus string    `json:"billingStatus,omitempty"`
}

// loadHistory reads the history; a missing file is empty. A corrupt file is
// moved aside (the history is a convenience, not billing truth) and reported.
func loadHistory(dir string, now time.Time) ([]HistoryEntry, error) {
	path := filepath.Join(dir, historyFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the call history %s cannot be read: %w", path, err)
	}
	var doc historyDoc
	if err := json.Unmarshal(data, &doc); err != nil || doc.Version != 1 {
		if err == nil {
			err = fmt.Errorf("unsupported version %d", doc.Version)
		}
		moved := fmt.Sprintf("%s.corrupt-%s", path, now.UTC().Format("20060102T150405.000000000Z"))
		if rerr := os.Rename(path, moved); rerr != nil {
			return nil, fmt.Errorf("the call history %s is corrupt (%v) and cannot be moved aside: %w", path, err, rerr)
		}
		return nil, fmt.Errorf("the call history %s was corrupt (%v) and was moved to %s; a new history was started", path, err, moved)
	}
	out := make([]HistoryEntry, 0, len(doc.Calls))
	for _, h := range doc.Calls {
		out = append(out, HistoryEntry{
			CallID:         h.CallID,
			AgentName:      h.AgentName,
			Started:        h.Started,
			BilledDuration: time.Duration(h.BilledSeconds * float64(time.Second)),
			Cost:           h.Cost,
			EndReason:      h.EndReason,
			BillingStatus:  h.BillingStatus,
		})
	}
	if len(out) > historyLimit {
		out = out[:historyLimit]
	}
	return out, nil
}

// addHistory puts e first (replacing an older entry for the same call) and
// trims to historyLimit.
func addHistory(h []HistoryEntry, e HistoryEntry) []HistoryEntry {
	h = slices.DeleteFunc(slices.Clone(h), func(x HistoryEntry) bool { return x.CallID == e.CallID })
	h = append([]HistoryEntry{e}, h...)
	if len(h) > historyLimit {
		h = h[:historyLimit]
	}
	return h
}

func saveHistory(dir string, h []HistoryEntry) error {
	doc := historyDoc{Version: 1, Calls: make([]historyEntry, 0, len(h))}
	for _, e := range h {
		doc.Calls = append(doc.Calls, historyEntry{
			CallID:        e.CallID,
			AgentName:     e.AgentName,
			Started:       e.Started,
			BilledSeconds: e.BilledDuration.Seconds(),
			Cost:          e.Cost,
			EndReason:     e.EndReason,
			BillingStatus: e.BillingStatus,
		})
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode call history: %w", err)
	}
	path := filepath.Join(dir, historyFileName)
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("cannot save the call history %s: %w", path, err)
	}
	return nil
}
