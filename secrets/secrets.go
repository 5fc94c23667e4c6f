// Package secrets keeps the Ultravox API key in the OS keychain (go-keyring:
// the Secret Service on Linux, the Keychain on macOS, the Credential Manager
// on Windows), under service "ultravox-tray" and user "api-key".
//
// ULTRAVOX_API_KEY in the environment overrides the keychain (for scripts
// and tests); it is never stored. There is no plaintext fallback: when the
// keychain cannot be used, the error says why and what to do.
//
// Every operation runs off the caller's goroutine with a timeout (a locked
// keyring can block on an unlock prompt), one at a time. Errors never contain
// the key.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

const (
	// Service and User identify the key in the keychain (the Secret Service
	// attributes "service" and "username"; `secret-tool lookup service
	// ultravox-tray username api-key` reads it).
	Service = "ultravox-tray"
	User    = "api-key"
	// EnvKey overrides the keychain when set and non-empty.
	EnvKey = "ULTRAVOX_API_KEY"
	// DefaultTimeout bounds each keychain operation.
	DefaultTimeout = 5 * time.Second
	// MaxKeyLen is far above any real key; longer input is not a key.
	MaxKeyLen = 1024
)

// Source says where Get found the key.
type Source int

const (
	SourceNone     Source = iota // no key
	SourceEnv                    // ULTRAVOX_API_KEY
	SourceKeychain               // the OS keychain
)

func (s Source) String() string {
	switch s {
	case SourceEnv:
		return "environment (" + EnvKey + ")"
	case SourceKeychain:
		return "keychain"
	default:
		return "none"
	}
}

// Kind classifies keychain failures the app tells apart.
type Kind int

const (
	KindOther      Kind = iota
	KindNotFound        // no key stored
	KindNoService       // no Secret Service (keychain daemon) on the session bus
	KindLocked          // the keyring is locked and could not be unlocked
	KindNoSession       // no D-Bus session bus to find the keychain on
	KindTimeout         // the keychain did not answer in time
	KindInvalidKey      // the key has the wrong shape (Set, or ULTRAVOX_API_KEY)
)

// busy marks a timeout spent waiting for an earlier operation to finish.
const busy = "busy"

// Sentinels for errors.Is: errors.Is(err, secrets.ErrLocked) and so on.
var (
	ErrNotFound   = &Error{Kind: KindNotFound}
	ErrNoService  = &Error{Kind: KindNoService}
	ErrLocked     = &Error{Kind: KindLocked}
	ErrNoSession  = &Error{Kind: KindNoSession}
	ErrTimeout    = &Error{Kind: KindTimeout}
	ErrInvalidKey = &Error{Kind: KindInvalidKey}
)

// Error is every error this package returns. Its message says what went wrong
// and what to do; it never contains the key.
type Error struct {
	Op     string // "read", "store", "remove"; empty for sentinels
	Kind   Kind
	Detail string // extra words for KindInvalidKey and KindOther (never the key)
	Err    error  // the keychain's own error, if any (redacted)
}

func (e *Error) Error() string {
	var what string
	switch e.Op {
	case "read":
		what = "cannot read the API key from the keychain"
	case "store":
		what = "cannot store the API key in the keychain"
	case "remove":
		what = "cannot remove the API key from the keychain"
	default:
		what = "keychain"
	}
	switch e.Kind {
	case KindNotFound:
		if e.Op == "remove" {
			return "no API key is stored in the keychain, so there is nothing to remove"
		}
		return "no API key is stored in the keychain"
	case KindNoService:
		return what + ": no Secret Service is running (nothing owns org.freedesktop.secrets on the session bus). " +
			"Install and start a keyring: gnome-keyring (sudo apt install gnome-keyring), or KeePassXC with " +
			"its Secret Service integration enabled; then try again"
	case KindLocked:
		return what + ": the keyring is locked and could not be unlocked. Unlock your login keyring " +
			"(for example in \"Passwords and Keys\"/Seahorse, or by logging out and in again), then try again"
	case KindNoSession:
		return what + ": there is no D-Bus session bus to reach the keyring on " +
			"(DBUS_SESSION_BUS_ADDRESS is unset or its bus is gone). Run the app inside your desktop session, " +
			"or start one with dbus-run-session; " + EnvKey + " can supply the key without a keychain"
	case KindTimeout:
		if e.Detail == busy {
			return what + ": the keychain is still busy with an earlier request, probably an unlock prompt " +
				"waiting for an answer; nothing was done. Unlock the keyring and try again"
		}
		msg := what + ": the keychain did not answer in time; a locked keyring may be waiting for its unlock " +
			"prompt. Unlock it and try again"
		if e.Op == "store" || e.Op == "remove" {
			// go-keyring cannot be cancelled: the request is still pending.
			msg += " (the request is still pending: if you answer the prompt now it may still complete, so check before repeating it)"
		}
		return msg
	case KindInvalidKey:
		return e.Detail
	}
	if e.Err != nil {
		return what + ": " + e.Err.Error()
	}
	return what + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinels by Kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Detail == "" && t.Err == nil && t.Kind == e.Kind
}

// backend is what the Store needs from a keychain; go-keyring in the app.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (goKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (goKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

// Store reads and writes the API key. Use New; a zero Store works too, with
// the defaults.
type Store struct {
	once    sync.Once
	timeout time.Duration
	kc      backend
	getenv  func(string) string
	// precheck returns a KindNoSession error when no session bus can be
	// found, so that go-keyring never autolaunches one (dbus-launch leaves
	// a bus and a keyring daemon running behind the user's back).
	precheck func() error
	// slot allows one keychain operation at a time: a call stuck on an
	// unlock prompt keeps it until the keychain answers.
	slot chan struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithTimeout sets the bound on each operation (DefaultTimeout when d <= 0).
func WithTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// TakeEnv reads ULTRAVOX_API_KEY once, when the Store is made, and removes
// it from the process environment: the Store keeps it, and no child process
// (a helper, a daemon a library starts, a restart's shell) inherits it.
func TakeEnv() Option {
	key := os.Getenv(EnvKey)
	os.Unsetenv(EnvKey)
	return func(s *Store) {
		s.getenv = func(k string) string {
			if k == EnvKey {
				return key
			}
			return os.Getenv(k)
		}
	}
}

// New returns a Store on the OS keychain.
func New(opts ...Option) *Store {
	s := &Store{}
	for _, o := range opts {
		o(s)
	}
	s.init()
	return s
}

// init fills in what is unset (once).
func (s *Store) init() {
	s.once.Do(func() {
		if s.timeout <= 0 {
			s.timeout = DefaultTimeout
		}
		if s.kc == nil {
			s.kc = goKeyring{}
		}
		if s.getenv == nil {
			s.getenv = os.Getenv
		}
		if s.precheck == nil {
			s.precheck = sessionBusPrecheck
		}
		s.slot = make(chan struct{}, 1)
	})
}

// Get returns the key from ULTRAVOX_API_KEY when that is set (SourceEnv),
// else from the keychain (SourceKeychain). With no key anywhere it returns
// an error matching ErrNotFound.
func (s *Store) Get(ctx context.Context) (key string, src Source, err error) {
	s.init()
	if v := s.getenv(EnvKey); v != "" {
		if err := Validate(v); err != nil {
			return "", SourceNone, &Error{Op: "read", Kind: KindInvalidKey,
				Detail: EnvKey + " is set but is not a usable API key: " + err.(*Error).Detail + " (unset it to use the keychain)"}
		}
		return v, SourceEnv, nil
	}
	// got is written by the operation's goroutine and read only after it
	// finished (do returned nil); after a timeout it is never read.
	var got string
	if err := s.do(ctx, "read", "", func() error {
		var e error
		got, e = s.kc.Get(Service, User)
		return e
	}); err != nil {
		return "", SourceNone, err
	}
	if got == "" {
		return "", SourceNone, &Error{Op: "read", Kind: KindNotFound}
	}
	return got, SourceKeychain, nil
}

// EnvOverride reports whether ULTRAVOX_API_KEY is set, so that a key stored
// with Set would not be the one Get returns.
func (s *Store) EnvOverride() bool {
	s.init()
	return s.getenv(EnvKey) != ""
}

// Set validates key (see Validate) and stores it in the keychain, replacing
// any stored key. It never writes the key anywhere else.
func (s *Store) Set(ctx context.Context, key string) error {
	s.init()
	if err := Validate(key); err != nil {
		return err
	}
	return s.do(ctx, "store", key, func() error { return s.kc.Set(Service, User, key) })
}

// Delete removes the stored key. It returns an error matching ErrNotFound
// when none was stored.
func (s *Store) Delete(ctx context.Context) error {
	s.init()
	return s.do(ctx, "remove", "", func() error { return s.kc.Delete(Service, User) })
}

// do runs op on its own goroutine, one at a time, bounded by the Store's
// timeout and ctx. A timed-out op keeps running until the keychain answers
// (go-keyring cannot be cancelled); its result is dropped.
func (s *Store) do(ctx context.Context, opName, secret string, op func() error) error {
	if err := s.precheck(); err != nil {
		return classify(opName, err, secret)
	}
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case s.slot <- struct{}{}:
	case <-timer.C:
		return &Error{Op: opName, Kind: KindTimeout, Detail: busy}
	case <-ctx.Done():
		return &Error{Op: opName, Kind: KindOther, Detail: "cancelled", Err: ctx.Err()}
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-s.slot }()
		done <- op()
	}()
	select {
	case err := <-done:
		if err != nil {
			return classify(opName, err, secret)
		}
		return nil
	case <-timer.C:
		return &Error{Op: opName, Kind: KindTimeout}
	case <-ctx.Done():
		return &Error{Op: opName, Kind: KindOther, Detail: "cancelled", Err: ctx.Err()}
	}
}

// classify maps a keychain error to a Kind by the texts go-keyring and godbus
// produce, and redacts secret from anything kept.
func classify(op string, err error, secret string) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Op = op
		return &c
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return &Error{Op: op, Kind: KindNotFound}
	}
	msg := err.Error()
	kind := KindOther
	switch {
	case strings.Contains(msg, "org.freedesktop.secrets was not provided by any .service files"),
		strings.Contains(msg, "The name org.freedesktop.secrets was not provided"),
		strings.Contains(msg, "ServiceUnknown") && strings.Contains(msg, "org.freedesktop.secrets"):
		kind = KindNoService
	case strings.Contains(msg, "failed to unlock correct collection"),
		strings.Contains(msg, "org.freedesktop.Secret.Error.IsLocked"):
		kind = KindLocked
	case strings.Contains(msg, "couldn't determine address of session bus"),
		strings.Contains(msg, `"dbus-launch"`),
		strings.Contains(msg, "dbus-launch") && strings.Contains(msg, "autolaunch"),
		strings.HasPrefix(msg, "dial unix") && (strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "connection refused")):
		kind = KindNoSession
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return &Error{Op: op, Kind: KindInvalidKey, Detail: "the API key is too long for the keychain"}
	}
	if kind != KindOther {
		return &Error{Op: op, Kind: kind}
	}
	return &Error{Op: op, Kind: KindOther, Err: redacted{err, secret}}
}

// redacted wraps an error whose text must not show secret.
type redacted struct {
	err    error
	secret string
}

func (r redacted) Error() string {
	msg := r.err.Error()
	if r.secret != "" {
		msg = strings.ReplaceAll(msg, r.secret, "[redacted]")
	}
	return msg
}

func (r redacted) Unwrap() error { return r.err }

// Validate checks the shape of an API key loosely: not empty, not absurdly
// long, printable ASCII without spaces, tabs or line breaks (a pasted key
// with a stray newline is the usual mistake). The error names the problem
// and its position, never the key.
func Validate(key string) error {
	bad := func(detail string) error {
		return &Error{Kind: KindInvalidKey, Detail: detail}
	}
	if key == "" {
		return bad("the API key is empty")
	}
	if len(key) > MaxKeyLen {
		return bad(fmt.Sprintf("the API key is %d characters long; an Ultravox API key is much shorter (at most %d): paste only the key", len(key), MaxKeyLen))
	}
	for i, r := range key {
		var what string
		switch {
		case r == ' ':
			what = "a space"
		case r == '\t':
			what = "a tab"
		case r == '\n' || r == '\r':
			what = "a line break"
		case r < 0x20 || r == 0x7f:
			what = "a control character"
		case r > 0x7e:
			what = "a non-ASCII character"
		default:
			continue
		}
		return bad(fmt.Sprintf("the API key contains %s at position %d of %d; paste only the key, without spaces or line breaks", what, i+1, len(key)))
	}
	return nil
}
