package model

import (
	"fmt"
	"math"
	"time"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/words"
)

// UsageTitle is the usage window's title.
const UsageTitle = "Usage"

// UsageBar is one day of the chart.
type UsageBar struct {
	Date    string // YYYY-MM-DD (UTC)
	Label   string // "6" (day of month), under the bar
	Minutes float64
	Cost    float64
	// Height is the bar's share of the chart's height, 0..1.
	Height float64
	Today  bool
	// OverBudget marks a day whose cost reached the daily budget.
	OverBudget bool
	// Detail is what hovering or tapping the bar shows.
	Detail string
}

// UsageView is the usage window: the last days' spend as bars, the daily
// budget as a line, and the month so far.
type UsageView struct {
	Title string
	Bars  []UsageBar
	// Scale is the cost at the chart's top, in dollars.
	Scale      float64
	ScaleLabel string
	// Budget is the daily budget's height (0..1); 0 when none is set.
	Budget      float64
	BudgetLabel string
	Month       string // "December so far: 42 min, $2.10"
	Status      string // when it was updated, or what went wrong
	Hint        string
	// Selected is the Detail of the chosen bar, or the hint.
	Selected string
}

// UsageHint tells how to read a bar.
const UsageHint = "Point at or tap a bar to see that day's minutes and cost."

// Usage is the usage window for u. While a call is live, today's bar is
// the snapshot's figure (the service's usage plus the live call, ticking
// while the window is open). err is the last refresh's failure (nil
// when it worked); selected is the chosen bar's date ("" for none).
func Usage(u calls.Usage, s calls.Snapshot, now time.Time, err error, selected string) UsageView {
	v := UsageView{Title: UsageTitle, Hint: UsageHint}
	price := s.PricePerMinute
	today := now.UTC().Format(time.DateOnly)
	live := s.LiveCount() > 0
	var monthMin float64
	month := now.UTC().Format("2006-01")
	for _, d := range u.Days {
		date := d.Day.UTC().Format(time.DateOnly)
		b := UsageBar{Date: date, Label: fmt.Sprint(d.Day.UTC().Day()), Minutes: d.Minutes, Today: date == today}
		if b.Today && live && s.TodayMinutes > b.Minutes {
			// The service's figure plus the running call, as the manager
			// counts it; otherwise the service's own records.
			b.Minutes = s.TodayMinutes
		}
		b.Cost = roundCents(b.Minutes * price)
		b.OverBudget = s.DailyBudget > 0 && b.Cost >= s.DailyBudget
		when := d.Day.UTC().Format("Mon Jan 2")
		if b.Today {
			when = "Today (" + d.Day.UTC().Format("Jan 2") + ")"
		}
		b.Detail = fmt.Sprintf("%s: %s min, %s", when, minutes(b.Minutes), words.Money(b.Cost))
		if b.Today && live {
			b.Detail += ", including the live call"
		}
		if date[:7] == month {
			monthMin += b.Minutes
		}
		v.Bars = append(v.Bars, b)
	}
	top := s.DailyBudget
	for _, b := range v.Bars {
		top = max(top, b.Cost)
	}
	v.Scale = niceCeil(top * 1.1) // room above the highest bar and the budget line
	v.ScaleLabel = "Top of the chart: " + words.Money(v.Scale) + " a day"
	for i := range v.Bars {
		if v.Scale > 0 {
			v.Bars[i].Height = v.Bars[i].Cost / v.Scale
		}
	}
	if s.DailyBudget > 0 && v.Scale > 0 {
		v.Budget = s.DailyBudget / v.Scale
		v.BudgetLabel = "Daily budget " + words.Money(s.DailyBudget)
	}
	v.Month = fmt.Sprintf("%s so far: %s min, %s", now.UTC().Format("January"), minutes(monthMin), words.Money(roundCents(monthMin*price)))
	switch {
	case err != nil:
		v.Status = "Could not refresh from Ultravox: " + err.Error()
	case u.Fetched.IsZero():
		v.Status = "Loading usage from Ultravox…"
	default:
		v.Status = fmt.Sprintf("From Ultravox at %s, at %s a minute (UTC days).", u.Fetched.Local().Format("15:04:05"), words.Money(price))
	}
	v.Selected = v.Hint
	for _, b := range v.Bars {
		if b.Date == selected {
			v.Selected = b.Detail
		}
	}
	return v
}

func minutes(m float64) string {
	if m > 0 && m < 10 {
		return fmt.Sprintf("%.1f", m)
	}
	return fmt.Sprint(int(math.Round(m)))
}

func roundCents(d float64) float64 { return math.Round(d*100) / 100 }

// niceCeil is the smallest of 1, 2, 2.5, 5 times a power of ten that is
// at least x (the chart's top), and $0.10 for nothing at all.
func niceCeil(x float64) float64 {
	if x <= 0 {
		return 0.10
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x-1e-12 {
			return m * p
		}
	}
	return 10 * p
}
