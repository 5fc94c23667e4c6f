// Package settings stores the user's settings (everything but the API key,
// which lives in the keychain) as JSON in the user config directory:
// os.UserConfigDir()/ultravox-tray/settings.json. Writes are atomic; a file
// that cannot be read is kept aside under a new name, never overwritten, and
// the app starts with defaults and a message that says what happened.
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
// original is kept at KeptAt; Load returned defaults for what was bad.
type BrokenFileError struct {
	Path   string
	KeptAt string
	Reason string
}

func (e *BrokenFileError) Error() string {
	return fmt.Sprintf("the settings file %s %s; it was kept as %s and the app uses default settings for what was wrong", e.Path, e.Reason, e.KeptAt)
}

// Load reads the settings. A missing file gives the defaults and no error.
// A file that is not valid JSON, or holds invalid values, is renamed aside
// (settings.json.broken-<time>) and Load returns the defaults (for bad
// values: the good values with defaults for the bad ones) together with a
// *BrokenFileError. Any other error (e.g. permission denied) is returned
// with the defaults and leaves the file alone.
func (st *Store) Load() (Settings, error) {
	def := Defaults()
	raw, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return def, fmt.Errorf("cannot read the settings file: %w", err)
	}
	s := def
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&s); err != nil {
		return def, st.keepAside(describeJSONError(raw, err))
	}
	if dec.More() {
		return def, st.keepAside("has extra data after the settings object")
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
		}
		return s, st.keepAside("had invalid values (" + strings.TrimPrefix(err.Error(), "invalid settings: ") + ")")
	}
	return s, nil
}

func describeJSONError(raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(raw[:min(int(se.Offset), len(raw))], []byte("\n"))
		return fmt.Sprintf("is not valid JSON (line %d: %s)", line, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("has a value of the wrong type for %q (%s where %s was expected)", te.Field, te.Value, te.Type)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "is empty or cut short"
	}
	return "could not be read as settings (" + err.Error() + ")"
}

func (st *Store) keepAside(reason string) error {
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
		return fmt.Errorf("the settings file %s %s, and it could not be moved aside (%v); the app uses default settings and will not overwrite it", st.Path, reason, err)
	}
	return &BrokenFileError{Path: st.Path, KeptAt: kept, Reason: reason}
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
