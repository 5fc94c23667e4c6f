package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
	"github.com/ultravox-tray/ultravox-tray/assets"
	"github.com/ultravox-tray/ultravox-tray/internal/desktoptest"
	"github.com/ultravox-tray/ultravox-tray/ui"
	"github.com/ultravox-tray/ultravox-tray/ui/model"
)

// traced is one line of the app's window trace (ui.EnvTrace).
type traced struct {
	Window  string          `json:"window"`
	Title   string          `json:"title"`
	View    json.RawMessage `json:"view"`
	Buttons []struct {
		Label   string `json:"label"`
		Enabled bool   `json:"enabled"`
		X, Y    int
	} `json:"buttons"`
}

// waitTrace waits for the newest traced window of kind that ok accepts,
// decoding its view into view.
func waitTrace(t *testing.T, path, kind string, view any, ok func(traced) bool, timeout time.Duration) traced {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last traced
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(path)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var found *traced
		for sc.Scan() {
			var tr traced
			if json.Unmarshal(sc.Bytes(), &tr) == nil && tr.Window == kind {
				last = tr
				if err := json.Unmarshal(tr.View, view); err == nil && ok(tr) {
					found = &tr
				}
			}
		}
		if found != nil {
			json.Unmarshal(found.View, view)
			return *found
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s window as expected within %s; last traced: %s %s", kind, timeout, last.Title, last.View)
	return traced{}
}

// pointer builds a tiny XTest client (as scripts/screenshots.sh does) to
// click inside the app's windows like a user.
func pointer(t *testing.T, env []string) func(x, y int) {
	t.Helper()
	desktoptest.Need(t, "gcc", "xwininfo")
	dir := t.TempDir()
	src := filepath.Join(dir, "xclick.c")
	os.WriteFile(src, []byte(`#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  Display *d = XOpenDisplay(NULL);
  if (!d || argc < 3) return 2;
  XTestFakeMotionEvent(d, -1, atoi(argv[1]), atoi(argv[2]), 0); XFlush(d); usleep(150000);
  XTestFakeButtonEvent(d, 1, True, 0); XFlush(d); usleep(80000);
  XTestFakeButtonEvent(d, 1, False, 0); XFlush(d);
  XCloseDisplay(d); return 0;
}
`), 0o600)
	bin := filepath.Join(dir, "xclick")
	if out, err := exec.Command("gcc", "-O1", "-o", bin, src, "-lX11", "-lXtst").CombinedOutput(); err != nil {
		t.Fatalf("building the XTest helper (needs xorg-dev): %v\n%s", err, out)
	}
	return func(x, y int) {
		cmd := exec.Command(bin, strconv.Itoa(x), strconv.Itoa(y))
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("click %d,%d: %v\n%s", x, y, err, out)
		}
	}
}

// windowOrigin is the top left of the window titled title, on the screen.
func windowOrigin(t *testing.T, env []string, title string) (int, int) {
	t.Helper()
	cmd := exec.Command("xwininfo", "-name", title)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xwininfo -name %q: %v\n%s", title, err, out)
	}
	num := func(label string) int {
		m := regexp.MustCompile(label + `:\s+(-?\d+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("xwininfo: no %s in\n%s", label, out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return num("Absolute upper-left X"), num("Absolute upper-left Y")
}

// say sends the agent a typed line over REST, as any client of the call
// could.
func say(t *testing.T, sim *simulator.Server, callID, text string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"type": "user_text_message", "text": text})
	req, _ := http.NewRequest("POST", sim.URL()+"/api/calls/"+callID+"/send_data_message", bytes.NewReader(body))
	req.Header.Set("X-API-Key", sim.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("user_text_message: %s", resp.Status)
	}
}

// clickIn clicks the item starting with child in the submenu starting with
// parent (the same agent is listed under "Start call with" too).
func clickIn(t *testing.T, tr *desktoptest.Tray, parent, child string) {
	t.Helper()
	var id int32
	tr.WaitFor(t, func(tr *desktoptest.Tray) (bool, error) {
		p, err := tr.FindLabelPrefix(parent)
		if err != nil {
			return false, err
		}
		c, ok := p.Find(child)
		if !ok || !c.Enabled {
			return false, fmt.Errorf("no enabled %q under %q: %q", child, parent, p.Labels())
		}
		id = c.ID
		return true, nil
	}, 30*time.Second)
	path, err := tr.MenuPath()
	if err != nil {
		t.Fatal(err)
	}
	call := tr.Conn.Object(tr.BusName, path).Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix()))
	if call.Err != nil {
		t.Fatalf("click %q > %q: %v", parent, child, call.Err)
	}
}

func waitBilled(t *testing.T, sim *simulator.Server, id string) simulator.Call {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, _ := sim.Call(id); c.BillingStatus == simulator.BillingBilled {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, _ := sim.Call(id)
	t.Fatalf("call %s not billed: %+v", id, c)
	return c
}

// After a call: the review window shows the simulator's transcript;
// "Continue this call" starts a new call with priorCallId that bills and
// ends like any other; the usage window's bars are the simulator's per-day
// records.
func TestE2EReviewContinueUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := buildBinary(t)
	d := newDesk(t, `{"maxDurationSeconds": 60, "joinTimeoutSeconds": 15, "pricePerMinute": 0.05, "dailyBudget": 1}`, true)
	// An account without free minutes, so that the calls are BILLED and
	// show in the usage.
	d.sim = simtest.New(t, func(o *simulator.Options) { o.FreeTime = -1 })
	d.env = append(withoutEnv(withoutEnv(d.env, "ULTRAVOX_API_URL"), "ULTRAVOX_API_KEY"),
		"ULTRAVOX_API_URL="+d.sim.URL(), "ULTRAVOX_API_KEY="+d.sim.APIKey())
	tracePath := filepath.Join(d.home, "ui-trace.jsonl")
	d.env = append(d.env, ui.EnvTrace+"="+tracePath, "FYNE_SCALE=1")
	click1 := pointer(t, d.env)
	a := d.start(t, bin)
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")

	click(t, d.tr, "Start call")
	first := liveCall(t, d.sim, nil)
	waitTray(t, d.tr, assets.Billing, "Billing: ")
	say(t, d.sim, first.CallID, "What are your opening hours?")
	say(t, d.sim, first.CallID, "Thank you")
	deadline := time.Now().Add(15 * time.Second)
	for len(d.sim.Messages(first.CallID)) < 4 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	click(t, d.tr, "End call")
	waitEnded(t, d.sim, first.CallID, 15*time.Second)
	waitBilled(t, d.sim, first.CallID)
	want := d.sim.Messages(first.CallID)
	if len(want) < 3 {
		t.Fatalf("the simulator has only %d messages", len(want))
	}

	// Recent calls -> the review window with the service's transcript.
	agent := first.Agent.Name
	click(t, d.tr, agent+" · ")
	var rv model.ReviewView
	rt := waitTrace(t, tracePath, "review", &rv, func(traced) bool { return rv.Status == "" && rv.CallID == first.CallID }, 30*time.Second)
	if len(rv.Lines) != len(want) {
		t.Fatalf("review shows %d lines, the simulator has %d messages: %+v", len(rv.Lines), len(want), rv.Lines)
	}
	for i, m := range want {
		who := "You"
		if m.Role == "MESSAGE_ROLE_AGENT" {
			who = agent
		}
		if rv.Lines[i].Text != m.Text || rv.Lines[i].Who != who {
			t.Errorf("line %d: %s %q, simulator %s %q", i, rv.Lines[i].Who, rv.Lines[i].Text, m.Role, m.Text)
		}
	}
	for _, r := range rv.Rows {
		if strings.Contains(r.Value, "BILLING_STATUS") {
			t.Errorf("review row %s shows a wire name %q", r.Label, r.Value)
		}
	}
	if rv.ShortSummary == "" || !rv.ContinueEnabled {
		t.Errorf("review: summary %q, continue %v (%s)", rv.ShortSummary, rv.ContinueEnabled, rv.ContinueNote)
	}

	// "Continue this call", clicked like a user.
	wx, wy := windowOrigin(t, d.env, rt.Title)
	var bx, by int
	for _, b := range rt.Buttons {
		if b.Label == model.LabelContinue && b.Enabled {
			bx, by = b.X, b.Y
		}
	}
	if bx == 0 {
		t.Fatalf("no enabled %q button: %+v", model.LabelContinue, rt.Buttons)
	}
	click1(wx+bx, wy+by)
	second := liveCall(t, d.sim, map[string]bool{first.CallID: true})
	if p := d.sim.PriorCallID(second.CallID); p != first.CallID {
		t.Fatalf("the new call continues %q, want %s", p, first.CallID)
	}
	var post simulator.Request
	for _, r := range d.sim.RequestsTo("POST", "/api/calls") {
		if r.Query.Get("priorCallId") == first.CallID {
			post = r
		}
	}
	for _, want := range []string{`"maxDuration":"60s"`, `"joinTimeout":"15s"`, `"serverWebSocket"`, `"ultravoxTray.requestId"`} {
		if !strings.Contains(string(post.Body), want) {
			t.Errorf("continue request lacks %s: %s", want, post.Body)
		}
	}
	waitTray(t, d.tr, assets.Billing, "Billing: ")
	click(t, d.tr, "End call")
	ended := waitEnded(t, d.sim, second.CallID, 15*time.Second)
	if !confirmedByApp(d.sim, ended, time.Now()) {
		t.Errorf("the app never confirmed the end of the continued call")
	}
	waitBilled(t, d.sim, second.CallID)
	waitTray(t, d.tr, assets.Idle, "Idle: no calls billing")

	// Usage…: the bars are the simulator's per-day usage.
	click(t, d.tr, model.LabelUsage)
	var uv model.UsageView
	waitTrace(t, tracePath, "usage", &uv, func(traced) bool {
		return len(uv.Bars) == 30 && uv.Bars[29].Minutes > 0 && uv.Status != "" && !strings.HasPrefix(uv.Status, "Loading")
	}, 30*time.Second)
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/accounts/me/billing/usage?fromDate=%s&toDate=%s", d.sim.URL(), uv.Bars[0].Date,
		time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)), nil)
	req.Header.Set("X-API-Key", d.sim.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var usage simulator.UsageResponse
	json.NewDecoder(resp.Body).Decode(&usage)
	resp.Body.Close()
	if len(usage.DailyUsage) != 30 {
		t.Fatalf("simulator usage has %d days", len(usage.DailyUsage))
	}
	for i, day := range usage.DailyUsage {
		b := uv.Bars[i]
		if b.Date != day.Date || b.Minutes < day.Minutes-1e-9 || b.Minutes > day.Minutes+1e-9 {
			t.Errorf("bar %d: %s %.3f min, simulator %s %.3f", i, b.Date, b.Minutes, day.Date, day.Minutes)
		}
	}
	if uv.BudgetLabel != "Daily budget $1.00" {
		t.Errorf("budget line %q", uv.BudgetLabel)
	}

	// Start text call with…: created with text output, joined without audio.
	clickIn(t, d.tr, model.LabelStartText, agent)
	text := liveCall(t, d.sim, map[string]bool{first.CallID: true, second.CallID: true})
	if text.InitialOutputMedium != "MESSAGE_MEDIUM_TEXT" {
		t.Errorf("text call created with initialOutputMedium %q", text.InitialOutputMedium)
	}
	waitTray(t, d.tr, assets.Billing, "Billing: ")
	click(t, d.tr, "End call")
	waitEnded(t, d.sim, text.CallID, 15*time.Second)

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t, 15*time.Second)
}
