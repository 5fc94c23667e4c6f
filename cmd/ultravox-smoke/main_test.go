package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
	"github.com/ultravox-tray/ultravox-tray/app/simulator/simtest"
)

// The smoke test runs against a loopback simulator exactly as against the
// real service: ULTRAVOX_API_URL and ULTRAVOX_API_KEY.
func useSim(t *testing.T, sim *simulator.Server) {
	t.Setenv("ULTRAVOX_API_URL", sim.URL())
	t.Setenv("ULTRAVOX_API_KEY", sim.APIKey())
	t.Setenv("ULTRAVOX_AGENT_ID", "")
}

// A whole run with --yes: every step, the end reason, billed duration and
// cost, a clean schema check, exit 0; the call ended on the server. The
// agent speaks a farewell after the hang_up, as a real one may.
func TestSmokeAgainstSimulator(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.FreeTime = -1; o.SettleDelay = 500_000_000 })
	sim.SetHangupFarewell("Goodbye!")
	useSim(t, sim)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--yes"}, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	o := out.String()
	for _, want := range []string{"at most one minute of call time, $0.05", "maxDuration 20s", "ok   GET /api/accounts/me", "ok   create call", "ok   join call socket",
		"ok   hang_up (socket)", "ok   billing settled", "end reason: agent_hangup", "billed duration: 6s", "billing status: BILLING_STATUS_BILLED",
		"cost: $0.0050", "every response matched the published schema", "SMOKE TEST PASSED"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o+errOut.String(), sim.APIKey()) {
		t.Error("the key was printed")
	}
	calls := sim.Calls()
	if len(calls) != 1 || calls[0].Ended == nil || calls[0].MaxDuration != "20s" {
		t.Fatalf("server calls %+v, want one ended call with maxDuration 20s", calls)
	}
}

// Without --yes it asks, and an answer other than yes does nothing.
func TestSmokeAsksFirst(t *testing.T) {
	sim := simtest.New(t)
	useSim(t, sim)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, strings.NewReader("n\n"), &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(out.String(), "Go on? [y/N]") || !strings.Contains(out.String(), "Nothing was done.") {
		t.Fatalf("output:\n%s", out.String())
	}
	if n := len(sim.Calls()); n != 0 || len(sim.Requests()) != 0 {
		t.Fatalf("%d calls, %d requests after a refusal", n, len(sim.Requests()))
	}
}

// Responses off the schema are reported (here: enum values the schema does
// not list) and fail the run.
func TestSmokeReportsSchemaMismatches(t *testing.T) {
	sim := simulator.New(simulator.Options{SpeakGreeting: true, SettleDelay: -1})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if err := sim.SetFormats(simulator.Formats{UnknownEnums: true}); err != nil {
		t.Fatal(err)
	}
	useSim(t, sim)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--yes"}, strings.NewReader(""), &out, &errOut)
	o := out.String()
	if code != 1 || !strings.Contains(o, "did not match the published schema") || !strings.Contains(o, "endReason") {
		t.Fatalf("exit %d, output:\n%s\n%s", code, o, errOut.String())
	}
	for _, c := range sim.Calls() {
		if c.Ended == nil {
			t.Fatalf("call %s left live", c.CallID)
		}
	}
}

// A failure after the create still ends the call.
func TestSmokeEndsTheCallAfterAFailure(t *testing.T) {
	sim := simtest.New(t, func(o *simulator.Options) { o.SpeakGreeting = false })
	useSim(t, sim)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--yes"}, strings.NewReader(""), &out, &out) }()
	// Cancel while it sends silence (after join).
	for len(sim.Calls()) == 0 || sim.Calls()[0].Joined == nil {
		select {
		case code := <-done:
			t.Fatalf("finished (%d) before the test could interrupt it:\n%s", code, out.String())
		default:
		}
	}
	cancel()
	if code := <-done; code != 1 {
		t.Fatalf("exit %d after Ctrl-C, want 1:\n%s", code, out.String())
	}
	if c := sim.Calls()[0]; c.Ended == nil {
		t.Fatalf("call %s left live after the interruption:\n%s", c.CallID, out.String())
	}
}
