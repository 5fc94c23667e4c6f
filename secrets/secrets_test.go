package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

const testKey = "Zk9Ht7Lm.wX7pN9fM3kLj6tRq2bGhA8yE5cV"

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", MaxKeyLen+1)
	for _, tc := range []struct {
		key  string
		want string // "" means valid
	}{
		{testKey, ""},
		{"abc", ""},
		{"", "is empty"},
		{testKey + "\n", "a line break at position 37 of 37"},
		{" " + testKey, "a space at position 1"},
		{"ab\tcd", "a tab at position 3"},
		{"ab\x00cd", "a control character at position 3"},
		{"abcé", "a non-ASCII character at position 4"},
		{long, "1025 characters long"},
	} {
		err := Validate(tc.key)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Validate(%q) = %v, want nil", tc.key, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Validate(%q) = %v, want an ErrInvalidKey saying %q", tc.key, err, tc.want)
			continue
		}
		if tc.key != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.key)) {
			t.Errorf("Validate error %q contains the key", err)
		}
	}
}

// The literal failure texts of go-keyring and godbus on Linux.
func TestClassifyKnownFailureTexts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
		says string
	}{
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), ErrNoService, "gnome-keyring"},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrLocked, "Unlock your login keyring"},
		{errors.New("dbus: couldn't determine address of session bus"), ErrNoSession, "dbus-run-session"},
		{errors.New(`exec: "dbus-launch": executable file not found in $PATH`), ErrNoSession, "DBUS_SESSION_BUS_ADDRESS"},
		{errors.New("dial unix /run/user/1000/bus: connect: no such file or directory"), ErrNoSession, "desktop session"},
		{keyring.ErrNotFound, ErrNotFound, "no API key is stored"},
		{keyring.ErrSetDataTooBig, ErrInvalidKey, "too long"},
	} {
		got := classify("read", tc.err, "")
		if !errors.Is(got, tc.want) || !strings.Contains(got.Error(), tc.says) {
			t.Errorf("classify(%q) = %v, want kind of %v saying %q", tc.err, got, tc.want, tc.says)
		}
	}
	other := classify("store", fmt.Errorf("odd failure echoing %s", testKey), testKey)
	if strings.Contains(other.Error(), testKey) || !strings.Contains(other.Error(), "[redacted]") ||
		!strings.HasPrefix(other.Error(), "cannot store the API key in the keychain: ") {
		t.Errorf("unknown error not redacted or unlabelled: %q", other)
	}
	for _, s := range []error{ErrNoService, ErrLocked, ErrNoSession, ErrTimeout} {
		if errors.Is(other, s) {
			t.Errorf("unknown error matches %v", s)
		}
	}
}

// fakeKeychain is an in-memory backend for the Store's own logic (env
// override, timeouts, one-at-a-time); the keychain itself is tested for real
// in keychain_test.go.
type fakeKeychain struct {
	mu    sync.Mutex
	val   map[string]string
	block chan struct{} // when non-nil, every call waits on it
	calls int
}

func (f *fakeKeychain) wait() {
	f.mu.Lock()
	f.calls++
	b := f.block
	f.mu.Unlock()
	if b != nil {
		<-b
	}
}

func (f *fakeKeychain) Get(s, u string) (string, error) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.val[s+"/"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeychain) Set(s, u, p string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.val[s+"/"+u] = p
	return nil
}

func (f *fakeKeychain) Delete(s, u string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.val[s+"/"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.val, s+"/"+u)
	return nil
}

func newFakeStore(env map[string]string, opts ...Option) (*Store, *fakeKeychain) {
	f := &fakeKeychain{val: map[string]string{}}
	s := &Store{kc: f, getenv: func(k string) string { return env[k] }, precheck: func() error { return nil }}
	for _, o := range opts {
		o(s)
	}
	s.init()
	return s, f
}

func TestStoreEnvOverridesAndIsNeverStored(t *testing.T) {
	ctx := context.Background()
	s, f := newFakeStore(map[string]string{EnvKey: "env.key"})
	if err := s.Set(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	k, src, err := s.Get(ctx)
	if err != nil || k != "env.key" || src != SourceEnv || !s.EnvOverride() {
		t.Fatalf("Get = %q, %v, %v; want the env key", k, src, err)
	}
	if f.val[Service+"/"+User] != testKey {
		t.Fatalf("keychain holds %q, want the key given to Set (the env key is never stored)", f.val[Service+"/"+User])
	}
	bad, _ := newFakeStore(map[string]string{EnvKey: "env.key\n"})
	if _, _, err := bad.Get(ctx); !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), EnvKey+" is set but") ||
		strings.Contains(err.Error(), "env.key") {
		t.Fatalf("Get with a malformed env key = %v", err)
	}
}

func TestStoreNotFoundAndRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := newFakeStore(nil)
	if _, src, err := s.Get(ctx); !errors.Is(err, ErrNotFound) || src != SourceNone {
		t.Fatalf("Get on empty = %v, %v", src, err)
	}
	if err := s.Delete(ctx); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "nothing to remove") {
		t.Fatalf("Delete on empty = %v", err)
	}
	if err := s.Set(ctx, "bad key"); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Set(bad) = %v", err)
	}
	if err := s.Set(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	if k, src, err := s.Get(ctx); k != testKey || src != SourceKeychain || err != nil {
		t.Fatalf("Get = %q, %v, %v", k, src, err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
}

func TestStoreTimesOutAndRunsOneAtATime(t *testing.T) {
	s, f := newFakeStore(nil, WithTimeout(100*time.Millisecond))
	f.block = make(chan struct{})
	ctx := context.Background()
	start := time.Now()
	if _, _, err := s.Get(ctx); !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("Get on a stuck keychain = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %s", d)
	}
	// The first call is still stuck: a second one must not pile onto it.
	if err := s.Set(ctx, testKey); !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "still busy with an earlier request") ||
		!strings.Contains(err.Error(), "nothing was done") {
		t.Fatalf("Set while stuck = %v", err)
	}
	f.mu.Lock()
	calls := f.calls
	f.mu.Unlock()
	if calls != 1 {
		t.Fatalf("%d keychain calls while one was stuck, want 1", calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Delete(cctx); err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete with a cancelled context = %v", err)
	}
	close(f.block) // the keychain answers; the slot frees up
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := s.Set(ctx, testKey)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Set after the keychain recovered = %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStoreTimeoutOfAStoreSaysItIsPending(t *testing.T) {
	s, f := newFakeStore(nil, WithTimeout(50*time.Millisecond))
	f.block = make(chan struct{})
	err := s.Set(context.Background(), testKey)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "still pending") || strings.Contains(err.Error(), testKey) {
		t.Fatalf("Set on a stuck keychain = %v", err)
	}
	close(f.block)
	// The pending store completes once the keychain answers.
	deadline := time.Now().Add(2 * time.Second)
	for {
		f.mu.Lock()
		v := f.val[Service+"/"+User]
		f.mu.Unlock()
		if v == testKey {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pending store never completed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestZeroStoreUsesDefaults(t *testing.T) {
	var s Store
	t.Setenv(EnvKey, "zero.value-key")
	k, src, err := s.Get(context.Background())
	if err != nil || k != "zero.value-key" || src != SourceEnv || s.timeout != DefaultTimeout {
		t.Fatalf("zero Store: %q %v %v (timeout %s)", k, src, err, s.timeout)
	}
}

func TestSourceAndSentinelStrings(t *testing.T) {
	if SourceEnv.String() != "environment (ULTRAVOX_API_KEY)" || SourceKeychain.String() != "keychain" || SourceNone.String() != "none" {
		t.Error("Source strings changed")
	}
	e := &Error{Op: "read", Kind: KindLocked}
	if !errors.Is(e, ErrLocked) || errors.Is(e, ErrNoService) {
		t.Error("Is does not match by kind")
	}
}

// TakeEnv keeps the key for the Store and takes it out of the process
// environment, so no child process inherits it.
func TestTakeEnvRemovesTheKeyFromTheEnvironment(t *testing.T) {
	key := testKey
	t.Setenv(EnvKey, key)
	s := New(TakeEnv())
	if v, ok := os.LookupEnv(EnvKey); ok {
		t.Fatalf("%s still in the environment: %q", EnvKey, v)
	}
	if !s.EnvOverride() {
		t.Error("the Store forgot the key it took")
	}
	got, src, err := s.Get(context.Background())
	if err != nil || got != key || src != SourceEnv {
		t.Errorf("Get: %q %v %v", got, src, err)
	}
}
