package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/power/powertest"
	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
)

// BenchmarkEndToEnd takes the end figures from the real binary in the rig
// the end-to-end tests use (Xvfb, private buses, a logind-shaped service,
// the tray driven over dbusmenu), with the simulator's round trip at 0, 50
// and 100 ms: "End call" click to the server's ended and to the idle icon,
// the sleep signal to the inhibitor released, Quit with a live call to
// process exit. Each is the median of a few tries, after the call has
// billed a few seconds (so the app has polled while live, as it would
// have). The baseline, from the same run: one raw HTTP GET on a kept
// connection at the same round trip. Figures, never assertions; the table
// at the end of `make bench` compares them with their targets.
func BenchmarkEndToEnd(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the binary and runs it for minutes")
	}
	bin := buildBinary(b)
	refs := iconRefs(b)
	for _, rtt := range []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%dms", rtt.Milliseconds()), func(b *testing.B) {
			var ended, idle, sleep, quit, base []time.Duration
			for i := 0; i < b.N; i++ {
				r := endRound(b, bin, refs, rtt)
				ended, idle = append(ended, r.ended...), append(idle, r.idle...)
				sleep, quit, base = append(sleep, r.sleep...), append(quit, r.quit...), append(base, r.base...)
			}
			b.ReportMetric(ms(median(base)), "rtt-ms")
			b.ReportMetric(ms(median(ended)), "end-ended-ms")
			b.ReportMetric(ms(median(idle)), "end-idle-ms")
			b.ReportMetric(ms(median(sleep)), "sleep-release-ms")
			b.ReportMetric(ms(median(quit)), "quit-exit-ms")
		})
	}
}

type endFigures struct{ ended, idle, sleep, quit, base []time.Duration }

var debugEnd = os.Getenv("UVT_DEBUG_END") != ""

const (
	endTries    = 3
	billingLead = 3500 * time.Millisecond // one live poll (3 s) and a bit
)

func endRound(b *testing.B, bin string, refs map[assets.State]image.Image, rtt time.Duration) endFigures {
	var f endFigures
	d := newDesk(b, `{"maxDurationSeconds": 120, "joinTimeoutSeconds": 15}`, true)
	logind := powertest.StartLogind(b, d.sys, powertest.LogindOptions{InhibitDelayMax: 5 * time.Second})
	d.sim.SetRoundTrip(rtt)
	f.base = rawRTT(b, d.sim.URL(), d.sim.APIKey(), 5)
	a := d.start(b, bin)
	waitIcon(b, d.tr, refs, assets.Idle, 60*time.Second)
	seen := map[string]bool{}
	bill := func() string {
		click(b, d.tr, "Start call")
		c := liveCall(b, d.sim, seen)
		seen[c.CallID] = true
		waitIcon(b, d.tr, refs, assets.Billing, 30*time.Second)
		time.Sleep(billingLead)
		return c.CallID
	}

	for i := 0; i < endTries; i++ {
		id := bill()
		t0 := clickNow(b, d.tr, "End call")
		at, ok := waitIconFor(d.tr, refs, assets.Idle, 3*time.Second)
		if !ok {
			// The menu was rebuilt under the click (its item id was gone):
			// the click never reached the app. Click again.
			b.Logf("End call click lost (menu rebuilt under it); clicking again")
			t0 = clickNow(b, d.tr, "End call")
			at = waitIcon(b, d.tr, refs, assets.Idle, 30*time.Second)
		}
		c := waitEnded(b, d.sim, id, 10*time.Second)
		f.ended = append(f.ended, c.Ended.Sub(t0))
		if debugEnd {
			for _, r := range d.sim.Requests() {
				if r.Time.After(t0.Add(-time.Second)) {
					b.Logf("DEBUG %8.2f ms %s %s %d", ms(r.Time.Sub(t0)), r.Method, r.Path, r.Status)
				}
			}
			b.Logf("DEBUG ended %8.2f ms (%s) idle %8.2f ms", ms(c.Ended.Sub(t0)), deref(c.EndReason), ms(at.Sub(t0)))
		}
		f.idle = append(f.idle, at.Sub(t0))
	}
	for i := 0; i < endTries; i++ {
		bill()
		for deadline := time.Now().Add(10 * time.Second); logind.Held() != 1 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		sent := logind.PrepareForSleep(true)
		released := logind.WaitReleased(10 * time.Second)
		f.sleep = append(f.sleep, released.Sub(sent))
		logind.PrepareForSleep(false)
		waitIcon(b, d.tr, refs, assets.Idle, 30*time.Second)
	}
	for i := 0; i < endTries; i++ {
		bill()
		t0 := clickNow(b, d.tr, "Quit")
		select {
		case <-a.done:
		case <-time.After(3 * time.Second):
			b.Logf("Quit click lost (menu rebuilt under it); clicking again")
			t0 = clickNow(b, d.tr, "Quit")
		}
		a.waitExit(b, 15*time.Second)
		f.quit = append(f.quit, a.exitAt.Sub(t0))
		if debugEnd {
			for _, r := range d.sim.Requests() {
				if r.Time.After(t0.Add(-time.Second)) {
					b.Logf("DEBUG quit %8.2f ms %s %s %d", ms(r.Time.Sub(t0)), r.Method, r.Path, r.Status)
				}
			}
			b.Logf("DEBUG quit click %s exit %8.2f ms\n%s", t0.UTC().Format("15:04:05.000"), ms(a.exitAt.Sub(t0)), a.out.String())
		}
		if i < endTries-1 {
			a = d.start(b, bin)
			waitIcon(b, d.tr, refs, assets.Idle, 60*time.Second)
		}
	}
	return f
}

// clickNow clicks the item once it is enabled and returns when the click
// was sent.
func clickNow(b *testing.B, tr *desktoptest.Tray, prefix string) time.Time {
	tr.WaitFor(b, func(tr *desktoptest.Tray) (bool, error) {
		it, err := tr.FindLabelPrefix(prefix)
		return err == nil && it.Enabled, err
	}, 30*time.Second)
	t0 := time.Now()
	if err := tr.Click(prefix); err != nil {
		b.Fatal(err)
	}
	return t0
}

// iconRefs decodes our tray icons once, so that waitIcon can poll fast.
func iconRefs(b *testing.B) map[assets.State]image.Image {
	out := map[assets.State]image.Image{}
	for _, s := range []assets.State{assets.Idle, assets.Connecting, assets.Billing, assets.Ending, assets.Unknown} {
		img, err := png.Decode(bytes.NewReader(assets.MustIcon(s, assets.TraySize, false)))
		if err != nil {
			b.Fatal(err)
		}
		out[s] = img
	}
	return out
}

// waitIcon polls the tray icon every 2 ms until it is want, and returns
// when it first was.
func waitIcon(b *testing.B, tr *desktoptest.Tray, refs map[assets.State]image.Image, want assets.State, timeout time.Duration) time.Time {
	at, ok := waitIconFor(tr, refs, want, timeout)
	if !ok {
		b.Fatalf("tray icon not %s after %s", want, timeout)
	}
	return at
}

// waitIconFor is waitIcon without failing: ok false after timeout.
func waitIconFor(tr *desktoptest.Tray, refs map[assets.State]image.Image, want assets.State, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if img, err := tr.Icon(); err == nil {
			best, bestD := assets.State(""), int64(-1)
			for s, ref := range refs {
				if d := imgDiff(img, ref); bestD < 0 || d < bestD {
					best, bestD = s, d
				}
			}
			if best == want {
				return time.Now(), true
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Time{}, false
}

// rawRTT times n GET /api/accounts/me on one kept connection.
func rawRTT(b testing.TB, base, key string, n int) []time.Duration {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var out []time.Duration
	for i := 0; i <= n; i++ {
		req, _ := http.NewRequest("GET", base+"/api/accounts/me", nil)
		req.Header.Set("X-API-Key", key)
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if i > 0 { // the first one pays for the connection
			out = append(out, time.Since(start))
		}
	}
	return out
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkIdleCost runs ultravox-tray (idle, key set, simulator on
// loopback) and a minimal Fyne tray app (testdata/mintray) side by side in
// the same rig, and takes each one's CPU time over 30 s of idling (which
// includes one account check) and its resident memory at the end. The
// minimal app is the baseline: what Fyne and a tray icon cost by
// themselves.
func BenchmarkIdleCost(b *testing.B) {
	if testing.Short() {
		b.Skip("runs two tray apps for 35 s")
	}
	bin := buildBinary(b)
	minBin := filepath.Join(b.TempDir(), "mintray")
	if out, err := exec.Command(goTool(b), "build", "-o", minBin, "./testdata/mintray").CombinedOutput(); err != nil {
		b.Fatalf("go build mintray: %v\n%s", err, out)
	}
	const window = 30 * time.Second
	var cpu, baseCPU, rss, baseRSS float64
	for i := 0; i < b.N; i++ {
		d := newDesk(b, "", true)
		base := exec.Command(minBin)
		base.Env = d.env
		if err := base.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { base.Process.Kill(); base.Wait() })
		d.start(b, bin)
		deadline := time.Now().Add(60 * time.Second)
		for {
			n := 0
			for _, it := range d.watcher.Items() {
				if !it.Gone {
					n++
				}
			}
			if n >= 2 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d tray items registered, want 2", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		app := findChild(b, bin)
		time.Sleep(5 * time.Second) // past start-up
		c0, b0 := cpuTime(b, app.Pid), cpuTime(b, base.Process.Pid)
		time.Sleep(window)
		cpu += float64((cpuTime(b, app.Pid) - c0).Milliseconds()) * time.Minute.Seconds() / window.Seconds()
		baseCPU += float64((cpuTime(b, base.Process.Pid) - b0).Milliseconds()) * time.Minute.Seconds() / window.Seconds()
		rss += rssMiB(b, app.Pid)
		baseRSS += rssMiB(b, base.Process.Pid)
	}
	n := float64(b.N)
	b.ReportMetric(cpu/n, "cpu-ms-per-min")
	b.ReportMetric(baseCPU/n, "base-cpu-ms-per-min")
	b.ReportMetric(rss/n, "rss-MiB")
	b.ReportMetric(baseRSS/n, "base-rss-MiB")
}

// findChild finds the running process of executable bin started by this
// test process.
func findChild(b *testing.B, bin string) *os.Process {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		exe, err := os.Readlink(filepath.Join(d, "exe"))
		if err != nil || exe != bin {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			p, _ := os.FindProcess(pid)
			return p
		}
	}
	b.Fatalf("no running %s started by this test", bin)
	return nil
}

// cpuTime is the CPU time of every thread of pid (schedstat: nanoseconds).
func cpuTime(b *testing.B, pid int) time.Duration {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total time.Duration
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		if ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64); err == nil {
			total += time.Duration(ns)
		}
	}
	if len(files) == 0 {
		b.Fatalf("process %d is gone", pid)
	}
	return total
}

// rssMiB is the resident memory of pid.
func rssMiB(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	b.Fatalf("no VmRSS for %d", pid)
	return 0
}
