// Command ultravox-smoke checks Ultravox Tray's client against the real
// Ultravox service with the user's own key (`make smoke-live`; never part of
// `make test` or CI). It says what it will do and what it can cost, asks
// for confirmation unless --yes, then:
//
//  1. reads the account and the agents (free),
//  2. creates one agent call with maxDuration 20 s and a short joinTimeout,
//  3. joins it over the call socket and sends silence for a few seconds
//     (answering any client tool the agent invokes),
//  4. ends it with hang_up on the socket, waits until the call has ended and
//     its billing has settled,
//
// and prints each step's round trip, the end reason, billed duration and
// cost, and every response that does not match the published schema
// (app/simulator/contract). A call it created is always ended, also after a
// failure or Ctrl-C; maxDuration bounds it in any case.
//
// The key comes from ULTRAVOX_API_KEY or the keychain, the service from
// ULTRAVOX_API_URL (default https://api.ultravox.ai); the agent from --agent,
// ULTRAVOX_AGENT_ID, or the account's first agent.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
	"github.com/ultravox-tray/ultravox-tray/secrets"
)

// The smoke call's limits: what it can cost at most.
const (
	maxDuration    = 20 * time.Second
	joinTimeout    = 10 * time.Second
	talkFor        = 3 * time.Second
	sampleRate     = 16000
	pricePerMinute = 0.05
	endWait        = 30 * time.Second
	settleWait     = 2 * time.Minute
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is what the flags and environment chose.
type config struct {
	yes     bool
	agentID string
	baseURL string
	version string
}

// run is the whole command; it returns the exit code: 0 when every step
// worked and every response matched the schema, 1 otherwise, 2 for bad
// usage or a refused confirmation.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ultravox-smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.yes, "yes", false, "do not ask for confirmation")
	fs.StringVar(&cfg.agentID, "agent", os.Getenv("ULTRAVOX_AGENT_ID"), "agent id to call (default $ULTRAVOX_AGENT_ID, else the account's first agent)")
	fs.StringVar(&cfg.version, "version", "smoke", "client version sent to Ultravox")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ultravox-smoke: unexpected arguments %q\n", fs.Args())
		return 2
	}
	cfg.baseURL = ultravox.BaseURLFromEnv()

	kctx, cancel := context.WithTimeout(ctx, 2*secrets.DefaultTimeout)
	key, src, err := secrets.New().Get(kctx)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "ultravox-smoke: no API key: %v\nSet one in Ultravox Tray's settings (keychain) or ULTRAVOX_API_KEY.\n", err)
		return 2
	}
	fmt.Fprint(stdout, plan(cfg, src))
	if !cfg.yes && !confirm(stdin, stdout) {
		fmt.Fprintln(stdout, "Nothing was done.")
		return 2
	}
	s, err := newSmoke(cfg, key, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "ultravox-smoke: %v\n", err)
		return 2
	}
	ok := s.run(ctx)
	return s.report(ok)
}

// plan says what the smoke test will do and what it can cost.
func plan(cfg config, src secrets.Source) string {
	agent := "the account's first agent"
	if cfg.agentID != "" {
		agent = "agent " + cfg.agentID
	}
	return fmt.Sprintf(`ultravox-smoke checks Ultravox Tray's client against %s
with your API key (from %s). It will:
  1. read your account and agents (free);
  2. create ONE call with %s: maxDuration %s, joinTimeout %s;
  3. join it over the call socket and send silence for about %s;
  4. end it with hang_up and wait until it has ended and its billing has settled.
It can cost at most one minute of call time, $%.2f (Ultravox bills $%.2f a
minute in 6-second units from the join; this call normally bills 6-12 s,
under $0.01). Every response is checked against the published schema.
`, cfg.baseURL, src, agent, maxDuration, joinTimeout, talkFor, pricePerMinute, pricePerMinute)
}

// confirm asks "Go on?" and reads y or yes.
func confirm(stdin io.Reader, stdout io.Writer) bool {
	fmt.Fprint(stdout, "Go on? [y/N] ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// errStep marks a step that failed (already printed).
var errStep = errors.New("step failed")

// sleepCtx waits d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func newRequestID() string { return "smoke-" + uuid.NewString() }
