package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// Tests of issue 12's defects that need the real binary in a hostile
// environment: no display, a hang-up of its terminal, no session bus.

// leftoverCall makes a joined, billing call on sim and writes it into the
// journal under stateHome, as a crashed earlier run would have left it.
func leftoverCall(t *testing.T, sim *simulator.Server, stateHome string) string {
	t.Helper()
	id, err := sim.StartCallElsewhere("", true, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(stateHome, "ultravox-tray")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	j := fmt.Sprintf(`{"version":1,"entries":[{"requestId":"leftover-1","callId":%q,"started":%q,"state":"live","joined":%q,"maxDurationSeconds":300}]}`,
		id, now.Add(-time.Minute).Format(time.RFC3339Nano), now.Add(-50*time.Second).Format(time.RFC3339Nano))
	if err := os.WriteFile(filepath.Join(dir, "journal.json"), []byte(j), 0o600); err != nil {
		t.Fatal(err)
	}
	return id
}

// simControl posts one of the simulator's test controls, as a user of the
// standalone simulator would with curl.
func simControl(t *testing.T, sim *simulator.Server, op string) {
	t.Helper()
	req, _ := http.NewRequest("POST", sim.URL()+"/sim/control/"+op, nil)
	req.Header.Set("X-API-Key", sim.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("control %s: %s", op, resp.Status)
	}
}

// Defect 1: with no display the app must still end the journal's leftover
// call (bounded), then exit with its own code and a clear message, not a
// Fyne panic.
func TestE2ENoDisplayEndsLeftoverCalls(t *testing.T) {
	bin := buildBinary(t)
	sim := simtest.New(t, func(o *simulator.Options) { o.ControlAPI = true })
	simControl(t, sim, "latency?d=300ms")
	home := t.TempDir()
	state := filepath.Join(home, ".local", "state")
	id := leftoverCall(t, sim, state)
	run := t.TempDir()
	cmd := exec.Command(bin, "--no-audio")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_STATE_HOME=" + state,
		"XDG_RUNTIME_DIR=" + run,
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(run, "no-bus"),
		"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + filepath.Join(run, "no-system-bus"),
		"ULTRAVOX_API_URL=" + sim.URL(), "ULTRAVOX_API_KEY=" + sim.APIKey(),
	}
	start := time.Now()
	out, err := runBounded(t, cmd, 60*time.Second)
	exitAt := time.Now()
	code := cmd.ProcessState.ExitCode()
	if code != exitNoDisplay {
		t.Errorf("exit code %d (%v), want %d (no display)", code, err, exitNoDisplay)
	}
	if strings.Contains(out, "panic:") || !strings.Contains(out, "no display") {
		t.Errorf("no clear message about the display:\n%s", out)
	}
	c, _ := sim.Call(id)
	if c.Ended == nil || !confirmedByApp(sim, c, exitAt) {
		t.Fatalf("the leftover call was not ended and confirmed before exit (%v after start): %+v\n%s", exitAt.Sub(start), c, out)
	}
}

func runBounded(t *testing.T, cmd *exec.Cmd, timeout time.Duration) (string, error) {
	t.Helper()
	buf := &syncBuf{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return buf.String(), err
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the app did not exit within %s:\n%s", timeout, buf.String())
	}
	return "", nil
}
