package calls

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 12, defect 5: a journal or history event says what it is. Only a
// journal the manager cannot read (the calls it lists may be billing, and
// none can be started) puts money at risk now; a corrupt journal moved
// aside with its references recovered does not, and a damaged history is
// no journal problem at all.
func TestStateFileProblemsSayWhatTheyAre(t *testing.T) {
	t.Run("corrupt journal recovered", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, journalFileName), []byte(`{"version":1,"entries":[{"requestId":"abc"`), 0o600)
		e := newEnv(t, envOpt{dir: dir})
		ev := e.waitEvent(EventJournalProblem, time.Second)
		if ev.AtRisk {
			t.Errorf("a recovered journal is marked as money at risk: %+v", ev)
		}
	})
	t.Run("unreadable journal", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, journalFileName), 0o700)
		e := newEnv(t, envOpt{dir: dir})
		if ev := e.waitEvent(EventJournalProblem, time.Second); !ev.AtRisk {
			t.Errorf("an unreadable journal is not marked as money at risk: %+v", ev)
		}
	})
	t.Run("corrupt history", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, historyFileName), []byte(`[{"callId":`), 0o600)
		e := newEnv(t, envOpt{dir: dir})
		ev := e.waitEvent(EventHistoryProblem, time.Second)
		if ev.AtRisk || !strings.Contains(ev.Message, "history") {
			t.Errorf("history event %+v", ev)
		}
		for _, ev := range e.rec.all() {
			if ev.Kind == EventJournalProblem {
				t.Errorf("a history problem reported as a journal problem: %+v", ev)
			}
		}
	})
}
