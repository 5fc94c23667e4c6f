package desktoptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Need checks that every named binary is on PATH. When one is missing it skips
// the test, or fails it when CI=true or UVT_REQUIRE_DESKTOP=1, so a CI run can
// never pass by skipping.
func Need(t testing.TB, bins ...string) {
	t.Helper()
	var missing []string
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing %s on PATH (run scripts/setup.sh)", strings.Join(missing, ", "))
	if Required() {
		t.Fatalf("%s; failing because CI=true or UVT_REQUIRE_DESKTOP=1", msg)
	}
	t.Skip(msg)
}

// SkipShort skips a long end-to-end test under -short, except when the
// desktop parts are Required (CI, scripts/test.sh): there -short is no way
// for a run to pass without them, so the test runs all the same.
func SkipShort(t testing.TB, why string) {
	t.Helper()
	if !testing.Short() {
		return
	}
	if Required() {
		t.Logf("-short ignored (%s): CI=true or UVT_REQUIRE_DESKTOP=1 requires this test", why)
		return
	}
	t.Skip(why)
}

// Required reports whether missing desktop parts must fail tests instead of
// skipping them (CI=true or UVT_REQUIRE_DESKTOP=1).
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("UVT_REQUIRE_DESKTOP") == "1"
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append([]byte(nil), b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.TrimSpace(b.buf))
}

// proc is one daemon started for one test.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
	err  error // valid after done is closed

	stopOnce sync.Once
}

// startProc starts cmd in its own process group (killed with the test binary
// on Linux) and registers its stop at t.Cleanup. Unless the caller set them,
// stdout and stderr go to a tail buffer that is logged if the test fails.
func startProc(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, out: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("desktoptest: start %s: %v", name, err)
	}
	recordPID(cmd.Process.Pid, name)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			if s := p.out.String(); s != "" {
				t.Logf("desktoptest: %s output:\n%s", name, s)
			}
		}
	})
	return p
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// describe says how the process ended, with the tail of its output.
func (p *proc) describe() string {
	s := fmt.Sprintf("%s exited", p.name)
	if p.exited() && p.err != nil {
		s = fmt.Sprintf("%s exited: %v", p.name, p.err)
	}
	if out := p.out.String(); out != "" {
		s += "; output:\n" + out
	}
	return s
}

// stop sends SIGTERM to the process group, waits up to 3 s for the leader,
// then SIGKILLs whatever is left of the group. Safe to call more than once.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		_ = signalGroup(p.cmd.Process, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			_ = signalGroup(p.cmd.Process, syscall.SIGKILL)
			<-p.done
		}
		// Children the leader left behind in its group (the group id cannot
		// be reused while any member is alive).
		if groupAlive(pgid) {
			_ = signalGroup(p.cmd.Process, syscall.SIGKILL)
		}
	})
}

// recordPID appends "pid starttime name" to $UVT_DESKTOPTEST_PIDFILE, if set.
func recordPID(pid int, name string) {
	path := os.Getenv("UVT_DESKTOPTEST_PIDFILE")
	if path == "" {
		return
	}
	st, err := procStartTime(pid)
	if err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%d %s %s\n", pid, st, strings.ReplaceAll(name, " ", "_"))
}

// procStartTime reads field 22 (starttime) of /proc/pid/stat, which together
// with the pid identifies one process across pid reuse.
func procStartTime(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", errors.New("short stat")
	}
	return f[19], nil
}

// readLine reads one line from r within timeout, then drains the rest of r in
// the background (until the writer closes) so the child never blocks on it.
func readLine(r *os.File, timeout time.Duration) (string, error) {
	type res struct {
		line string
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		br := bufio.NewReader(r)
		line, err := br.ReadString('\n')
		ch <- res{strings.TrimSpace(line), err}
		_, _ = io.Copy(io.Discard, br)
		r.Close()
	}()
	select {
	case v := <-ch:
		if v.err != nil && v.line == "" {
			return "", v.err
		}
		return v.line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no output within %s", timeout)
	}
}

// shortTempDir makes a private directory with a short path (unix socket paths
// are limited to 108 bytes, and t.TempDir embeds the test name), removed at
// cleanup. Register it before the processes that use it so that they are
// stopped first. The name carries this process's pid, so that directories
// of test binaries that died before their cleanups ran (a -timeout panic,
// a kill) are found and removed by the next call.
func shortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	removeOrphanDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("uvt-%s-%d-", prefix, os.Getpid()))
	if err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("desktoptest: remove %s: %v", dir, err)
		}
	})
	return dir
}

var orphanOnce sync.Once

// removeOrphanDirs removes, once per process, the uvt-<kind>-<pid>-* temp
// directories whose test process no longer exists.
func removeOrphanDirs() {
	orphanOnce.Do(func() { removeOrphansIn(os.TempDir()) })
}

func removeOrphansIn(tmp string) {
	if _, err := os.Stat("/proc/self"); err != nil {
		return // no /proc: cannot tell who is alive
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		parts := strings.Split(e.Name(), "-")
		if !e.IsDir() || len(parts) != 4 || parts[0] != "uvt" {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + parts[2]); !os.IsNotExist(err) {
			continue // alive (or unknown): not ours to remove
		}
		_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
}

// waitUntil polls cond every 20 ms until it returns true or timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// envWith returns os.Environ() with the given KEY=value pairs replacing any
// existing entries for those keys.
func envWith(kv ...string) []string {
	keys := map[string]bool{}
	for _, e := range kv {
		k, _, _ := strings.Cut(e, "=")
		keys[k] = true
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if !keys[k] {
			env = append(env, e)
		}
	}
	return append(env, kv...)
}
