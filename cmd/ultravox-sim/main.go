// Command ultravox-sim runs the Ultravox simulator alone, for curl, demos and
// manual testing of the tray app:
//
//	go run ./cmd/ultravox-sim -addr 127.0.0.1:8080
//	curl -H 'X-API-Key: sim-demo-key' http://127.0.0.1:8080/api/accounts/me
package main

import (
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

	"github.com/ultravox-tray/ultravox-tray/app/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "ultravox-sim:", err)
		os.Exit(2)
	}
}

// config is the parsed command line.
type config struct {
	addr         string
	opts         simulator.Options
	fails        []failSpec
	lat          time.Duration
	rtt          time.Duration
	pastCalls    int // ended calls to seed (a large account)
	agents       int // agents to seed instead of -seed-agents
	elsewhere    int
	unauthorized bool
	recRedirect  bool
}

type failSpec struct{ n, status int }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("ultravox-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := defineFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q (all settings are flags; see -h)", fs.Args())
	}
	if cfg.rtt < 0 {
		return cfg, fmt.Errorf("-round-trip %v: must not be negative", cfg.rtt)
	}
	if cfg.pastCalls < 0 || cfg.agents < 0 {
		return cfg, fmt.Errorf("-past-calls %d, -agents %d: must be 0 or more", cfg.pastCalls, cfg.agents)
	}
	if err := f.check(cfg.lat); err != nil {
		return cfg, err
	}
	o, err := f.options(stderr)
	if err != nil {
		return cfg, err
	}
	if cfg.fails, err = parseFailNext(*f.failNext); err != nil {
		return cfg, err
	}
	cfg.elsewhere = *f.elsewhere
	cfg.unauthorized = *f.unauthorized
	if cfg.agents > 0 {
		o.Agents = simulator.SeedAgentNames(cfg.agents)
	}
	cfg.opts = o
	return cfg, nil
}

// flags are the command line's values before they are checked.
type flags struct {
	key, seed, account, hangup, failNext, voice *string
	free, settle, join, maxDur                  *time.Duration
	maxConc, perMin, elsewhere                  *int
	greet, quiet, control, unauthorized         *bool
	clientTool                                  *string
}

func defineFlags(fs *flag.FlagSet, cfg *config) *flags {
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	fs.DurationVar(&cfg.lat, "latency", 0, "delay every answer by this much")
	fs.DurationVar(&cfg.rtt, "round-trip", 0, "network round-trip time to add to REST and call sockets alike, e.g. 100ms")
	fs.IntVar(&cfg.pastCalls, "past-calls", 0, "seed this many ended calls over the last 30 days (a large account, e.g. 10000)")
	fs.IntVar(&cfg.agents, "agents", 0, "seed this many agents named \"Agent 001\"... (instead of -seed-agents)")
	fs.BoolVar(&cfg.recRedirect, "recording-redirect", false, "answer GET /api/calls/{id}/recording with a 302 to a second loopback storage host that refuses X-API-Key")
	return &flags{
		key:          fs.String("key", simulator.DefaultAPIKey, "the API key the simulator accepts (a test key; must not look like a real Ultravox key)"),
		seed:         fs.String("seed-agents", "", "comma-separated agent names to create (default: \"Support agent,Sales agent\")"),
		account:      fs.String("account", "Demo account", "account name"),
		free:         fs.Duration("free-time", 30*time.Minute, "free call time of the account (0 for none)"),
		settle:       fs.Duration("settle", 5*time.Second, "how long billingStatus stays PENDING after a call ends (0: at once)"),
		maxConc:      fs.Int("max-concurrent", 5, "concurrent call cap (creates beyond it get 429; 0: no cap)"),
		perMin:       fs.Int("creates-per-minute", 0, "call creations allowed per sliding minute (429 beyond; 0: no limit; small plans allow 30)"),
		hangup:       fs.String("hangup-reason", simulator.EndAgentHangup, "endReason of a hang_up data message"),
		join:         fs.Duration("join-timeout", 30*time.Second, "default joinTimeout when a create request sets none"),
		maxDur:       fs.Duration("max-duration", 3600*time.Second, "default maxDuration when a create request sets none"),
		failNext:     fs.String("fail-next", "", "fail the first requests: N:STATUS, e.g. 2:503 (comma-separated for several)"),
		greet:        fs.Bool("greet", true, "the agent speaks a greeting when a client joins"),
		voice:        fs.String("voice", "auto", "the agent's voice: espeak (espeak-ng says the words), synth (speech-like tones), auto (espeak when installed)"),
		quiet:        fs.Bool("quiet", false, "do not log call events"),
		control:      fs.Bool("control", true, "serve the test controls under /sim/control/ (POST with the key; see the banner)"),
		elsewhere:    fs.Int("elsewhere", 0, "start this many joined calls \"from another device\" at startup"),
		unauthorized: fs.Bool("unauthorized", false, "answer 401 to every API request (a revoked key)"),
		clientTool:   fs.String("client-tool", "", "every agent invokes this client tool once a client joins (replies: POST /sim/control/tool-replies)"),
	}
}

// check refuses values out of range, naming the flag.
func (f *flags) check(lat time.Duration) error {
	if err := checkKey(*f.key); err != nil {
		return err
	}
	switch *f.hangup {
	case simulator.EndUnjoined, simulator.EndHangup, simulator.EndAgentHangup, simulator.EndTimeout, simulator.EndConnectionError, simulator.EndSystemError:
	default:
		return fmt.Errorf("-hangup-reason %q: want one of unjoined, hangup, agent_hangup, timeout, connection_error, system_error", *f.hangup)
	}
	if *f.perMin < 0 {
		return fmt.Errorf("-creates-per-minute %d: must be 0 (no limit) or more", *f.perMin)
	}
	if *f.maxConc < 0 {
		return fmt.Errorf("-max-concurrent %d: must be 0 (no cap) or more", *f.maxConc)
	}
	for name, d := range map[string]time.Duration{"-settle": *f.settle, "-free-time": *f.free, "-latency": lat} {
		if d < 0 {
			return fmt.Errorf("%s %v: must not be negative", name, d)
		}
	}
	for name, d := range map[string]time.Duration{"-join-timeout": *f.join, "-max-duration": *f.maxDur} {
		if d <= 0 {
			return fmt.Errorf("%s %v: must be positive", name, d)
		}
	}
	if *f.elsewhere < 0 {
		return fmt.Errorf("-elsewhere %d: must be 0 or more", *f.elsewhere)
	}
	return nil
}

// options turns checked flags into simulator options; a flag's 0 means
// "none", which the options spell -1.
func (f *flags) options(stderr io.Writer) (simulator.Options, error) {
	o := simulator.DefaultOptions()
	o.APIKey = *f.key
	o.AccountName = *f.account
	o.FreeTime = *f.free
	if *f.free == 0 {
		o.FreeTime = -1
	}
	o.SettleDelay = *f.settle
	if *f.settle == 0 {
		o.SettleDelay = -1
	}
	o.MaxConcurrent = *f.maxConc
	if *f.maxConc == 0 {
		o.MaxConcurrent = -1
	}
	o.HangupReason = *f.hangup
	o.CreatesPerMinute = *f.perMin
	o.DefaultJoinTimeout = *f.join
	o.DefaultMaxDuration = *f.maxDur
	o.SpeakGreeting = *f.greet
	o.ControlAPI = *f.control
	o.ClientTool = strings.TrimSpace(*f.clientTool)
	speech, err := speechFor(*f.voice)
	if err != nil {
		return o, err
	}
	if speech != nil {
		o.Speech = speech
	}
	if o.Agents, err = parseSeeds(*f.seed); err != nil {
		return o, err
	}
	if !*f.quiet {
		o.Logf = func(format string, args ...any) {
			fmt.Fprintf(stderr, time.Now().UTC().Format("15:04:05.000 ")+format+"\n", args...)
		}
	}
	return o, nil
}

// speechFor is the agent's voice for -voice; nil keeps the default.
func speechFor(voice string) (simulator.SpeechFunc, error) {
	switch voice {
	case "synth":
		return simulator.SynthSpeech, nil
	case "espeak":
		if simulator.EspeakPath() == "" {
			return nil, errors.New("-voice espeak: espeak-ng is not installed (apt-get install espeak-ng), or use -voice synth")
		}
		return simulator.EspeakSpeech, nil
	case "auto":
		if simulator.EspeakPath() != "" {
			return simulator.EspeakSpeech, nil
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("-voice %q: want espeak, synth or auto", voice)
	}
}

// parseSeeds reads -seed-agents; nil (the simulator's default agents) when empty.
func parseSeeds(seed string) ([]simulator.AgentSeed, error) {
	if seed == "" {
		return nil, nil
	}
	var out []simulator.AgentSeed
	for _, name := range strings.Split(seed, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("-seed-agents %q: empty agent name", seed)
		}
		if len(name) > 64 {
			return nil, fmt.Errorf("-seed-agents: agent name %q is longer than 64 characters", name)
		}
		out = append(out, simulator.AgentSeed{Name: name})
	}
	return out, nil
}

// parseFailNext reads -fail-next: N:STATUS pairs, comma-separated.
func parseFailNext(spec string) ([]failSpec, error) {
	if spec == "" {
		return nil, nil
	}
	var out []failSpec
	for _, part := range strings.Split(spec, ",") {
		var f failSpec
		if _, err := fmt.Sscanf(part, "%d:%d", &f.n, &f.status); err != nil || f.n < 1 || f.status < 400 || f.status > 599 {
			return nil, fmt.Errorf("-fail-next %q: want N:STATUS with N >= 1 and a 4xx/5xx status, e.g. 2:503", part)
		}
		out = append(out, f)
	}
	return out, nil
}

// checkKey refuses a key shaped like a real Ultravox key (8 alphanumerics,
// a dot, 32 alphanumerics): the simulator's key is a test key.
func checkKey(key string) error {
	if key == "" {
		return errors.New("-key must not be empty")
	}
	if before, after, ok := strings.Cut(key, "."); ok && len(before) == 8 && len(after) == 32 && alnum(before) && alnum(after) {
		return errors.New("-key looks like a real Ultravox API key; use a test key such as sim-demo-key")
	}
	return nil
}

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// run starts the simulator and serves until ctx ends. ready, when set,
// receives the server once it listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(*simulator.Server)) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	sim := simulator.New(cfg.opts)
	if err := sim.Listen(cfg.addr); err != nil {
		return err
	}
	defer sim.Close()
	for _, f := range cfg.fails {
		sim.FailNext(f.n, f.status)
	}
	sim.SetLatency(cfg.lat)
	sim.SetRoundTrip(cfg.rtt)
	if err := sim.SeedPastCalls(cfg.pastCalls, 30*24*time.Hour); err != nil {
		return err
	}
	sim.SetUnauthorized(cfg.unauthorized)
	if err := sim.SetRecordingRedirect(cfg.recRedirect); err != nil {
		return err
	}
	for i := 0; i < cfg.elsewhere; i++ {
		if _, err := sim.StartCallElsewhere(sim.Agents()[0].AgentID, true, 0); err != nil {
			return fmt.Errorf("-elsewhere: call %d: %w", i+1, err)
		}
	}
	fmt.Fprintf(stdout, "Ultravox simulator listening on %s\n", sim.URL())
	fmt.Fprintf(stdout, "API key (a test key, not a real one): %s\n", sim.APIKey())
	fmt.Fprintf(stdout, "Try: curl -H 'X-API-Key: %s' %s/api/accounts/me\n", sim.APIKey(), sim.URL())
	for _, a := range sim.Agents() {
		fmt.Fprintf(stdout, "Agent %q: %s\n", a.Name, a.AgentID)
	}
	fmt.Fprintf(stdout, "For the tray app: ULTRAVOX_API_URL=%s ULTRAVOX_API_KEY=%s\n", sim.URL(), sim.APIKey())
	if cfg.opts.ControlAPI {
		fmt.Fprintf(stdout, "Controls: curl -X POST -H 'X-API-Key: %s' '%s/sim/control/<op>?...' with op one of\n", sim.APIKey(), sim.URL())
		fmt.Fprintln(stdout, "  elsewhere?joined=true&maxDuration=300s&agent=ID, end?call=ID&reason=timeout, fail-next?n=2&status=503,")
		fmt.Fprintln(stdout, "  malformed?n=1, latency?d=500ms, round-trip?d=100ms, unauthorized?on=true, unresponsive?on=true, drop-sockets, hangup-reason?reason=hangup")
	}
	if ready != nil {
		ready(sim)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "Ultravox simulator stopped")
	return nil
}
