//go:build linux

package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/contract"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// Environment knobs (make soak sets them):
//
//	UVT_CAMPAIGN_SEEDS=n   run seeds 1..n (default defaultSeeds)
//	UVT_CAMPAIGN_SEED=n    run seed n only (the replay command a failure prints)
//	UVT_CAMPAIGN_FOR=d     start no new seed after d (a Go duration), then report
const defaultSeeds = 24

func seedsToRun(t *testing.T) []uint64 {
	if v := os.Getenv("UVT_CAMPAIGN_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("UVT_CAMPAIGN_SEED=%q: want a seed number", v)
		}
		return []uint64{n}
	}
	n := defaultSeeds
	if v := os.Getenv("UVT_CAMPAIGN_SEEDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("UVT_CAMPAIGN_SEEDS=%q: want a positive number", v)
		}
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// TestCampaign runs the seeds one after another on one desktop rig and
// fails for every violation that KnownFailing does not list.
func TestCampaign(t *testing.T) {
	// A test run under nohup inherits SIGHUP ignored, and an ignored signal
	// stays ignored across exec: the app would never see the SIGHUP stop.
	// A caught signal is reset to its default in the child.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	rg := newRig(t)
	seeds := seedsToRun(t)
	var results []Result
	began := time.Now()
	var budget time.Duration
	if v := os.Getenv("UVT_CAMPAIGN_FOR"); v != "" {
		var err error
		if budget, err = time.ParseDuration(v); err != nil {
			t.Fatalf("UVT_CAMPAIGN_FOR=%q: want a duration such as 45m", v)
		}
	}
	for i, seed := range seeds {
		if budget > 0 && time.Since(began) > budget {
			t.Logf("time budget %v spent after %d of %d seeds", budget, i, len(seeds))
			seeds = seeds[:i]
			break
		}
		p := PlanFor(seed)
		start := time.Now()
		run := rg.runSeed(t, p)
		vs := Check(run)
		results = append(results, Result{Plan: p, Violations: vs})
		fresh, old := Split(p, vs)
		replay := fmt.Sprintf("make soak SEED=%d", seed)
		for _, v := range old {
			k, _ := known(p, v)
			t.Logf("known failure (%s): %s: %s [replay: %s]", k.Defect, p, v, replay)
		}
		if len(fresh) > 0 {
			var b strings.Builder
			for _, v := range fresh {
				fmt.Fprintf(&b, "\n  %s", v)
			}
			t.Errorf("%s broke %d invariant(s):%s\n  replay: %s\n  app output:\n%s\n  simulator requests:\n%s", p, len(fresh), b.String(), replay, indent(run.Output), indent(run.Requests))
		}
		if testing.Verbose() {
			t.Logf("%s: %d violation(s), %v", p, len(vs), time.Since(start).Round(time.Millisecond))
		}
	}
	per := time.Since(began) / time.Duration(len(seeds))
	t.Logf("fault campaign: %d seed(s) in %v (%v per seed)\n%s", len(seeds), time.Since(began).Round(time.Second), per.Round(time.Millisecond), Table(results))
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 80 {
		lines = append([]string{fmt.Sprintf("(%d earlier lines cut)", len(lines)-80)}, lines[len(lines)-80:]...)
	}
	return "    " + strings.Join(lines, "\n    ")
}

// rig is the desktop every seed reuses: Xvfb, a session bus with a tray
// host (StatusNotifierWatcher) and a notification server, a system bus, and
// the binary. Only the app process and the simulator are per seed.
type rig struct {
	bin       string
	validator *contract.Validator // shared: loading the schema is the slow part
	env       []string            // DISPLAY, buses, PATH, LANG
	tr        *desktoptest.Tray
	watcher   *desktoptest.Watcher
}

func newRig(t *testing.T) *rig {
	desktoptest.Need(t, "Xvfb", "dbus-daemon")
	display := desktoptest.Xvfb(t)
	bus := desktoptest.SessionBus(t)
	sys := desktoptest.SystemBus(t)
	conn := bus.Conn(t)
	rg := &rig{watcher: desktoptest.StatusNotifierWatcher(t, conn), tr: &desktoptest.Tray{Conn: conn}}
	desktoptest.NotificationServer(t, conn)
	rg.env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "DISPLAY=" + display, bus.Env(), sys.Env()}
	if v := os.Getenv("UVT_TEST_RUN"); v != "" {
		rg.env = append(rg.env, "UVT_TEST_RUN="+v) // scripts/test.sh sweeps what a crashed run leaves
	}
	var err error
	if rg.validator, err = contract.New(); err != nil {
		t.Fatal(err)
	}
	rg.bin = filepath.Join(t.TempDir(), "ultravox-tray")
	cmd := exec.Command(goTool(t), "build", "-o", rg.bin, "github.com/ultravox-tray/ultravox-tray/cmd/ultravox-tray")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return rg
}

func goTool(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go tool on PATH or in GOROOT: %v", err)
	}
	return p
}

// proc is one app process.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuf
	done   chan struct{}
	exitAt time.Time
	tray   desktoptest.Tray
	stop   chan struct{} // stops the tooltip poller
	polled sync.WaitGroup
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// seedRun is one seed in progress.
type seedRun struct {
	Run
	rg    *rig
	sim   *simulator.Server
	home  string
	mark  string // in every app process's environment, to find what outlived it
	env   []string
	procs []*proc
	mu    sync.Mutex // guards Idle, Harness and faultUntil
	// faultUntil is when a fault that lasts a time (latency, outage,
	// restart) is over.
	faultUntil time.Time
}

func (s *seedRun) harness(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Harness = append(s.Harness, fmt.Sprintf(format, args...))
}

func (rg *rig) runSeed(t *testing.T, p Plan) Run {
	s := &seedRun{rg: rg, Run: Run{Plan: p, SettingsWant: p.Settings, HistorySeen: map[string]bool{}}}
	v := rg.validator
	schemaBefore := len(v.Violations())
	o := simulator.DefaultOptions()
	o.SpeakGreeting = false
	o.SettleDelay = 200 * time.Millisecond
	o.Middleware = v.Middleware
	s.sim = simulator.New(o)
	if err := s.sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.sim.Close()
	var err error
	s.home, err = os.MkdirTemp("", "uvt-camp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(s.home)
	s.mark = fmt.Sprintf("UVT_CAMPAIGN_MARK=%d-%d-%d", os.Getpid(), p.Seed, time.Now().UnixNano())
	cfg := filepath.Join(s.home, "config")
	s.env = append(append([]string(nil), rg.env...),
		"HOME="+s.home, "XDG_CONFIG_HOME="+cfg,
		"XDG_STATE_HOME="+filepath.Join(s.home, "state"), "XDG_CACHE_HOME="+filepath.Join(s.home, "cache"),
		"XDG_DATA_HOME="+filepath.Join(s.home, "data"),
		"ULTRAVOX_API_URL="+s.sim.URL(), "ULTRAVOX_API_KEY="+s.sim.APIKey(), s.mark)
	os.MkdirAll(filepath.Join(cfg, "ultravox-tray"), 0o700)
	b, _ := json.MarshalIndent(p.Settings, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg, "ultravox-tray", "settings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}

	s.play()

	for _, x := range s.procs {
		s.endProc(x) // whatever the play left running
	}
	s.sim.ClearFaults()
	s.waitForEnds()
	s.Calls = s.sim.Calls()
	var reqs strings.Builder
	for _, r := range s.sim.Requests() {
		fmt.Fprintf(&reqs, "%s %s %s %d %s\n", clock(r.Time), r.Method, r.Path, r.Status, r.Fault)
	}
	s.Requests = reqs.String()
	for _, viol := range v.Violations()[schemaBefore:] {
		s.Schema = append(s.Schema, viol.String())
	}
	s.readFiles(cfg)
	var out strings.Builder
	for i, x := range s.procs {
		fmt.Fprintf(&out, "--- app process %d (pid %d)\n%s", i+1, x.cmd.Process.Pid, x.out.String())
	}
	s.Output = out.String()
	return s.Run
}

// play is the seed's script: start, fault, stop, restart, quit.
func (s *seedRun) play() {
	p := s.Plan
	a := s.start()
	if a == nil {
		return
	}
	if !s.waitTooltip(a, "Idle", 30*time.Second) {
		return
	}
	if p.Phase == PhaseConnecting {
		s.inject(p.FaultAfter)
		if !s.click(a, "Start call", 10*time.Second) {
			return
		}
		s.Clicks++
		time.Sleep(p.StopAfter)
	} else {
		if !s.click(a, "Start call", 10*time.Second) {
			return
		}
		s.Clicks++
		call, ok := s.waitJoined(20 * time.Second)
		if !ok {
			return
		}
		if p.Fault == FaultSocket1011 {
			time.Sleep(p.FaultAfter)
			if err := s.sim.CloseSocket(call.CallID, websocket.StatusInternalError, "media server error"); err != nil {
				s.harness("close the socket with 1011: %v", err)
			} else {
				s.SocketClosed = time.Now()
			}
		} else {
			s.inject(p.FaultAfter)
		}
		if p.Phase == PhaseEnding {
			s.Intent = time.Now()
			s.tryClick(a, "End call", 2*time.Second)
		}
		time.Sleep(p.StopAfter)
	}

	if p.Stop == StopEndClick {
		s.Intent = time.Now()
		s.tryClick(a, "End call", 3*time.Second)
		s.waitIdleAgain(a)
	} else {
		if s.Intent.IsZero() || p.Stop == StopKILL {
			s.Intent = time.Now()
		}
		s.stopApp(a, p.Stop)
		// Restart on the same state: the journal's leftovers are ended.
		b := s.start()
		if b == nil {
			return
		}
		if p.Stop == StopKILL {
			s.Intent = time.Now()
		}
		a = b
		s.waitIdleAgain(a)
	}
	s.quit(a)
}

// inject starts the plan's fault after wait (in the background when it
// lasts).
func (s *seedRun) inject(wait time.Duration) {
	p := s.Plan
	time.Sleep(wait)
	switch p.Fault {
	case Fault5xx:
		status := []int{500, 502, 503, 504}[p.Seed%4]
		if p.AfterHandling {
			s.sim.FailNextAfterHandling(p.Count, status)
		} else {
			s.sim.FailNext(p.Count, status)
		}
	case Fault429:
		s.sim.FailNext(p.Count, http.StatusTooManyRequests)
	case FaultMalformed:
		s.sim.Malformed(p.Count)
	case FaultLatency:
		s.setFaultUntil(p.Down + p.Spike)
		s.sim.SetLatency(p.Spike)
		time.AfterFunc(p.Down, func() { s.sim.SetLatency(0) })
	case FaultOutage:
		s.setFaultUntil(p.Down)
		s.sim.Outage(p.Down)
	case FaultSimRestart:
		s.setFaultUntil(p.Down)
		go func() {
			if err := s.sim.Restart(p.Down); err != nil {
				s.harness("simulator restart: %v", err)
			}
		}()
	}
}

// start starts an app process and waits for its tray item.
func (s *seedRun) start() *proc {
	rg := s.rg
	before := len(rg.watcher.Items())
	x := &proc{out: &syncBuf{}, done: make(chan struct{}), stop: make(chan struct{})}
	x.cmd = exec.Command(rg.bin, "--no-audio")
	x.cmd.Env = s.env
	x.cmd.Stdout, x.cmd.Stderr = x.out, x.out
	x.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := x.cmd.Start(); err != nil {
		s.harness("start the app: %v", err)
		return nil
	}
	s.procs = append(s.procs, x)
	go func() {
		x.cmd.Wait()
		x.exitAt = time.Now()
		close(x.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		items := rg.watcher.Items()
		if len(items) > before {
			it := items[len(items)-1]
			if !it.Gone {
				x.tray = desktoptest.Tray{Conn: rg.tr.Conn, BusName: it.BusName, Path: it.Path}
				break
			}
		}
		select {
		case <-x.done:
			s.harness("the app exited before showing its tray item (%s)", exitOf(x).describe())
			return nil
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.harness("no tray item within 30 s of the app's start")
			return nil
		}
	}
	x.polled.Add(1)
	go s.poll(x)
	return x
}

// poll reads the tooltip every 100 ms and records each "Idle".
func (s *seedRun) poll(x *proc) {
	defer x.polled.Done()
	tk := time.NewTicker(100 * time.Millisecond)
	defer tk.Stop()
	for {
		from := time.Now()
		title, _, err := x.tray.Tooltip()
		if err == nil && strings.HasPrefix(title, "Idle") {
			s.mu.Lock()
			s.Idle = append(s.Idle, Observation{From: from, To: time.Now()})
			s.mu.Unlock()
		}
		select {
		case <-x.stop:
			return
		case <-x.done:
			return
		case <-tk.C:
		}
	}
}

func (s *seedRun) waitTooltip(x *proc, prefix string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	var title string
	var err error
	for time.Now().Before(deadline) {
		title, _, err = x.tray.Tooltip()
		if err == nil && strings.HasPrefix(title, prefix) {
			return true
		}
		select {
		case <-x.done:
			s.harness("the app exited (%s) while the test waited for %q", exitOf(x).describe(), prefix)
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.harness("the tray did not say %q within %v (tooltip %q, %v)", prefix, timeout, title, err)
	return false
}

func (s *seedRun) setFaultUntil(d time.Duration) {
	s.mu.Lock()
	s.faultUntil = time.Now().Add(d)
	s.mu.Unlock()
}

// faultOver is when the fault was last seen: the simulator's last answer
// that carried it (a burst is used up by the requests that meet it, and
// may outlive a restart of the app), or the end of a fault that lasts a
// time.
func (s *seedRun) faultOver() time.Time {
	s.mu.Lock()
	last := s.faultUntil
	s.mu.Unlock()
	for _, r := range s.sim.Requests() {
		if r.Fault != "" {
			last = later(last, later(r.Time, r.Answered))
		}
	}
	return last
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// idleAgainWithin is how soon after the stop and the fault's end the tray
// must say Idle: the app retries a failed check after at most its idle
// poll interval (calls.DefaultPollIdle, Retry-After aside: the simulator
// asks for 1 s), plus time for one check and the tray to show it.
const idleAgainWithin = calls.DefaultPollIdle + 5*time.Second

// waitIdleAgain waits for the tray to say Idle after the stop: within
// idleAgainWithin of the later of the stop and the fault's end.
func (s *seedRun) waitIdleAgain(x *proc) {
	stop := time.Now()
	deadline := func() time.Time { return later(stop, s.faultOver()).Add(idleAgainWithin) }
	var title string
	var err error
	for time.Now().Before(deadline()) {
		if title, _, err = x.tray.Tooltip(); err == nil && strings.HasPrefix(title, "Idle") {
			return
		}
		select {
		case <-x.done:
			s.NotIdle = fmt.Sprintf("the app exited (%s) instead of returning to Idle", exitOf(x).describe())
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.NotIdle = fmt.Sprintf("the tray still said %q (%v) %v after the stop and the fault's end (%s, %s)",
		title, err, idleAgainWithin, clock(stop), clock(s.faultOver()))
}

func (s *seedRun) click(x *proc, prefix string, timeout time.Duration) bool {
	if err := s.clickErr(x, prefix, timeout); err != nil {
		s.harness("%v", err)
		return false
	}
	return true
}

// tryClick clicks when the item is there and enabled in time (an End call
// the app already acted on may be gone: that is no harness failure).
func (s *seedRun) tryClick(x *proc, prefix string, timeout time.Duration) {
	s.clickErr(x, prefix, timeout)
}

func (s *seedRun) clickErr(x *proc, prefix string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		var it desktoptest.MenuItem
		if it, err = x.tray.FindLabelPrefix(prefix); err == nil && it.Enabled {
			if err = x.tray.Click(prefix); err == nil {
				return nil
			}
		} else if err == nil {
			err = fmt.Errorf("%q is disabled", it.Label)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("click %q: %v", prefix, err)
}

func (s *seedRun) waitJoined(timeout time.Duration) (simulator.Call, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, c := range s.sim.Calls() {
			if c.Joined != nil && c.Ended == nil {
				return c, true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.harness("no call joined within %v of Start call", timeout)
	return simulator.Call{}, false
}

// stopApp stops the app the plan's way and waits for it to exit.
func (s *seedRun) stopApp(x *proc, how Stop) {
	clean := true
	switch how {
	case StopQuit:
		if err := s.clickErr(x, "Quit", 3*time.Second); err != nil {
			s.harness("%v", err)
			syscall.Kill(x.cmd.Process.Pid, syscall.SIGTERM)
		}
	case StopTERM:
		syscall.Kill(x.cmd.Process.Pid, syscall.SIGTERM)
	case StopHUP:
		syscall.Kill(x.cmd.Process.Pid, syscall.SIGHUP)
	case StopKILL:
		clean = false
		syscall.Kill(x.cmd.Process.Pid, syscall.SIGKILL)
	}
	e := s.waitExit(x, 20*time.Second, clean)
	if how != StopKILL {
		s.StopExit = &e
	}
}

// quit ends the last app process with SIGTERM, as a session logout does.
func (s *seedRun) quit(x *proc) {
	syscall.Kill(x.cmd.Process.Pid, syscall.SIGTERM)
	s.waitExit(x, 20*time.Second, true)
}

// endProc makes sure a process the play left running is gone.
func (s *seedRun) endProc(x *proc) {
	select {
	case <-x.done:
		return
	default:
	}
	s.harness("the app (pid %d) was still running at the end of the play; stopping it with SIGTERM", x.cmd.Process.Pid)
	syscall.Kill(x.cmd.Process.Pid, syscall.SIGTERM)
	s.waitExit(x, 20*time.Second, false)
}

// waitExit waits for x to exit (killing it, and its process group, after
// timeout), records the exit, the history it left and what outlived it.
func (s *seedRun) waitExit(x *proc, timeout time.Duration, clean bool) Exit {
	hung := false
	select {
	case <-x.done:
	case <-time.After(timeout):
		hung = true
		syscall.Kill(-x.cmd.Process.Pid, syscall.SIGKILL)
		<-x.done
	}
	close(x.stop)
	x.polled.Wait()
	e := exitOf(x)
	e.Clean = clean
	if hung {
		e.Hung = timeout
		if !clean {
			s.harness("the app (pid %d) did not exit within %v; killed", x.cmd.Process.Pid, timeout)
		}
	}
	s.Exits = append(s.Exits, e)
	s.Strays = append(s.Strays, strays(x.cmd.Process.Pid, s.mark)...)
	if ids, err := historyIDs(filepath.Join(s.home, "state", "ultravox-tray")); err == nil {
		for id := range ids {
			s.HistorySeen[id] = true
		}
	}
	return e
}

func exitOf(x *proc) Exit {
	out := x.out.String()
	e := Exit{At: x.exitAt, Code: -1, Stopped: strings.Contains(out, "ultravox-tray stopped")}
	if i := strings.Index(out, "\npanic: "); i >= 0 {
		e.Panic, _, _ = strings.Cut(out[i+1:], "\n")
	}
	if st := x.cmd.ProcessState; st != nil {
		e.Code = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Signal = ws.Signal().String()
		}
	}
	return e
}

// strays lists the processes that outlived the app: its process group, and
// anything carrying the seed's mark in its environment. It waits up to 2 s
// for them to go.
func strays(pgid int, mark string) []string {
	var found []string
	for deadline := time.Now().Add(2 * time.Second); ; {
		found = found[:0]
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			pid, _ := strconv.Atoi(filepath.Base(d))
			stat, err := os.ReadFile(d + "/stat")
			if err != nil {
				continue
			}
			f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(f) < 3 || f[0] == "Z" {
				continue
			}
			env, _ := os.ReadFile(d + "/environ")
			if f[2] == strconv.Itoa(pgid) || bytes.Contains(env, []byte(mark+"\x00")) {
				cmdline, _ := os.ReadFile(d + "/cmdline")
				found = append(found, fmt.Sprintf("pid %d (%s) outlived the app", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
			}
		}
		if len(found) == 0 || time.Now().After(deadline) {
			return found
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForEnds gives calls the rest of their 6 s (from the intent to stop)
// to end before the record is read.
func (s *seedRun) waitForEnds() {
	intent := s.Intent
	if !s.SocketClosed.IsZero() && (intent.IsZero() || s.SocketClosed.Before(intent)) {
		intent = s.SocketClosed
	}
	if intent.IsZero() {
		return
	}
	for time.Now().Before(intent.Add(EndBound + 100*time.Millisecond)) {
		live := false
		for _, c := range s.sim.Calls() {
			live = live || (c.Joined != nil && c.Ended == nil)
		}
		if !live {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *seedRun) readFiles(cfg string) {
	b, err := os.ReadFile(filepath.Join(cfg, "ultravox-tray", "settings.json"))
	if err == nil {
		err = json.Unmarshal(b, &s.SettingsGot)
	}
	if err != nil {
		s.SettingsErr = fmt.Errorf("settings.json: %v", err)
	}
	s.HistoryFinal, s.HistoryErr = historyIDs(filepath.Join(s.home, "state", "ultravox-tray"))
}

// historyIDs reads the call ids of history.json in dir (none when there is
// no file yet; an error when it is not the app's format).
func historyIDs(dir string) (map[string]bool, error) {
	ids := map[string]bool{}
	b, err := os.ReadFile(filepath.Join(dir, "history.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return ids, nil
	}
	if err != nil {
		return ids, err
	}
	var doc struct {
		Version int `json:"version"`
		Calls   []struct {
			CallID string `json:"callId"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Version != 1 {
		return ids, fmt.Errorf("history.json is not a version 1 history (%v): %.200q", err, b)
	}
	for _, c := range doc.Calls {
		ids[c.CallID] = true
	}
	return ids, nil
}
