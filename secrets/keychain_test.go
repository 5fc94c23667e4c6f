//go:build linux

package secrets

// Real keychain tests: a real gnome-keyring (or none, or a locked one, or no
// session bus) from internal/desktoptest, driven through the production path
// (go-keyring on the process-wide godbus session bus). godbus caches that
// bus per process, so each case runs the operations in a fresh subprocess:
// this test binary re-run with UVT_SECRETS_CHILD set (see TestMain).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"go.uber.org/goleak"

	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// result is what the child reports for one operation.
type result struct {
	Op     string `json:"op"`
	Key    string `json:"key,omitempty"`
	Source string `json:"source,omitempty"`
	Kind   Kind   `json:"kind"`
	Err    string `json:"err,omitempty"`
	Millis int64  `json:"ms"`
}

func (r result) ok() bool { return r.Err == "" }

func TestMain(m *testing.M) {
	if ops := os.Getenv("UVT_SECRETS_CHILD"); ops != "" {
		os.Exit(child(ops))
	}
	goleak.VerifyTestMain(m)
}

// child runs space-separated operations ("get", "set:<key>", "delete") on
// a fresh Store and prints one JSON result per line.
func child(ops string) int {
	if p := os.Getenv("UVT_SECRETS_RUNTIME_BUS"); p != "" {
		runtimeBusPath = func() string { return p }
	}
	var opts []Option
	if d, err := time.ParseDuration(os.Getenv("UVT_SECRETS_TIMEOUT")); err == nil {
		opts = append(opts, WithTimeout(d))
	}
	s := New(opts...)
	enc := json.NewEncoder(os.Stdout)
	for _, op := range strings.Fields(ops) {
		r := result{Op: op}
		start := time.Now()
		var err error
		switch {
		case op == "get":
			var src Source
			r.Key, src, err = s.Get(context.Background())
			r.Source = src.String()
		case strings.HasPrefix(op, "set:"):
			err = s.Set(context.Background(), strings.TrimPrefix(op, "set:"))
			r.Op = "set"
		case op == "delete":
			err = s.Delete(context.Background())
		default:
			err = fmt.Errorf("unknown op %q", op)
		}
		r.Millis = time.Since(start).Milliseconds()
		if err != nil {
			r.Err = err.Error()
			var e *Error
			if errors.As(err, &e) {
				r.Kind = e.Kind
			}
		}
		_ = enc.Encode(r)
	}
	return 0
}

// runChild runs ops in a subprocess with env added to a clean environment
// (no inherited D-Bus address or key).
func runChild(t *testing.T, ops string, env ...string) []result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	// GORACE: a -race binary otherwise sleeps 1 s before exiting.
	base := []string{"UVT_SECRETS_CHILD=" + ops, "GORACE=atexit_sleep_ms=0"}
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", EnvKey, "GORACE", "UVT_SECRETS_CHILD", "UVT_SECRETS_RUNTIME_BUS", "UVT_SECRETS_TIMEOUT":
			continue
		}
		base = append(base, e)
	}
	cmd.Env = append(base, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %q: %v\n%s", ops, err, stderr.String())
	}
	var rs []result
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var r result
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("child %q output %q: %v", ops, out, err)
		}
		rs = append(rs, r)
	}
	if n := len(strings.Fields(ops)); len(rs) != n {
		t.Fatalf("child %q reported %d results, want %d: %s\n%s", ops, len(rs), n, out, stderr.String())
	}
	return rs
}

func secretTool(t *testing.T, bus *desktoptest.Bus, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("secret-tool", args...)
	cmd.Env = append(os.Environ(), bus.Env())
	out, err := cmd.Output()
	return string(out), err
}

// items counts the items in secret-tool search output (one "[/path]" line
// each).
func items(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "[/") {
			n++
		}
	}
	return n
}

func noKeyIn(t *testing.T, rs []result, key string) {
	t.Helper()
	for _, r := range rs {
		if strings.Contains(r.Err, key) {
			t.Errorf("%s error contains the key: %q", r.Op, r.Err)
		}
	}
}

func TestKeychainRoundTripWithGnomeKeyring(t *testing.T) {
	desktoptest.Need(t, "secret-tool")
	bus := desktoptest.SessionBus(t)
	desktoptest.Keyring(t, bus)

	rs := runChild(t, "get delete set:"+testKey+" get", bus.Env())
	if rs[0].Kind != KindNotFound || rs[0].Err != "no API key is stored in the keychain" {
		t.Errorf("get on an empty keyring = %+v", rs[0])
	}
	if rs[1].Kind != KindNotFound {
		t.Errorf("delete on an empty keyring = %+v", rs[1])
	}
	if !rs[2].ok() {
		t.Fatalf("set = %+v", rs[2])
	}
	if rs[3].Key != testKey || rs[3].Source != "keychain" || !rs[3].ok() {
		t.Fatalf("get after set = %+v", rs[3])
	}
	// Stored where other tools find it, under service/username attributes.
	if out, err := secretTool(t, bus, "lookup", "service", Service, "username", User); err != nil || out != testKey {
		t.Fatalf("secret-tool lookup = %q, %v; want the stored key", out, err)
	}

	// A second set replaces the key (no duplicate items), from a new process.
	const second = "second.key-value"
	rs = runChild(t, "set:"+second+" get", bus.Env())
	if !rs[0].ok() || rs[1].Key != second {
		t.Fatalf("replace: %+v", rs)
	}
	if out, err := secretTool(t, bus, "search", "--all", "service", Service, "username", User); err != nil || items(out) != 1 {
		t.Errorf("secret-tool search after two sets finds %d items, want 1:\n%s (%v)", items(out), out, err)
	}

	// The environment overrides the keychain and is not stored.
	rs = runChild(t, "get", bus.Env(), EnvKey+"=env.override-key")
	if rs[0].Key != "env.override-key" || rs[0].Source != "environment (ULTRAVOX_API_KEY)" {
		t.Errorf("get with %s = %+v", EnvKey, rs[0])
	}
	if out, _ := secretTool(t, bus, "lookup", "service", Service, "username", User); out != second {
		t.Errorf("keychain changed by an env override: %q", out)
	}

	// A bad key is refused before it reaches the keychain.
	rs = runChild(t, "set:bad\x01key", bus.Env())
	if rs[0].Kind != KindInvalidKey || !strings.Contains(rs[0].Err, "control character at position 4") {
		t.Errorf("set of a bad key = %+v", rs[0])
	}

	rs = runChild(t, "delete get delete", bus.Env())
	if !rs[0].ok() || rs[1].Kind != KindNotFound || rs[2].Kind != KindNotFound {
		t.Fatalf("delete/get/delete = %+v", rs)
	}
	if out, err := secretTool(t, bus, "lookup", "service", Service, "username", User); err == nil || out != "" {
		t.Errorf("secret-tool still finds the key after Delete: %q", out)
	}
}

func TestKeychainWithoutSecretService(t *testing.T) {
	bus := desktoptest.SessionBus(t) // activates nothing: no keyring at all
	rs := runChild(t, "get set:"+testKey+" delete", bus.Env())
	for _, r := range rs {
		if r.Kind != KindNoService || !strings.Contains(r.Err, "no Secret Service is running") ||
			!strings.Contains(r.Err, "gnome-keyring") || !strings.Contains(r.Err, "KeePassXC") {
			t.Errorf("%s without a Secret Service = %+v", r.Op, r)
		}
	}
	if !strings.HasPrefix(rs[1].Err, "cannot store the API key in the keychain: ") {
		t.Errorf("set error does not say what failed: %q", rs[1].Err)
	}
	noKeyIn(t, rs, testKey)
}

func TestKeychainLocked(t *testing.T) {
	desktoptest.Need(t, "secret-tool")
	bus := desktoptest.SessionBus(t)
	desktoptest.LockedKeyring(t, bus)
	rs := runChild(t, "get set:"+testKey, bus.Env())
	for _, r := range rs {
		if r.Kind != KindLocked || !strings.Contains(r.Err, "the keyring is locked") || !strings.Contains(r.Err, "Unlock your login keyring") {
			t.Errorf("%s on a locked keyring = %+v", r.Op, r)
		}
	}
	noKeyIn(t, rs, testKey)
	// Nothing was written anywhere: the set failed and there is no fallback.
	if out, _ := secretTool(t, bus, "search", "--all", "service", Service); items(out) != 0 {
		t.Errorf("a locked keyring got an item:\n%s", out)
	}
}

func TestKeychainWithoutSessionBus(t *testing.T) {
	// No address and no /run/user/UID/bus: the Store must say so and must
	// not let godbus autolaunch a bus. A dbus-launch that records its use
	// stands first on PATH to prove it is never run.
	dir := t.TempDir()
	marker := filepath.Join(dir, "dbus-launch-ran")
	fake := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "dbus-launch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	rs := runChild(t, "get set:"+testKey+" delete",
		"PATH="+dir+":"+os.Getenv("PATH"),
		"UVT_SECRETS_RUNTIME_BUS="+filepath.Join(dir, "no-such-bus"))
	for _, r := range rs {
		if r.Kind != KindNoSession || !strings.Contains(r.Err, "no D-Bus session bus") || !strings.Contains(r.Err, "dbus-run-session") {
			t.Errorf("%s without a session bus = %+v", r.Op, r)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("dbus-launch was run: a stray session bus would be left behind")
	}
	noKeyIn(t, rs, testKey)

	// A session address whose bus is gone goes through go-keyring and godbus
	// for real and is reported the same way.
	bus := desktoptest.SessionBus(t)
	addr := bus.Env()
	bus.Stop()
	rs = runChild(t, "get set:"+testKey, addr)
	for _, r := range rs {
		if r.Kind != KindNoSession {
			t.Errorf("%s with a dead session bus = %+v", r.Op, r)
		}
	}
}

// stuckService owns org.freedesktop.secrets on bus and never answers a call,
// like a keyring blocked on an unlock prompt nobody answers.
type stuckService struct{ release chan struct{} }

func (s stuckService) LookupObject(dbus.ObjectPath) (dbus.ServerObject, bool) {
	<-s.release
	return nil, false
}

func TestKeychainTimeout(t *testing.T) {
	bus := desktoptest.SessionBus(t)
	stuck := stuckService{release: make(chan struct{})}
	conn, err := dbus.Connect(bus.Address, dbus.WithHandler(stuck))
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: release the handlers, then close.
	t.Cleanup(func() { conn.Close() })
	t.Cleanup(func() { close(stuck.release) })
	if r, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.secrets: %v %v", r, err)
	}
	rs := runChild(t, "get set:"+testKey+" delete", bus.Env(), "UVT_SECRETS_TIMEOUT=300ms")
	// The first call times out waiting for the keychain; the next ones find
	// it still stuck on that call and do nothing.
	for i, r := range rs {
		want := "did not answer in time"
		if i > 0 {
			want = "still busy with an earlier request"
		}
		if r.Kind != KindTimeout || !strings.Contains(r.Err, want) {
			t.Errorf("%s on a keychain that never answers = %+v, want a timeout saying %q", r.Op, r, want)
		}
		if r.Millis < 250 || r.Millis > 3000 {
			t.Errorf("%s returned after %d ms, want about 300", r.Op, r.Millis)
		}
	}
	noKeyIn(t, rs, testKey)
}
