package desktoptest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// PulseAudio is a private PulseAudio daemon with one mono 48 kHz null sink named
// "spk" (the default sink) whose monitor "spk.monitor" is the default source:
// what is played comes back on the monitor about 15 ms later.
type PulseAudio struct {
	// RuntimeDir is the daemon's private XDG_RUNTIME_DIR (mode 0700).
	RuntimeDir string
	// Server is the PULSE_SERVER value, "unix:<RuntimeDir>/pulse/native".
	Server string
	// ClientConfig is a client.conf with autospawn off, so no client ever
	// starts a daemon of its own (for instance after Stop).
	ClientConfig string

	proc *proc
	mu   sync.Mutex
	mics int
}

// Pulse starts a private PulseAudio daemon (-n, no default.pa: only the
// native protocol on a unix socket, anonymous auth, and the null sink spk).
// It returns once pactl can talk to it. Stopped at t.Cleanup.
func Pulse(t testing.TB) *PulseAudio {
	t.Helper()
	Need(t, "pulseaudio", "pactl", "parec")
	dir := shortTempDir(t, "pulse")
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".config"), 0o700); err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	p := &PulseAudio{
		RuntimeDir:   dir,
		Server:       "unix:" + filepath.Join(dir, "pulse", "native"),
		ClientConfig: filepath.Join(dir, "client.conf"),
	}
	conf := fmt.Sprintf("autospawn = no\ndefault-server = %s\ncookie-file = %s\n", p.Server, filepath.Join(dir, "cookie"))
	if err := os.WriteFile(p.ClientConfig, []byte(conf), 0o600); err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	cmd := exec.Command("pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
		"--use-pid-file=no", "--system=no", "--realtime=no", "--high-priority=no",
		"--disallow-module-loading=no", "--log-target=stderr", "--log-level=warning",
		"-L", "module-native-protocol-unix auth-anonymous=1 socket="+filepath.Join(dir, "pulse", "native"),
		"-L", "module-null-sink sink_name=spk rate=48000 channels=1 format=s16le")
	cmd.Env = envWith(append(p.Env(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"DBUS_SESSION_BUS_ADDRESS=",
		"DISPLAY=",
	)...)
	p.proc = startProc(t, "pulseaudio", cmd)
	var out string
	var err error
	if !waitUntil(15*time.Second, func() bool {
		if p.proc.exited() {
			return true
		}
		out, err = p.pactl("info")
		return err == nil
	}) || p.proc.exited() {
		t.Fatalf("desktoptest: pulseaudio does not answer (%v: %s): %s", err, out, p.proc.describe())
	}
	p.Pactl(t, "set-default-sink", "spk")
	p.Pactl(t, "set-default-source", "spk.monitor")
	return p
}

// Env returns the variables that point a child process (or libpulse in this
// process, via Setenv) at this daemon: PULSE_SERVER, PULSE_CLIENTCONFIG and
// XDG_RUNTIME_DIR.
func (p *PulseAudio) Env() []string {
	return []string{
		"PULSE_SERVER=" + p.Server,
		"PULSE_CLIENTCONFIG=" + p.ClientConfig,
		"XDG_RUNTIME_DIR=" + p.RuntimeDir,
	}
}

// Setenv sets Env in this process for the rest of the test (t.Setenv, so
// the test cannot be parallel).
func (p *PulseAudio) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range p.Env() {
		k, v, _ := cutEnv(kv)
		t.Setenv(k, v)
	}
}

// Stop kills the daemon now, for tests of audio that goes away mid-call.
// Clients cannot autospawn a new one (see ClientConfig).
func (p *PulseAudio) Stop() { p.proc.stop() }

// Running reports whether the daemon is still running.
func (p *PulseAudio) Running() bool { return !p.proc.exited() }

func (p *PulseAudio) pactl(args ...string) (string, error) {
	cmd := exec.Command("pactl", args...)
	cmd.Env = envWith(p.Env()...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Pactl runs pactl against this daemon and returns its output, failing the
// test if it fails.
func (p *PulseAudio) Pactl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := p.pactl(args...)
	if err != nil {
		t.Fatalf("desktoptest: pactl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// AddPipeMic loads module-pipe-source as a mono s16le source at rate, makes
// it the default source, and returns the path of its fifo: raw PCM written
// there is what a program recording from the default source hears. The
// module is unloaded with the daemon.
func (p *PulseAudio) AddPipeMic(t testing.TB, rate int) (fifoPath string) {
	t.Helper()
	p.mu.Lock()
	p.mics++
	name := fmt.Sprintf("mic%d", p.mics)
	p.mu.Unlock()
	fifoPath = filepath.Join(p.RuntimeDir, name+".fifo")
	p.Pactl(t, "load-module", "module-pipe-source", "source_name="+name, "file="+fifoPath,
		"format=s16le", fmt.Sprintf("rate=%d", rate), "channels=1")
	p.Pactl(t, "set-default-source", name)
	if _, err := os.Stat(fifoPath); err != nil {
		t.Fatalf("desktoptest: module-pipe-source made no fifo: %v", err)
	}
	return fifoPath
}

// Chunk is one read of recorded audio and when it arrived.
type Chunk struct {
	At   time.Time
	Data []byte
}

// Recording is parec capturing raw s16le mono from a source.
type Recording struct {
	Rate  int
	proc  *proc
	mu    sync.Mutex
	data  bytes.Buffer
	chunk []Chunk
	done  chan struct{}
}

// Record starts parec on source (e.g. "spk.monitor") at rate, mono s16le,
// keeping every byte with its arrival time. Stopped at t.Cleanup or by Stop.
func (p *PulseAudio) Record(t testing.TB, source string, rate int) *Recording {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("desktoptest: %v", err)
	}
	cmd := exec.Command("parec", "--device="+source, "--format=s16le", fmt.Sprintf("--rate=%d", rate),
		"--channels=1", "--latency-msec=10", "--raw")
	cmd.Env = envWith(p.Env()...)
	cmd.Stdout = w
	rec := &Recording{Rate: rate, done: make(chan struct{})}
	rec.proc = startProc(t, "parec "+source, cmd)
	w.Close()
	go func() {
		defer close(rec.done)
		defer r.Close()
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				now := time.Now()
				rec.mu.Lock()
				rec.data.Write(buf[:n])
				rec.chunk = append(rec.chunk, Chunk{At: now, Data: append([]byte(nil), buf[:n]...)})
				rec.mu.Unlock()
			}
			if err != nil {
				if err != io.EOF {
					rec.proc.out.Write([]byte("read: " + err.Error()))
				}
				return
			}
		}
	}()
	t.Cleanup(func() { rec.Stop() })
	return rec
}

// Stop ends the recording and waits for the last bytes.
func (r *Recording) Stop() {
	r.proc.stop()
	<-r.done
}

// Bytes returns a copy of everything recorded so far.
func (r *Recording) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.data.Bytes()...)
}

// Chunks returns the reads so far with their arrival times.
func (r *Recording) Chunks() []Chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Chunk(nil), r.chunk...)
}

// Len is the number of bytes recorded so far.
func (r *Recording) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data.Len()
}

// WaitFor waits until pred holds for the recorded bytes, failing the test
// after timeout.
func (r *Recording) WaitFor(t testing.TB, pred func(pcm []byte) bool, timeout time.Duration) {
	t.Helper()
	if !waitUntil(timeout, func() bool { return pred(r.Bytes()) }) {
		t.Fatalf("desktoptest: recording did not meet the condition within %s (%d bytes recorded)", timeout, r.Len())
	}
}
