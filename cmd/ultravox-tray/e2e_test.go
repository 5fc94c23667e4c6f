package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/power/powertest"
	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// The end-to-end test builds the real binary and runs it under Xvfb with a
// private session bus on which the test owns the StatusNotifierWatcher and
// the notification server, a private system bus, and the simulator as
// ULTRAVOX_API_URL. It drives the tray over dbusmenu as a tray host would.

func goTool(t testing.TB) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go tool on PATH or in GOROOT: %v", err)
	}
	return p
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBinary builds ultravox-tray once per test process.
func buildBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "uvt-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "ultravox-tray")
		cmd := exec.Command(goTool(t), "build", "-o", builtBin, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// desk is one private desktop for the app.
type desk struct {
	sim     *simulator.Server
	env     []string
	watcher *desktoptest.Watcher
	notes   *desktoptest.Notifications
	tr      *desktoptest.Tray
	sys     *desktoptest.Bus
	bus     *desktoptest.Bus
	home    string
	audio   bool // run with microphone and speaker (else --no-audio)
}

type app struct {
	cmd    *exec.Cmd
	out    *syncBuf
	done   chan struct{}
	exitAt time.Time
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newDesk(t testing.TB, settingsJSON string, withWatcher bool) *desk {
	desktoptest.Need(t, "Xvfb", "dbus-daemon")
	d := &desk{sim: simtest.New(t)}
	display := desktoptest.Xvfb(t)
	bus := desktoptest.SessionBus(t)
	sys := desktoptest.SystemBus(t)
	conn := bus.Conn(t)
	if withWatcher {
		d.watcher = desktoptest.StatusNotifierWatcher(t, conn)
	}
	d.notes = desktoptest.NotificationServer(t, conn)
	d.tr = &desktoptest.Tray{Conn: conn}
	d.sys = sys
	d.bus = bus
	d.home = t.TempDir()
	cfg := filepath.Join(d.home, ".config")
	if settingsJSON != "" {
		os.MkdirAll(filepath.Join(cfg, "ultravox-tray"), 0o700)
		if err := os.WriteFile(filepath.Join(cfg, "ultravox-tray", "settings.json"), []byte(settingsJSON), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + d.home,
		"XDG_CONFIG_HOME=" + cfg,
		"XDG_STATE_HOME=" + filepath.Join(d.home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(d.home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(d.home, ".local", "share"),
		"LANG=C.UTF-8",
		"DISPLAY=" + display,
		bus.Env(),
		sys.Env(),
		"ULTRAVOX_API_URL=" + d.sim.URL(),
		"ULTRAVOX_API_KEY=" + d.sim.APIKey(),
	}
	return d
}

func (d *desk) start(t testing.TB, bin string, args ...string) *app {
	t.Helper()
	a := &app{out: &syncBuf{}, done: make(chan struct{})}
	if !d.audio {
		args = append([]string{"--no-audio"}, args...)
	}
	a.cmd = exec.Command(bin, args...)
	a.cmd.Env = d.env
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		a.cmd.Wait()
		a.exitAt = time.Now()
		close(a.done)
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
			<-a.done
		}
		if t.Failed() {
			t.Logf("app output:\n%s", a.out.String())
		}
	})
	if d.watcher != nil {
		d.tr.BusName = d.watcher.WaitItem(t, 60*time.Second)
	}
	return a
}

func (a *app) waitExit(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(timeout):
		// A hang: SIGABRT makes the Go runtime print every goroutine, so
		// the failure says where the app was stuck.
		_ = a.cmd.Process.Signal(syscall.SIGABRT)
		select {
		case <-a.done:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("the app did not exit within %s; output (with its goroutines):\n%s", timeout, a.out.String())
	}
	if code := a.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d; output:\n%s", code, a.out.String())
	}
}

// iconState says which of our tray icons the item shows now.
func iconState(tr *desktoptest.Tray) (assets.State, error) {
	img, err := tr.Icon()
	if err != nil {
		return "", err
	}
	best, bestD := assets.State(""), int64(-1)
	for _, s := range []assets.State{assets.Idle, assets.Connecting, assets.Billing, assets.Ending, assets.Unknown} {
		ref, err := png.Decode(bytes.NewReader(assets.MustIcon(s, assets.TraySize, false)))
		if err != nil {
			return "", err
		}
		if d := imgDiff(img, ref); bestD < 0 || d < bestD {
			best, bestD = s, d
		}
	}
	return best, nil
}

func imgDiff(a, b image.Image) int64 {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 1 << 62
	}
	var d int64
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			r1, g1, b1, a1 := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, a2 := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}, {a1, a2}} {
				if p[0] > p[1] {
					d += int64(p[0] - p[1])
				} else {
					d += int64(p[1] - p[0])
				}
			}
		}
	}
	return d
}

func waitTray(t testing.TB, tr *desktoptest.Tray, icon assets.State, tipPrefix string) {
	t.Helper()
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		title, _, err := tr.Tooltip()
		if err != nil {
			return false, err
		}
		s, err := iconState(tr)
		if err != nil {
			return false, err
		}
		if s != icon || !strings.HasPrefix(title, tipPrefix) {
			return false, fmt.Errorf("icon %s, tooltip %q; want %s, %q…", s, title, icon, tipPrefix)
		}
		return true, nil
	}, 30*time.Second)
}

// liveCall waits for the one simulator call that is joined and not ended.
func liveCall(t testing.TB, sim *simulator.Server, exclude map[string]bool) simulator.Call {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range sim.Calls() {
			if !exclude[c.CallID] && c.Joined != nil && c.Ended == nil {
				return c
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no joined call on the simulator; calls: %+v", sim.Calls())
	return simulator.Call{}
}

func waitEnded(t testing.TB, sim *simulator.Server, id string, timeout time.Duration) simulator.Call {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, ok := sim.Call(id); ok && c.Ended != nil {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, _ := sim.Call(id)
	t.Fatalf("call %s not ended within %s: %+v", id, timeout, c)
	return c
}

// confirmedByApp reports whether the app read the call's end from the
// server before `before`: the app ends a call by closing its socket and
// sending the REST hang_up, then GETs the call until the server says it
// ended; a call listing that shows it ended confirms it as well (the poll
// reads one). What counts is a read the simulator answered after it ended
// the call (Answered, not the arrival Time: with the latency control a GET
// sent beside the hang_up is held and answered after it). A call that
// merely died with the process has no such read.
func confirmedByApp(sim *simulator.Server, c simulator.Call, before time.Time) bool {
	if c.Ended == nil {
		return false
	}
	for _, r := range sim.RequestsTo("GET", "/api/calls") {
		if r.Path != "/api/calls/"+c.CallID && r.Path != "/api/calls" {
			continue
		}
		if r.Status == 200 && !r.Answered.Before(*c.Ended) && !r.Answered.After(before) {
			return true
		}
	}
	return false
}

// click clicks the first menu item starting with prefix once it is there
// and enabled (the agents list arrives after the first check).
func click(t testing.TB, tr *desktoptest.Tray, prefix string) {
	t.Helper()
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		it, err := tr.FindLabelPrefix(prefix)
		if err != nil {
			return false, err
		}
		if !it.Enabled {
			return false, fmt.Errorf("%q is disabled", it.Label)
		}
		return true, nil
	}, 30*time.Second)
	if err := tr.Click(prefix); err != nil {
		t.Fatal(err)
	}
}

func TestE2EStartEndTimeoutQuit(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test builds the binary and runs it for about a minute")
	bin := buildBinary(t)
	d := newDesk(t, `{"maxDurationSeconds": 10, "joinTimeoutSeconds": 15, "pricePerMinute": 0.05}`, true)
	a := d.start(t, bin)
	tr := d.tr

	waitTray(t, tr, assets.Idle, "Idle: no calls billing")

	// Start call -> the simulator's call is joined, icon and tooltip bill.
	clicked := time.Now()
	click(t, tr, "Start call")
	first := liveCall(t, d.sim, nil)
	joinedAfter := time.Since(clicked)
	waitTray(t, tr, assets.Billing, "Billing: ")
	t.Logf("figure: Start call click -> call joined %v, -> billing icon and tooltip %v", joinedAfter.Round(time.Millisecond), time.Since(clicked).Round(time.Millisecond))
	if it, err := tr.FindLabelPrefix("End call"); err != nil || !it.Enabled {
		t.Fatalf("End call while billing: %+v %v", it, err)
	}

	// End call -> ended on the simulator, icon back to idle.
	clicked = time.Now()
	click(t, tr, "End call")
	ended := waitEnded(t, d.sim, first.CallID, 15*time.Second)
	endedAfter := time.Since(clicked)
	waitTray(t, tr, assets.Idle, "Idle: no calls billing")
	t.Logf("figure: End call click -> call ended %v, -> idle icon %v", endedAfter.Round(time.Millisecond), time.Since(clicked).Round(time.Millisecond))
	if r := deref(ended.EndReason); r != "hangup" && r != "agent_hangup" {
		t.Errorf("End call: call ended with %q", r)
	}
	if !confirmedByApp(d.sim, ended, time.Now()) {
		t.Errorf("End call: the app never confirmed the end of %s", first.CallID)
	}

	// A call that reaches maxDuration (10 s) is timed out by the simulator:
	// the user gets one notification that says so.
	click(t, tr, "Start call")
	second := liveCall(t, d.sim, map[string]bool{first.CallID: true})
	timedOut := waitEnded(t, d.sim, second.CallID, 30*time.Second)
	if deref(timedOut.EndReason) != "timeout" {
		t.Fatalf("second call ended with %q, want timeout", deref(timedOut.EndReason))
	}
	n := d.notes.Wait(t, func(n desktoptest.Notification) bool {
		return strings.Contains(strings.ToLower(n.Summary+" "+n.Body), "timed out")
	}, 20*time.Second)
	if n.AppName != "Ultravox Tray" {
		t.Errorf("notification app name %q", n.AppName)
	}
	waitTray(t, tr, assets.Idle, "Idle: no calls billing")

	// Quit with a live call: the call is ended before the process exits.
	click(t, tr, "Start call")
	third := liveCall(t, d.sim, map[string]bool{first.CallID: true, second.CallID: true})
	waitTray(t, tr, assets.Billing, "Billing: ")
	clicked = time.Now()
	click(t, tr, "Quit")
	a.waitExit(t, 15*time.Second)
	t.Logf("figure: Quit click with a live call -> process exited %v", a.exitAt.Sub(clicked).Round(time.Millisecond))
	c, _ := d.sim.Call(third.CallID)
	if c.Ended == nil || c.Ended.After(a.exitAt) || !confirmedByApp(d.sim, c, a.exitAt) {
		t.Fatalf("Quit: call %+v not ended by the app before exit at %v", c, a.exitAt)
	}
	if !strings.Contains(a.out.String(), "ultravox-tray stopped") {
		t.Errorf("no clean stop in the output:\n%s", a.out.String())
	}
}

func TestE2ESIGTERMEndsCallAndSecondInstanceRefused(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", true)
	a := d.start(t, bin)
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")

	// A second launch with the same state directory says so and exits 3.
	second := exec.Command(bin, "--no-audio")
	second.Env = d.env
	out, err := second.CombinedOutput()
	var ee *exec.ExitError
	if !errorsAs(err, &ee) || ee.ExitCode() != exitAlreadyRunning || !strings.Contains(string(out), "already running") {
		t.Fatalf("second instance: %v\n%s", err, out)
	}

	click(t, d.tr, "Start call")
	call := liveCall(t, d.sim, nil)
	waitTray(t, d.tr, assets.Billing, "Billing: ")
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
	c, _ := d.sim.Call(call.CallID)
	if c.Ended == nil || c.Ended.After(a.exitAt) || !confirmedByApp(d.sim, c, a.exitAt) {
		t.Fatalf("SIGTERM: call %+v not ended by the app before exit at %v", c, a.exitAt)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// Without a key the menu offers "Set API key…" and "Try demo mode"; the
// latter restarts the app (same process, exec) on the embedded simulator.
func TestE2ENoKeyTryDemo(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", true)
	var env []string
	for _, kv := range d.env {
		if !strings.HasPrefix(kv, "ULTRAVOX_API_KEY=") {
			env = append(env, kv)
		}
	}
	d.env = env
	a := d.start(t, bin)
	waitTray(t, d.tr, assets.Unknown, "Unknown: no API key set")
	if _, err := d.tr.FindLabelPrefix("Start call"); err == nil {
		t.Error("Start call offered without a key")
	}
	if _, err := d.tr.FindLabelPrefix("Set API key"); err != nil {
		t.Fatal(err)
	}
	// The private bus has no keychain service: the user is told so.
	d.notes.Wait(t, func(n desktoptest.Notification) bool { return n.Summary == "Cannot read the API key" }, 15*time.Second)

	old := d.tr.BusName
	if err := d.tr.Click("Try demo mode"); err != nil {
		t.Fatal(err)
	}
	d.watcher.WaitGone(t, old, 30*time.Second)
	d.tr.BusName = d.watcher.WaitItem(t, 60*time.Second)
	d.tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		title, _, err := tr.Tooltip()
		if err != nil {
			return false, err
		}
		_, ferr := tr.FindLabelPrefix("Start call: Support agent")
		return strings.HasSuffix(title, "[demo]") && ferr == nil, ferr
	}, 60*time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
}

// Without a StatusNotifierWatcher (a desktop with no tray) the user is told,
// instead of the app running invisibly.
func TestE2ENoTrayIsReported(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", false)
	a := d.start(t, bin)
	n := d.notes.Wait(t, func(n desktoptest.Notification) bool { return n.Summary == "No system tray" }, 30*time.Second)
	if !strings.Contains(n.Body, "StatusNotifierWatcher") {
		t.Errorf("body %q", n.Body)
	}
	// A tray host that starts later: the app registers its item with it
	// and says so (the popup replaces the first one).
	d.watcher = desktoptest.StatusNotifierWatcher(t, d.bus.Conn(t))
	d.tr.BusName = d.watcher.WaitItem(t, 30*time.Second)
	found := d.notes.Wait(t, func(n desktoptest.Notification) bool {
		return n.Summary == "System tray found" && strings.Contains(n.Body, "icon is in your panel")
	}, 30*time.Second)
	if found.ReplacesID != n.ID {
		t.Errorf("the confirmation replaces notification %d, want %d (the no-tray one)", found.ReplacesID, n.ID)
	}
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
}

// Sleep with a live call: the app holds logind's delay lock while the call
// is live, ends the call when PrepareForSleep(true) arrives, and only then
// releases the lock so the machine may sleep.
func TestE2ESleepEndsCallBeforeReleasingTheLock(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", true)
	logind := powertest.StartLogind(t, d.sys, powertest.LogindOptions{InhibitDelayMax: 5 * time.Second})
	a := d.start(t, bin)
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")
	click(t, d.tr, "Start call")
	call := liveCall(t, d.sim, nil)
	waitTray(t, d.tr, assets.Billing, "Billing: ")
	deadline := time.Now().Add(15 * time.Second)
	for logind.Held() != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if logind.Held() != 1 {
		t.Fatalf("the app holds %d sleep locks during a call, want 1: %+v", logind.Held(), logind.Inhibitors())
	}
	logind.PrepareForSleep(true)
	ended := waitEnded(t, d.sim, call.CallID, 10*time.Second)
	deadline = time.Now().Add(10 * time.Second)
	for logind.Held() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	locks := logind.Inhibitors()
	if logind.Held() != 0 || len(locks) == 0 {
		t.Fatalf("sleep lock not released after the call ended: %+v", locks)
	}
	// The server's 204 to the REST hang_up lets the machine sleep; the end
	// is confirmed with a GET after it.
	released := locks[len(locks)-1].Released
	accepted := false
	for _, r := range d.sim.RequestsTo("POST", "/api/calls/"+call.CallID+"/send_data_message") {
		accepted = accepted || (r.Status == 204 || r.Status == 422) && !r.Time.After(released)
	}
	if !accepted && released.Before(*ended.Ended) {
		t.Errorf("lock released at %v, call ended at %v, and no hang-up was accepted before", released, *ended.Ended)
	}
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")
	if !confirmedByApp(d.sim, ended, time.Now()) {
		t.Errorf("the end of %s was never confirmed with a GET", call.CallID)
	}
	logind.PrepareForSleep(false)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
}

// With a real PulseAudio (null sink "spk", default source its monitor) the
// app joins with microphone and speaker: the simulator receives the uplink
// at one second of audio per second, and the agent's greeting plays.
func TestE2EVoiceThroughPulseAudio(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	desktoptest.Need(t, "pulseaudio", "pactl", "parec")
	bin := buildBinary(t)
	d := newDesk(t, "", true)
	pa := desktoptest.Pulse(t)
	d.env = append(d.env, pa.Env()...)
	d.audio = true
	rec := pa.Record(t, "spk.monitor", 16000)
	a := d.start(t, bin)
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")
	click(t, d.tr, "Start call")
	call := liveCall(t, d.sim, nil)
	waitTray(t, d.tr, assets.Billing, "Billing: ")
	time.Sleep(3 * time.Second)
	audio, ok := d.sim.CallAudio(call.CallID)
	if !ok || audio.ReceivedBytes() < 16000*2 {
		t.Fatalf("the simulator received %d bytes of microphone audio in 3 s, want at least 1 s (32000)", audio.ReceivedBytes())
	}
	loud := 0
	b := rec.Bytes()
	for i := 0; i+1 < len(b); i += 2 {
		if v := int16(uint16(b[i]) | uint16(b[i+1])<<8); v > 1000 || v < -1000 {
			loud++
		}
	}
	if loud < 100 {
		t.Errorf("the agent's greeting did not reach the speaker: %d loud samples in %d bytes", loud, len(b))
	}
	click(t, d.tr, "End call")
	waitEnded(t, d.sim, call.CallID, 15*time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
}

func withoutEnv(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// With the key in a real gnome-keyring (and no ULTRAVOX_API_KEY) the app
// reads it from the keychain and works against the account, not the demo.
func TestE2EKeyFromRealKeychain(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	desktoptest.Need(t, "secret-tool")
	bin := buildBinary(t)
	d := newDesk(t, "", true)
	desktoptest.Keyring(t, d.bus)
	store := exec.Command("secret-tool", "store", "--label", "Ultravox API key", "service", "ultravox-tray", "username", "api-key")
	store.Env = []string{d.bus.Env(), "PATH=" + os.Getenv("PATH")}
	store.Stdin = strings.NewReader(d.sim.APIKey())
	if out, err := store.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v\n%s", err, out)
	}
	d.env = withoutEnv(d.env, "ULTRAVOX_API_KEY")
	a := d.start(t, bin)
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")
	title, _, err := d.tr.Tooltip()
	if err != nil || strings.Contains(title, "[demo]") {
		t.Fatalf("tooltip %q (%v): not the account's", title, err)
	}
	click(t, d.tr, "Start call")
	call := liveCall(t, d.sim, nil)
	click(t, d.tr, "End call")
	waitEnded(t, d.sim, call.CallID, 15*time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
	if strings.Contains(a.out.String(), d.sim.APIKey()) {
		t.Error("the API key appears in the app's output")
	}
}

// A locked keychain: the app says so (a notification naming the problem),
// offers "Set API key…", and does not fall back to anything else.
func TestE2ELockedKeychainIsReported(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", true)
	desktoptest.LockedKeyring(t, d.bus)
	d.env = withoutEnv(d.env, "ULTRAVOX_API_KEY")
	a := d.start(t, bin)
	n := d.notes.Wait(t, func(n desktoptest.Notification) bool { return n.Summary == "Cannot read the API key" }, 30*time.Second)
	if !strings.Contains(n.Body, "locked") || !strings.Contains(n.Body, "Unlock your login keyring") {
		t.Errorf("notification does not say the keyring is locked: %q", n.Body)
	}
	waitTray(t, d.tr, assets.Unknown, "Unknown: no API key set")
	if _, err := d.tr.FindLabelPrefix("Set API key"); err != nil {
		t.Error(err)
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
}

// A key the server rejects at the very first check: icon unknown, tooltip
// says so, and the notification is not lost to an early subscriber.
func TestE2ERejectedKeyAtStart(t *testing.T) {
	desktoptest.SkipShort(t, "end-to-end test")
	bin := buildBinary(t)
	d := newDesk(t, "", true)
	d.env = append(withoutEnv(d.env, "ULTRAVOX_API_KEY"), "ULTRAVOX_API_KEY=NotAKey1."+strings.Repeat("wrong", 6)+"wr") // real-shaped, built at run time
	a := d.start(t, bin)
	waitTray(t, d.tr, assets.Unknown, "Unknown: API key rejected")
	d.notes.Wait(t, func(n desktoptest.Notification) bool { return n.Summary == "API key rejected" }, 15*time.Second)
	if _, err := d.tr.FindLabelPrefix("Set API key"); err != nil {
		t.Error(err)
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
}
