// Package settings stores the user's settings (everything but the API key,
// which lives in the keychain) as JSON in the user config directory:
// os.UserConfigDir()/ultravox-tray/settings.json. Writes are atomic; a file
// with bad values is kept aside under a new name, never overwritten; the
// app keeps every valid value, says which were bad, and writes the repaired
// file back.
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/ultravox-tray/ultravox-tray/internal/atomicfile"
)

// appDir is the directory name under the user config directory.
const appDir = "ultravox-tray"

// fileName is the settings file's name.
const fileName = "settings.json"

// Settings are the user's choices. Durations are whole seconds in the file.
type Settings struct {
	DefaultAgentID     string  `json:"defaultAgentId"`
	MaxDurationSeconds int     `json:"maxDurationSeconds"`
	JoinTimeoutSeconds int     `json:"joinTimeoutSeconds"`
	PricePerMinute     float64 `json:"pricePerMinute"`
	DailyBudget        float64 `json:"dailyBudget"` // dollars; 0 = no cap
	EndCallsOnLock     bool    `json:"endCallsOnLock"`
	DeleteAfterEnd     bool    `json:"deleteCallRecordsAfterEnd"`
	MicrophoneDevice   string  `json:"microphoneDevice"` // "" = system default
	SpeakerDevice      string  `json:"speakerDevice"`    // "" = system default
	Headset            bool    `json:"headset"`          // no echo gating
	// EchoCancellation asks for acoustic echo cancellation instead of
	// half-duplex gating (experimental; ignored with Headset, and where the
	// build has no echo canceller).
	EchoCancellation bool `json:"echoCancellation"`
	StartAtLogin     bool `json:"startAtLogin"`
	// RecordCalls lists the agents (by ID) whose calls are created with
	// recordingEnabled; off for every agent by default.
	RecordCalls AgentSet `json:"recordCalls"`
	// TemplateValues are values for agents' {{variables}}: agent id ->
	// variable name -> value (templates.go).
	TemplateValues map[string]map[string]string `json:"templateValues,omitempty"`
}

// Limits of the numeric settings.
const (
	MinMaxDuration = 10
	MaxMaxDuration = 3600
	MinJoinTimeout = 5
	MaxJoinTimeout = 300
	MaxPrice       = 10.0
	MaxBudget      = 10000.0
)

// Defaults are the settings of a new user.
func Defaults() Settings {
	return Settings{
		MaxDurationSeconds: 240,
		JoinTimeoutSeconds: 15,
		PricePerMinute:     0.05,
		EndCallsOnLock:     true,
	}
}

// MaxDuration is MaxDurationSeconds as a duration.
func (s Settings) MaxDuration() time.Duration {
	return time.Duration(s.MaxDurationSeconds) * time.Second
}

// JoinTimeout is JoinTimeoutSeconds as a duration.
func (s Settings) JoinTimeout() time.Duration {
	return time.Duration(s.JoinTimeoutSeconds) * time.Second
}

// FieldError is one invalid setting.
type FieldError struct {
	Field   string // the JSON name
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every invalid setting.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	var parts []string
	for _, e := range v {
		parts = append(parts, e.Error())
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// Validate reports every setting out of its range, in words.
func (s Settings) Validate() error {
	var v ValidationError
	if s.MaxDurationSeconds < MinMaxDuration || s.MaxDurationSeconds > MaxMaxDuration {
		v = append(v, FieldError{"maxDurationSeconds", fmt.Sprintf("maximum call duration must be between %d and %d seconds, got %d", MinMaxDuration, MaxMaxDuration, s.MaxDurationSeconds)})
	}
	if s.JoinTimeoutSeconds < MinJoinTimeout || s.JoinTimeoutSeconds > MaxJoinTimeout {
		v = append(v, FieldError{"joinTimeoutSeconds", fmt.Sprintf("join timeout must be between %d and %d seconds, got %d", MinJoinTimeout, MaxJoinTimeout, s.JoinTimeoutSeconds)})
	}
	if math.IsNaN(s.PricePerMinute) || s.PricePerMinute < 0 || s.PricePerMinute > MaxPrice {
		v = append(v, FieldError{"pricePerMinute", fmt.Sprintf("price per minute must be between $0 and $%.2f, got %g", MaxPrice, s.PricePerMinute)})
	}
	if math.IsNaN(s.DailyBudget) || s.DailyBudget < 0 || s.DailyBudget > MaxBudget {
		v = append(v, FieldError{"dailyBudget", fmt.Sprintf("daily budget must be between $0 (no cap) and $%.0f, got %g", MaxBudget, s.DailyBudget)})
	}
	v = append(v, templateValueErrors(s.TemplateValues)...)
	if len(v) == 0 {
		return nil
	}
	return v
}

// DefaultPath is os.UserConfigDir()/ultravox-tray/settings.json.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the user config directory (set XDG_CONFIG_HOME or HOME): %w", err)
	}
	return filepath.Join(dir, appDir, fileName), nil
}

// Store reads and writes one settings file.
type Store struct {
	Path string
	now  func() time.Time
}

// NewStore returns a Store for path.
func NewStore(path string) *Store { return &Store{Path: path, now: time.Now} }

// BrokenFileError says the settings file could not be used as it was. The
// original is kept at KeptAt; Load returned every valid value it held, with
// defaults for the bad ones (Fields names each), and wrote that back.
type BrokenFileError struct {
	Path   string
	KeptAt string
	Reason string       // what was wrong with the file as a whole, or ""
	Fields []FieldError // each setting that was reset to its default
	// WriteErr is why the repaired settings could not be written back
	// (nil when they were).
	WriteErr error
}

func (e *BrokenFileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the settings file %s ", e.Path)
	if e.Reason != "" {
		b.WriteString(e.Reason)
	}
	if len(e.Fields) > 0 {
		if e.Reason != "" {
			b.WriteString("; ")
		}
		var parts []string
		for _, f := range e.Fields {
			parts = append(parts, f.Error())
		}
		fmt.Fprintf(&b, "had %d bad setting(s), each reset to its default (%s); every other setting was kept", len(e.Fields), strings.Join(parts, "; "))
	} else {
		b.WriteString("; the app uses default settings")
	}
	fmt.Fprintf(&b, ". The original was kept as %s", e.KeptAt)
	if e.WriteErr != nil {
		fmt.Fprintf(&b, "; the repaired settings could not be written back (%v)", e.WriteErr)
	} else {
		b.WriteString(" and the repaired settings were saved")
	}
	return b.String()
}

// Load reads the settings. A missing file gives the defaults and no error.
// Every setting is read on its own: one of the wrong type or out of its
// range takes its default and is named in the error, every other keeps its
// value. A file that is not a JSON object gives the defaults. Either way the
// original is renamed aside (settings.json.broken-<time>), the repaired
// settings are written back (so the next start is quiet and keeps them),
// and Load returns them with a *BrokenFileError. Any other error (e.g. the
// file cannot be read) is returned with the defaults and leaves the file
// alone.
func (st *Store) Load() (Settings, error) {
	def := Defaults()
	raw, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return def, fmt.Errorf("cannot read the settings file (the app uses default settings and leaves the file alone): %w", err)
	}
	s, reason, fields := decode(raw)
	if reason == "" && len(fields) == 0 {
		return s, nil
	}
	be, err := st.keepAside(reason)
	if err != nil {
		return s, err
	}
	be.Fields = fields
	be.WriteErr = st.Save(s)
	return s, be
}

// decode reads raw field by field over the defaults. reason says what was
// wrong with the file as a whole (then s is the defaults); fields lists the
// settings reset to their defaults.
func decode(raw []byte) (s Settings, reason string, fields []FieldError) {
	def := Defaults()
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&obj); err != nil {
		return def, describeJSONError(raw, err), nil
	}
	if dec.More() {
		return def, "has extra data after the settings object", nil
	}
	if obj == nil {
		return def, "holds null instead of the settings object", nil
	}
	s = def
	v := reflect.ValueOf(&s).Elem()
	dv := reflect.ValueOf(def)
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		val, ok := lookup(obj, name)
		if !ok {
			continue
		}
		if err := json.Unmarshal(val, v.Field(i).Addr().Interface()); err != nil {
			v.Field(i).Set(dv.Field(i))
			fields = append(fields, FieldError{name, fmt.Sprintf("%s is not a %s", val, kindWord(v.Field(i).Kind()))})
		}
	}
	if err := s.Validate(); err != nil {
		var ve ValidationError
		errors.As(err, &ve)
		for _, fe := range ve {
			switch fe.Field {
			case "maxDurationSeconds":
				s.MaxDurationSeconds = def.MaxDurationSeconds
			case "joinTimeoutSeconds":
				s.JoinTimeoutSeconds = def.JoinTimeoutSeconds
			case "pricePerMinute":
				s.PricePerMinute = def.PricePerMinute
			case "dailyBudget":
				s.DailyBudget = def.DailyBudget
			case "templateValues":
				s.TemplateValues = goodTemplateValues(s.TemplateValues)
			}
			fields = append(fields, fe)
		}
	}
	return s, "", fields
}

// lookup finds name in obj as encoding/json would: the exact key, else one
// that matches without regard to case.
func lookup(obj map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func kindWord(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	}
	return k.String()
}

func describeJSONError(raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(raw[:min(int(se.Offset), len(raw))], []byte("\n"))
		return fmt.Sprintf("is not valid JSON (line %d: %s)", line, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "" {
		return fmt.Sprintf("is not a settings object (it holds a JSON %s)", te.Value)
	}
	if errors.As(err, &te) {
		return fmt.Sprintf("has a value of the wrong type for %q (%s where %s was expected)", te.Field, te.Value, te.Type)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "is empty or cut short"
	}
	return "could not be read as settings (" + err.Error() + ")"
}

func (st *Store) keepAside(reason string) (*BrokenFileError, error) {
	now := time.Now
	if st.now != nil {
		now = st.now
	}
	kept := fmt.Sprintf("%s.broken-%s", st.Path, now().UTC().Format("20060102T150405Z"))
	for i := 1; ; i++ {
		if _, err := os.Lstat(kept); errors.Is(err, fs.ErrNotExist) {
			break
		}
		kept = fmt.Sprintf("%s.broken-%s-%d", st.Path, now().UTC().Format("20060102T150405Z"), i)
	}
	if err := os.Rename(st.Path, kept); err != nil {
		if reason == "" {
			reason = "had bad settings"
		}
		return nil, fmt.Errorf("the settings file %s %s, and it could not be moved aside (%v); the app uses what it could read and will not overwrite it", st.Path, reason, err)
	}
	return &BrokenFileError{Path: st.Path, KeptAt: kept, Reason: reason}, nil
}

// Save validates s and writes it atomically (temporary file, fsync, rename).
func (st *Store) Save(s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return atomicfile.Write(st.Path, b, 0o600)
}
