package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/secrets"
)

// keySource is where the API key comes from: ULTRAVOX_API_KEY, else the
// keychain; with neither (and no ULTRAVOX_API_URL) the app runs the demo.
type keySource struct {
	store  *secrets.Store
	apiURL string // ULTRAVOX_API_URL; "" is Ultravox's own
	log    *slog.Logger
}

func newKeySource(log *slog.Logger) keySource {
	return keySource{store: secrets.New(secrets.TakeEnv()), apiURL: os.Getenv("ULTRAVOX_API_URL"), log: log}
}

// startKey is what the app starts with.
type startKey struct {
	key     string // "" for none
	fromEnv bool   // ULTRAVOX_API_KEY overrides the keychain
	demo    bool   // run against the embedded simulator
	// problem is a keychain failure the user must hear of; the app still
	// starts (without a key).
	problem error
}

// usageError is a mistake on the command line or in the environment: the
// process exits with exitUsage.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// atStart reads the key once. --demo needs no key, so the keychain is left
// alone then (it may prompt); a malformed ULTRAVOX_API_KEY is a usageError.
func (k keySource) atStart(demo bool) (startKey, error) {
	s := startKey{demo: demo}
	var err error
	if !demo || k.store.EnvOverride() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*secrets.DefaultTimeout)
		var src secrets.Source
		s.key, src, err = k.store.Get(ctx)
		cancel()
		s.fromEnv = src == secrets.SourceEnv
	}
	switch {
	case err == nil, errors.Is(err, secrets.ErrNotFound):
	case errors.Is(err, secrets.ErrInvalidKey) && k.store.EnvOverride():
		return s, usageError{err}
	default:
		s.problem = err
	}
	if !s.demo && s.key == "" && k.apiURL == "" {
		s.demo = true
		k.log.Info("no API key is set: starting in demo mode (set a key in Settings…)")
	}
	return s, nil
}

// client is a client of the account's Ultravox (ULTRAVOX_API_URL, if set).
func (k keySource) client(key string) (*ultravox.Client, error) {
	return newClient(k.apiURL, key)
}

func newClient(baseURL, key string) (*ultravox.Client, error) {
	return ultravox.NewClient(ultravox.Options{BaseURL: baseURL, APIKey: key, Version: version})
}

// checkKey validates key with the account it belongs to and returns the
// account's name, for the Settings window.
func (k keySource) checkKey(ctx context.Context, key string) (string, error) {
	c, err := k.client(key)
	if err != nil {
		return "", err
	}
	acc, err := c.GetAccount(ctx)
	if err != nil {
		return "", err
	}
	if acc.Name == "" {
		return "(unnamed account)", nil
	}
	return acc.Name, nil
}

// onChange applies a key saved or removed in Settings. In demo mode a new
// key means leaving the demo (a restart); otherwise the manager switches to
// a client with the new key, or to none.
func (k keySource) onChange(demo bool, mgr interface{ SetClient(*ultravox.Client) }, leaveDemo func()) func(key string) {
	return func(key string) {
		if demo {
			if key != "" {
				leaveDemo()
			}
			return
		}
		if key == "" {
			mgr.SetClient(nil)
			return
		}
		c, err := k.client(key)
		if err != nil {
			k.log.Warn("new key", "err", err)
			return
		}
		mgr.SetClient(c)
	}
}

// keyStore adapts secrets.Store to the settings window: it reads only the
// keychain's key (the environment override is shown separately).
type keyStore struct{ s *secrets.Store }

func (k keyStore) Get(ctx context.Context) (string, error) {
	if k.s.EnvOverride() {
		return "", nil
	}
	key, _, err := k.s.Get(ctx)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	return key, err
}
func (k keyStore) Set(ctx context.Context, key string) error { return k.s.Set(ctx, key) }
func (k keyStore) Delete(ctx context.Context) error {
	if err := k.s.Delete(ctx); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	return nil
}
