// Package campaign is the fault campaign of issue 12: seed-driven runs of
// the real ultravox-tray binary against the simulator, in one private
// desktop (Xvfb, private D-Bus buses, a tray host and a notification server)
// that every seed reuses. Each seed starts a call, lets the simulator inject
// one fault (5xx bursts, 429 with Retry-After, a latency spike, a REST
// outage, the call's socket closed with 1011, malformed bodies, a simulator
// restart on the same state), stops the call or the app at one point of the
// call's life (End call, Quit, SIGTERM, SIGHUP, SIGKILL), restarts the app
// on the same state directories, and then checks invariants against the
// simulator's record (Check).
//
// The test is TestCampaign (campaign_test.go); `make test` runs a few dozen
// seeds, `make soak SEEDS=2000` many, with a table by fault kind, and
// `make soak SEED=n` replays one.
package campaign

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Fault is what the simulator does to the app during a run.
type Fault string

// The fault kinds.
const (
	FaultNone       Fault = "none"
	Fault5xx        Fault = "5xx-burst"
	Fault429        Fault = "429-retry-after"
	FaultLatency    Fault = "latency-spike"
	FaultOutage     Fault = "rest-outage"
	FaultSocket1011 Fault = "socket-1011"
	FaultMalformed  Fault = "malformed-body"
	FaultSimRestart Fault = "sim-restart"
)

// Faults lists every fault kind in table order.
var Faults = []Fault{FaultNone, Fault5xx, Fault429, FaultLatency, FaultOutage, FaultSocket1011, FaultMalformed, FaultSimRestart}

// Stop is how the call or the app is stopped.
type Stop string

// The stop kinds.
const (
	StopEndClick Stop = "end-click" // the user clicks End call; the app goes on
	StopQuit     Stop = "quit-click"
	StopTERM     Stop = "SIGTERM"
	StopHUP      Stop = "SIGHUP"
	StopKILL     Stop = "SIGKILL"
)

// Stops lists every stop kind in table order.
var Stops = []Stop{StopEndClick, StopQuit, StopTERM, StopHUP, StopKILL}

// Phase is the point of the call's life at which the stop comes.
type Phase string

// The phases.
const (
	PhaseConnecting Phase = "connecting" // right after Start call, before the join
	PhaseBilling    Phase = "billing"    // joined
	PhaseEnding     Phase = "ending"     // right after End call was clicked
)

// Phases lists every phase in table order.
var Phases = []Phase{PhaseConnecting, PhaseBilling, PhaseEnding}

// Plan is everything a seed decides.
type Plan struct {
	Seed  uint64
	Fault Fault
	Stop  Stop
	Phase Phase
	// FaultAfter is the wait from the phase's start (the click, or the
	// join) to the fault; StopAfter the wait from the fault to the stop.
	FaultAfter, StopAfter time.Duration
	// Count is the size of a burst (5xx, 429, malformed answers).
	Count int
	// AfterHandling makes a 5xx burst answer after the server acted (the
	// ambiguous failure: a create that did create the call).
	AfterHandling bool
	// Spike is the latency of a spike; Down the length of an outage or of a
	// simulator restart (also how long a spike lasts).
	Spike, Down time.Duration
	// Settings is the settings.json the run starts with (all valid values).
	Settings map[string]any
}

func (p Plan) String() string {
	s := fmt.Sprintf("seed %d: fault %s, stop %s during %s (fault +%v, stop +%v", p.Seed, p.Fault, p.Stop, p.Phase,
		p.FaultAfter.Round(time.Millisecond), p.StopAfter.Round(time.Millisecond))
	switch p.Fault {
	case Fault5xx:
		s += fmt.Sprintf(", %d answers", p.Count)
		if p.AfterHandling {
			s += " after handling"
		}
	case Fault429, FaultMalformed:
		s += fmt.Sprintf(", %d answers", p.Count)
	case FaultLatency:
		s += fmt.Sprintf(", %v for %v", p.Spike, p.Down)
	case FaultOutage, FaultSimRestart:
		s += fmt.Sprintf(", down %v", p.Down)
	}
	return s + ")"
}

// PlanFor derives a seed's plan; the same seed always gives the same plan.
// Fault sizes stay within what a careful app can ride out inside its own
// bounds (the 3 s quit budget, the 6 s end bound): bursts of at most 4
// answers, spikes of at most 1 s, outages and restarts of at most 2 s.
func PlanFor(seed uint64) Plan {
	r := rand.New(rand.NewPCG(seed, 0x75767463616d70)) // "uvtcamp"
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo+1)) * time.Millisecond }
	p := Plan{
		Seed:  seed,
		Fault: Faults[r.IntN(len(Faults))],
		Stop:  Stops[r.IntN(len(Stops))],
		Phase: Phases[r.IntN(len(Phases))],
	}
	switch {
	case p.Fault == FaultSocket1011:
		p.Phase = PhaseBilling // a socket to close exists only once joined
	case p.Stop == StopEndClick && p.Phase == PhaseEnding:
		p.Phase = PhaseBilling // the End click is the stop itself
	}
	p.FaultAfter = ms(0, 800)
	switch p.Phase {
	case PhaseConnecting:
		p.StopAfter = ms(0, 400)
	case PhaseBilling:
		p.StopAfter = ms(0, 1500)
	case PhaseEnding:
		p.StopAfter = ms(0, 500)
	}
	p.Count = 1 + r.IntN(4)
	p.AfterHandling = r.IntN(3) == 0
	p.Spike = ms(200, 1000)
	p.Down = ms(200, 2000)
	budget := 0.0
	if r.IntN(2) == 0 {
		budget = float64(1+r.IntN(50)) / 2
	}
	p.Settings = map[string]any{
		"maxDurationSeconds":        float64(60 + 10*r.IntN(19)),
		"joinTimeoutSeconds":        5.0, // the shortest: a never-joined call keeps the app "ending" until it expires
		"pricePerMinute":            0.05,
		"dailyBudget":               budget,
		"endCallsOnLock":            r.IntN(2) == 0,
		"deleteCallRecordsAfterEnd": false,
		"headset":                   r.IntN(2) == 0,
	}
	return p
}
