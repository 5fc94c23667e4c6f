// Command benchtable turns the output of `go test -bench` (as `make bench`
// writes it) into one table: each figure, its baseline from the same run,
// the ratio, and the target. It exits 1 when a figure misses its target by
// more than 50 % (a regression is loud), 0 otherwise; a figure that was not
// measured is listed as such and fails nothing.
//
//	go run ./internal/benchtable bench.log                   # the table
//	go run ./internal/benchtable -readme README.md bench.log # and rewrite README's table
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// row is one line of the table. The figure is metric of bench; the baseline
// is baseMetric of baseBench (bench when empty), or baseConst when
// baseMetric is empty. target is the figure's goal in the figure's unit,
// computed from the baseline; nil when the issue sets none.
type row struct {
	what       string
	bench      string
	metric     string
	scale      float64 // figure multiplier into unit (1 when 0)
	unit       string
	baseBench  string
	baseMetric string
	baseConst  float64
	baseWhat   string
	target     func(base float64) float64
	targetText string
}

// rtt rows: the end-to-end figures at one round trip.
func rttRows(ms int) []row {
	bench := fmt.Sprintf("BenchmarkEndToEnd/rtt=%dms", ms)
	at := fmt.Sprintf(" @ %d ms RTT", ms)
	if ms == 0 {
		at = " @ loopback"
	}
	base := "raw GET (RTT)"
	rows := []row{
		{what: `"End call" click -> server's ended` + at, bench: bench, metric: "end-ended-ms", unit: "ms", baseMetric: "rtt-ms", baseWhat: base,
			target: ratio(0.6), targetText: "<= 0.6 RTT"},
		{what: `"End call" click -> idle icon (confirmed)` + at, bench: bench, metric: "end-idle-ms", unit: "ms", baseMetric: "rtt-ms", baseWhat: base,
			target: ratio(1.6), targetText: "<= 1.6 RTT"},
		{what: "Quit with a live call -> exit (confirmed)" + at, bench: bench, metric: "quit-exit-ms", unit: "ms", baseMetric: "rtt-ms", baseWhat: base,
			target: func(b float64) float64 { return 1.6*b + 100 }, targetText: "<= 1.6 RTT + 100 ms"},
		{what: "sleep signal -> inhibitor released" + at, bench: bench, metric: "sleep-release-ms", unit: "ms", baseMetric: "rtt-ms", baseWhat: base,
			target: ratio(1.3), targetText: "<= 1.3 RTT"},
	}
	if ms == 0 {
		// On loopback a round trip is 0.1 ms: the issue sets absolute
		// targets for quit and sleep, none for the two end figures.
		rows[0].target, rows[0].targetText = nil, "-"
		rows[1].target, rows[1].targetText = nil, "-"
		rows[2].target, rows[2].targetText = fixed(150), "<= 150 ms"
		rows[3].target, rows[3].targetText = fixed(30), "<= 30 ms"
	}
	return rows
}

func ratio(k float64) func(float64) float64 { return func(b float64) float64 { return k * b } }
func fixed(v float64) func(float64) float64 { return func(float64) float64 { return v } }

func table() []row {
	var rows []row
	for _, ms := range []int{0, 50, 100} {
		rows = append(rows, rttRows(ms)...)
	}
	poll := "BenchmarkPoll/past=%d/elsewhere=%d"
	rows = append(rows,
		row{what: "requests per minute while idle", bench: fmt.Sprintf(poll, 10, 0), metric: "idle-req-per-min", unit: "/min",
			baseConst: 2, baseWhat: "2 checks a minute (30 s)", target: fixed(2), targetText: "<= 2"},
		row{what: "network gone -> unknown, idle", bench: "BenchmarkOfflineToUnknown/idle", metric: "to-unknown-s", unit: "s",
			baseMetric: "interval-s", baseWhat: "poll interval", target: func(b float64) float64 { return b + 5 }, targetText: "<= interval + 5 s"},
		row{what: "network gone -> unknown, call live", bench: "BenchmarkOfflineToUnknown/live", metric: "to-unknown-s", unit: "s",
			baseMetric: "interval-s", baseWhat: "poll interval", target: fixed(10), targetText: "<= 10 s"},
	)
	for _, p := range []int{10, 1000, 10000} {
		rows = append(rows,
			row{what: fmt.Sprintf("idle check, %d past calls: requests", p), bench: fmt.Sprintf(poll, p, 0), metric: "req/poll", unit: "req",
				baseConst: 1, baseWhat: "one account read", target: fixed(1), targetText: "<= 1 (flat)"},
			row{what: fmt.Sprintf("idle check, %d past calls: time", p), bench: fmt.Sprintf(poll, p, 0), metric: "ns/op", scale: 1e-6, unit: "ms",
				baseMetric: "raw-get-ms", baseWhat: "raw GET", targetText: "- (flat: see requests)"},
			row{what: fmt.Sprintf("idle check, %d past calls: memory", p), bench: fmt.Sprintf(poll, p, 0), metric: "B/op", scale: 1.0 / 1024, unit: "KiB",
				baseBench: fmt.Sprintf(poll, 10, 0), baseMetric: "B/op", baseWhat: "the 10-call check", target: ratio(1.1 * 1.0 / 1024), targetText: "<= 1.1x (flat)"},
		)
	}
	for _, e := range []int{1, 10, 50} {
		rows = append(rows,
			row{what: fmt.Sprintf("live check, 10000 past, %d elsewhere: requests", e), bench: fmt.Sprintf(poll, 10000, e), metric: "req/poll", unit: "req",
				baseConst: 2, baseWhat: "account + one page", target: fixed(2), targetText: "<= 2"},
			row{what: fmt.Sprintf("live check, 10000 past, %d elsewhere: time", e), bench: fmt.Sprintf(poll, 10000, e), metric: "ns/op", scale: 1e-6, unit: "ms",
				baseMetric: "raw-get-ms", baseWhat: "raw GET", targetText: "- (grows with the calls listed)"},
		)
	}
	rows = append(rows,
		row{what: "agent audio to the speaker (playback onset)", bench: "BenchmarkPlaybackOnset", metric: "onset_adaptive_ms", unit: "ms",
			baseMetric: "baseline_frame_period_ms", baseWhat: "20 ms frame", target: fixed(60), targetText: "<= 60 ms, no more underruns"},
		row{what: "playback_clear_buffer -> silence", bench: "BenchmarkBargeIn", metric: "clear_to_silence_ms", unit: "ms",
			baseMetric: "baseline_frame_period_ms", baseWhat: "20 ms frame", target: ratio(1), targetText: "<= one 20 ms frame"},
		row{what: "idle CPU vs a minimal Fyne tray app", bench: "BenchmarkIdleCost", metric: "cpu-ms-per-min", unit: "ms/min",
			baseMetric: "base-cpu-ms-per-min", baseWhat: "minimal Fyne tray", target: ratio(1.05), targetText: "<= 1.05x"},
		row{what: "idle RSS vs a minimal Fyne tray app", bench: "BenchmarkIdleCost", metric: "rss-MiB", unit: "MiB",
			baseMetric: "base-rss-MiB", baseWhat: "minimal Fyne tray", target: ratio(1.1), targetText: "<= 1.1x"},
	)
	return rows
}

var line = regexp.MustCompile(`(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(\d.*)$`)

// parse reads benchmark lines: name -> metric -> value (the last run wins).
func parse(r io.Reader) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		vals := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			vals[f[i+1]] = v
		}
		out[m[1]] = vals
	}
	return out
}

type result struct {
	row                   row
	fig, base, tgt        float64
	hasFig, hasBase, miss bool
}

func evaluate(rows []row, got map[string]map[string]float64) []result {
	var out []result
	for _, r := range rows {
		res := result{row: r}
		if v, ok := got[r.bench][r.metric]; ok {
			s := r.scale
			if s == 0 {
				s = 1
			}
			res.fig, res.hasFig = v*s, true
		}
		if r.baseMetric == "" {
			res.base, res.hasBase = r.baseConst, true
		} else {
			bb := r.baseBench
			if bb == "" {
				bb = r.bench
			}
			if v, ok := got[bb][r.baseMetric]; ok {
				res.base, res.hasBase = v, true
			}
		}
		if res.hasFig && res.hasBase && r.target != nil {
			res.tgt = r.target(res.base)
			if r.unit == "KiB" {
				res.tgt = r.target(res.base) // baseline is bytes: the target scales it to KiB
			}
			res.miss = res.fig > 1.5*res.tgt
		}
		out = append(out, res)
	}
	return out
}

func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

func format(res []result, md bool) string {
	var b strings.Builder
	if md {
		b.WriteString("| what | figure | baseline (same run) | ratio | target | |\n|---|---|---|---|---|---|\n")
	} else {
		fmt.Fprintf(&b, "%-52s %12s  %-34s %8s  %-26s %s\n", "what", "figure", "baseline (same run)", "ratio", "target", "")
	}
	for _, r := range res {
		fig, base, rat, verdict := "not measured", "-", "-", ""
		if r.hasFig {
			fig = num(r.fig) + " " + r.row.unit
		}
		if r.hasBase {
			bu := r.row.unit
			if r.row.unit == "KiB" {
				base = num(r.base/1024) + " KiB, " + r.row.baseWhat
			} else {
				if r.row.baseMetric == "" {
					bu = ""
				}
				base = strings.TrimSpace(num(r.base)+" "+bu) + ", " + r.row.baseWhat
			}
		}
		if r.hasFig && r.hasBase && r.base != 0 {
			b := r.base
			if r.row.unit == "KiB" {
				b = r.base / 1024
			}
			rat = num(r.fig/b) + "x"
		}
		tgt := r.row.targetText
		if r.hasFig && r.hasBase && r.row.target != nil {
			tgt += " (" + num(r.tgt) + " " + r.row.unit + ")"
			switch {
			case r.miss:
				verdict = "MISS >50%"
			case r.fig > r.tgt:
				verdict = "above"
			default:
				verdict = "ok"
			}
		}
		if md {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.row.what, fig, base, rat, tgt, verdict)
		} else {
			fmt.Fprintf(&b, "%-52s %12s  %-34s %8s  %-26s %s\n", r.row.what, fig, base, rat, tgt, verdict)
		}
	}
	return b.String()
}

// machine says where the figures were taken.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-sr").Output()
	return fmt.Sprintf("%s, %d cores, %s, %s/%s", model, runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.GOOS, runtime.GOARCH)
}

const begin, end = "<!-- bench-table: begin (generated by internal/benchtable from make bench) -->", "<!-- bench-table: end -->"

func rewriteReadme(path, body string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q ... %q markers", path, begin, end)
	}
	s = s[:i+len(begin)] + "\n" + body + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

func main() {
	readme := flag.String("readme", "", "rewrite the table between the bench-table markers of this file")
	flag.Parse()
	var in io.Reader = os.Stdin
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	res := evaluate(table(), parse(in))
	when := time.Now().UTC().Format("2006-01-02 15:04 MST")
	head := fmt.Sprintf("Measured %s on %s.", when, machine())
	fmt.Println()
	fmt.Println("== make bench: figures against baselines from the same run")
	fmt.Println(head)
	fmt.Print(format(res, false))
	misses := 0
	for _, r := range res {
		if r.miss {
			misses++
		}
	}
	if *readme != "" {
		if err := rewriteReadme(*readme, head+"\n\n"+format(res, true)); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(2)
		}
	}
	if misses > 0 {
		fmt.Printf("benchtable: %d figure(s) miss their target by more than 50%%\n", misses)
		os.Exit(1)
	}
}
