package calls

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/ultravox-tray/ultravox-tray/internal/atomicfile"
)

// journalFileName is the journal's file name inside the state directory.
const journalFileName = "journal.json"

const journalVersion = 1

// journalEntry is one call this app created (or is about to create) whose
// end the server has not confirmed yet. It is written before the create
// request is sent, so an entry may have no CallID: the create never answered,
// and the call is found by RequestID in its metadata.
type journalEntry struct {
	RequestID string    `json:"requestId"`
	CallID    string    `json:"callId,omitempty"`
	AgentID   string    `json:"agentId,omitempty"`
	SessionID string    `json:"sessionId,omitempty"`
	Started   time.Time `json:"started"`         // local time the start began
	State     string    `json:"state,omitempty"` // CallState.String() when written
	Joined    time.Time `json:"joined,omitzero"` // server's joined time once known
	MaxDurSec float64   `json:"maxDurationSeconds,omitempty"`
	Salvaged  bool      `json:"salvaged,omitempty"` // recovered from a corrupt journal
}

func (e journalEntry) key() string {
	if e.RequestID != "" {
		return e.RequestID
	}
	return "call:" + e.CallID
}

type journalDoc struct {
	Version int            `json:"version"`
	Entries []journalEntry `json:"entries"`
}

// callJournal is the on-disk list of our calls not yet confirmed ended. Every
// change is written atomically (temp file, fsync, rename, fsync directory)
// before the method returns; a failed write leaves memory and disk as they
// were and returns a clear error.
type callJournal struct {
	mu      sync.Mutex
	path    string
	entries []journalEntry
	// broken is set when the existing file could not be read (not: was
	// corrupt, which is moved aside). Writing would destroy it, so every
	// write is refused with this error.
	broken error
}

// journalProblem describes what went wrong loading the journal. The journal
// still opens; the problem is reported to the user as an event.
type journalProblem struct {
	Path       string // the journal file
	MovedTo    string // where a corrupt file was moved, if it was
	Salvaged   int    // entries recovered from the corrupt bytes
	Err        error
	Unreadable bool // the file exists but cannot be read: writes are refused
}

func (p *journalProblem) Error() string {
	switch {
	case p.Unreadable:
		return fmt.Sprintf("the call journal %s cannot be read (%v); new calls are refused until it can be, so that calls it lists are never forgotten", p.Path, p.Err)
	case p.MovedTo != "":
		return fmt.Sprintf("the call journal %s was corrupt (%v) and was moved to %s; %d call reference(s) were recovered from it and will be checked", p.Path, p.Err, p.MovedTo, p.Salvaged)
	default:
		return fmt.Sprintf("the call journal %s was corrupt (%v) and could not be moved aside", p.Path, p.Err)
	}
}

func (p *journalProblem) Unwrap() error { return p.Err }

// openJournal loads the journal in dir (creating nothing yet). A missing file
// is an empty journal. A corrupt file is moved aside to
// journal.json.corrupt-<UTC time>, whatever call references can be found in
// it are kept as entries, and the problem is returned alongside a usable
// journal. A file that cannot be read at all is left in place and the journal
// refuses writes (see journalProblem.Unreadable).
func openJournal(dir string, now time.Time) (*callJournal, *journalProblem) {
	j := &callJournal{path: filepath.Join(dir, journalFileName)}
	data, err := os.ReadFile(j.path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// Nothing there (or the directory cannot exist): an empty journal.
		// A later write reports why it cannot be created.
		return j, nil
	}
	if err != nil {
		j.broken = fmt.Errorf("the call journal %s cannot be read: %w", j.path, err)
		return j, &journalProblem{Path: j.path, Err: err, Unreadable: true}
	}
	entries, perr := parseJournal(data)
	if perr == nil {
		j.entries = entries
		return j, nil
	}
	prob := &journalProblem{Path: j.path, Err: perr}
	moved := fmt.Sprintf("%s.corrupt-%s", j.path, now.UTC().Format("20060102T150405.000000000Z"))
	if err := os.Rename(j.path, moved); err != nil {
		// Cannot move it aside: do not overwrite it either.
		j.broken = fmt.Errorf("the call journal %s is corrupt and cannot be moved aside: %w", j.path, err)
		prob.Err = fmt.Errorf("%v; moving it aside failed: %w", perr, err)
		prob.Unreadable = true
		return j, prob
	}
	prob.MovedTo = moved
	j.entries = salvageJournal(data, now)
	prob.Salvaged = len(j.entries)
	if len(j.entries) > 0 {
		if err := j.writeLocked(j.entries); err != nil {
			// Keep them in memory; the next successful write persists them.
			prob.Err = fmt.Errorf("%v; saving the recovered entries failed: %w", perr, err)
		}
	}
	return j, prob
}

func parseJournal(data []byte) ([]journalEntry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc journalDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not valid journal JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the journal")
	}
	if doc.Version != journalVersion {
		return nil, fmt.Errorf("unsupported journal version %d (this app writes version %d)", doc.Version, journalVersion)
	}
	seen := map[string]bool{}
	for i, e := range doc.Entries {
		if e.RequestID == "" && e.CallID == "" {
			return nil, fmt.Errorf("entry %d has neither a request id nor a call id", i+1)
		}
		if seen[e.key()] {
			return nil, fmt.Errorf("entry %d repeats request id %q", i+1, e.RequestID)
		}
		seen[e.key()] = true
	}
	return doc.Entries, nil
}

var (
	salvageRequestRe = regexp.MustCompile(`"requestId"\s*:\s*"([A-Za-z0-9_.:-]{1,100})"`)
	salvageCallRe    = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
)

// salvageJournal pulls call references out of a corrupt journal so that no
// call it listed is forgotten: every call id (UUID) is looked up by id, every
// request id by metadata. A request id that is itself a UUID is looked up both
// ways, which is harmless.
func salvageJournal(data []byte, now time.Time) []journalEntry {
	var out []journalEntry
	seen := map[string]bool{}
	add := func(e journalEntry) {
		if seen[e.key()] {
			return
		}
		seen[e.key()] = true
		out = append(out, e)
	}
	for _, m := range salvageRequestRe.FindAllSubmatch(data, -1) {
		add(journalEntry{RequestID: string(m[1]), Started: now, Salvaged: true})
	}
	for _, m := range salvageCallRe.FindAll(data, -1) {
		add(journalEntry{CallID: string(m), Started: now, Salvaged: true})
	}
	return out
}

// Entries returns a copy of the entries, oldest first.
func (j *callJournal) Entries() []journalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.entries)
}

// Put adds e or replaces the entry with the same request id (or, for
// entries without one, the same call id) and writes the journal.
func (j *callJournal) Put(e journalEntry) error {
	if e.RequestID == "" && e.CallID == "" {
		return errors.New("journal entry needs a request id or a call id")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	next := slices.Clone(j.entries)
	if i := slices.IndexFunc(next, func(x journalEntry) bool { return x.key() == e.key() }); i >= 0 {
		next[i] = e
	} else {
		next = append(next, e)
	}
	if err := j.writeLocked(next); err != nil {
		return err
	}
	j.entries = next
	return nil
}

// Remove drops the entry with e's request id (or, for entries without one,
// e's call id) and writes the journal. Removing a missing entry is not an
// error.
func (j *callJournal) Remove(e journalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	i := slices.IndexFunc(j.entries, func(x journalEntry) bool { return x.key() == e.key() })
	if i < 0 {
		return nil
	}
	next := slices.Delete(slices.Clone(j.entries), i, i+1)
	if err := j.writeLocked(next); err != nil {
		return err
	}
	j.entries = next
	return nil
}

func (j *callJournal) writeLocked(entries []journalEntry) error {
	if j.broken != nil {
		return j.broken
	}
	if entries == nil {
		entries = []journalEntry{}
	}
	data, err := json.MarshalIndent(journalDoc{Version: journalVersion, Entries: entries}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode call journal: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(j.path, data, 0o600); err != nil {
		return fmt.Errorf("cannot write the call journal %s: %w", j.path, err)
	}
	return nil
}
