package calls

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestJournalRoundTrip(t *testing.T) {
	dir := t.TempDir()
	j, prob := openJournal(dir, t0)
	if prob != nil {
		t.Fatalf("empty dir: %v", prob)
	}
	if got := j.Entries(); len(got) != 0 {
		t.Fatalf("new journal has %d entries", len(got))
	}
	a := journalEntry{RequestID: "req-a", AgentID: "agent-1", SessionID: "s1", Started: t0, State: "creating"}
	b := journalEntry{RequestID: "req-b", Started: t0.Add(time.Minute), State: "creating"}
	for _, e := range []journalEntry{a, b} {
		if err := j.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	a.CallID = "11111111-2222-3333-4444-555555555555"
	a.State = "billing"
	a.Joined = t0.Add(2 * time.Second)
	if err := j.Put(a); err != nil {
		t.Fatal(err)
	}

	j2, prob := openJournal(dir, t0)
	if prob != nil {
		t.Fatal(prob)
	}
	got := j2.Entries()
	if len(got) != 2 || got[0].RequestID != "req-a" || got[1].RequestID != "req-b" {
		t.Fatalf("entries after reload: %+v", got)
	}
	if got[0].CallID != a.CallID || !got[0].Joined.Equal(a.Joined) || got[0].State != "billing" {
		t.Fatalf("update not persisted: %+v", got[0])
	}

	if err := j2.Remove(a); err != nil {
		t.Fatal(err)
	}
	if err := j2.Remove(journalEntry{RequestID: "never-there"}); err != nil {
		t.Fatalf("removing a missing entry: %v", err)
	}
	j3, _ := openJournal(dir, t0)
	if got := j3.Entries(); len(got) != 1 || got[0].RequestID != "req-b" {
		t.Fatalf("after remove: %+v", got)
	}
	// No temp files left behind.
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if f.Name() != journalFileName {
			t.Errorf("stray file %s in the state dir", f.Name())
		}
	}
	// Private file: it lists call ids.
	if st, err := os.Stat(j.path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
}

func TestJournalCorruptIsMovedAsideAndSalvaged(t *testing.T) {
	cases := map[string]string{
		"truncated": `{"version":1,"entries":[{"requestId":"req-1","callId":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","started":"2026-11-22T10:00:00Z"},{"requestId":"req-2","started":"2026-11-22T10:00:00Z"},{"requestId":"req-3`,
		"garbage":   "\x00\x01\x02 not json at all",
		"empty":     "",
		"version":   `{"version":99,"entries":[]}`,
		"no ids":    `{"version":1,"entries":[{"agentId":"x","started":"2026-11-22T10:00:00Z"}]}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, journalFileName)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			j, prob := openJournal(dir, t0)
			if prob == nil {
				t.Fatal("corrupt journal loaded without a problem report")
			}
			if prob.MovedTo == "" || prob.Unreadable {
				t.Fatalf("problem %+v: want moved aside", prob)
			}
			moved, err := os.ReadFile(prob.MovedTo)
			if err != nil || string(moved) != content {
				t.Fatalf("moved-aside file: %q, %v", moved, err)
			}
			msg := prob.Error()
			if !strings.Contains(msg, "corrupt") || !strings.Contains(msg, prob.MovedTo) {
				t.Errorf("message does not say what happened: %s", msg)
			}
			if name == "truncated" {
				keys := map[string]bool{}
				for _, e := range j.Entries() {
					keys[e.key()] = e.Salvaged
				}
				if !keys["req-1"] || !keys["req-2"] || !keys["call:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"] {
					t.Fatalf("salvaged entries: %+v", j.Entries())
				}
				if _, ok := keys["req-3"]; ok || len(keys) != 3 {
					t.Fatalf("a cut-off request id must not be salvaged: %+v", j.Entries())
				}
				// The salvage was written: a restart sees the same entries.
				j2, prob2 := openJournal(dir, t0)
				if prob2 != nil || len(j2.Entries()) != len(j.Entries()) {
					t.Fatalf("salvage not persisted: %v %+v", prob2, j2.Entries())
				}
			} else if len(j.Entries()) != 0 {
				t.Fatalf("entries from nowhere: %+v", j.Entries())
			}
			// The journal is usable afterwards.
			if err := j.Put(journalEntry{RequestID: "new", Started: t0}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestJournalUnwritable(t *testing.T) {
	// A state "directory" below a regular file cannot be created, even by
	// root (chmod does not stop root, so it cannot be used here).
	base := t.TempDir()
	blocker := filepath.Join(base, "not-a-dir")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	j, prob := openJournal(filepath.Join(blocker, "state"), t0)
	if prob != nil {
		t.Fatalf("open: %v", prob)
	}
	err := j.Put(journalEntry{RequestID: "r1", Started: t0})
	if err == nil {
		t.Fatal("write below a regular file succeeded")
	}
	if !strings.Contains(err.Error(), "cannot write the call journal") {
		t.Errorf("unclear error: %v", err)
	}
	if len(j.Entries()) != 0 {
		t.Errorf("failed write changed memory: %+v", j.Entries())
	}
}

func TestJournalUnreadableRefusesWrites(t *testing.T) {
	dir := t.TempDir()
	// The journal path is a directory: reading fails with something other
	// than "not found" for any user.
	if err := os.Mkdir(filepath.Join(dir, journalFileName), 0o700); err != nil {
		t.Fatal(err)
	}
	j, prob := openJournal(dir, t0)
	if prob == nil || !prob.Unreadable {
		t.Fatalf("problem = %+v, want unreadable", prob)
	}
	err := j.Put(journalEntry{RequestID: "r1", Started: t0})
	if err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Fatalf("write to an unreadable journal: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, journalFileName)); err != nil || !st.IsDir() {
		t.Fatal("the unreadable journal was replaced")
	}
}

func TestJournalFileFormat(t *testing.T) {
	dir := t.TempDir()
	j, _ := openJournal(dir, t0)
	if err := j.Put(journalEntry{RequestID: "r1", CallID: "c1", Started: t0, State: "billing", MaxDurSec: 240}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(j.path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != float64(1) {
		t.Errorf("version = %v", doc["version"])
	}
	e := doc["entries"].([]any)[0].(map[string]any)
	if e["requestId"] != "r1" || e["callId"] != "c1" || e["maxDurationSeconds"] != float64(240) {
		t.Errorf("entry on disk: %v", e)
	}
	if _, ok := e["joined"]; ok {
		t.Errorf("unset joined time written: %v", e)
	}
}
