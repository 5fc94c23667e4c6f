package calls

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// endOneCall starts a call, ends it and waits for it in the history.
func endOneCall(t *testing.T, e *env, historyLen int) CallView {
	t.Helper()
	v := e.startBilling()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.End(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.waitSnap("in the history", 10*time.Second, func(s Snapshot) bool {
		return len(s.History) == historyLen && s.History[0].CallID == v.ID
	})
	return v
}

// restart closes the manager and starts a new one on the same directory.
func restart(t *testing.T, e *env) {
	t.Helper()
	e.close()
	m, err := New(e.config(e.m2Settings()))
	if err != nil {
		t.Fatal(err)
	}
	e.m, e.rec = m, record(m)
}

// The history survives a restart, trimmed to its 100 newest calls.
func TestHistoryAcrossRestartKeepsTheNewest100(t *testing.T) {
	dir := t.TempDir()
	var old []HistoryEntry
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range historyLimit {
		old = append(old, HistoryEntry{CallID: fmt.Sprintf("old-%03d", i), AgentName: "Support agent",
			Started: t0.Add(-time.Duration(i) * time.Hour), BilledDuration: 66 * time.Second, Cost: 0.055, EndReason: "hangup", BillingStatus: "BILLING_STATUS_BILLED"})
	}
	if err := saveHistory(dir, old); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{dir: dir})
	if h := e.m.Snapshot().History; len(h) != historyLimit || h[0] != old[0] || h[historyLimit-1] != old[historyLimit-1] {
		t.Fatalf("history at start: %d entries, first %+v", len(h), h[0])
	}
	v := endOneCall(t, e, historyLimit)
	restart(t, e)
	h := e.m.Snapshot().History
	if len(h) != historyLimit || h[0].CallID != v.ID || h[1] != old[0] || h[historyLimit-1] != old[historyLimit-2] {
		t.Fatalf("after the restart: %d entries, first %q, second %q, last %q", len(h), h[0].CallID, h[1].CallID, h[len(h)-1].CallID)
	}
	if h[0].Cost <= 0 || h[0].BilledDuration <= 0 {
		t.Errorf("the new entry lost its billing: %+v", h[0])
	}
}

// A corrupt history is moved aside and reported; the next calls start a new
// one that survives the next restart.
func TestCorruptHistoryAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, historyFileName)
	if err := os.WriteFile(path, []byte(`{"version":1,"calls":[{"callId":"x",`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{dir: dir})
	e.waitEvent(EventHistoryProblem, 5*time.Second)
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 1 {
		t.Fatalf("moved-aside files: %v", m)
	}
	if h := e.m.Snapshot().History; len(h) != 0 {
		t.Fatalf("history from a corrupt file: %+v", h)
	}
	v := endOneCall(t, e, 1)
	restart(t, e)
	if h := e.m.Snapshot().History; len(h) != 1 || h[0].CallID != v.ID {
		t.Fatalf("after the restart: %+v", h)
	}
	for _, ev := range e.rec.all() {
		if ev.Kind == EventHistoryProblem {
			t.Errorf("the new history was reported as a problem: %+v", ev)
		}
	}
}
