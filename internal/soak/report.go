package soak

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Tolerance is how much the target may grow before the verdict is FAIL.
type Tolerance struct {
	// Growth at equal load from the first sample after the first thousand
	// calls to the last one under full load: a fraction of the first value
	// plus a constant.
	Frac            float64
	Goroutines, FDs int
	HeapKiB, RSSKiB int64
	// Idle after vs idle before: plain counts.
	IdleGoroutines, IdleFDs int
	IdleHeapKiB             int64
}

// DefaultTolerance: 10% plus a few goroutines and descriptors, 4 MiB of
// heap and 8 MiB of RSS; once idle again, 5 goroutines and 5 descriptors
// more than before the load, and 2 MiB more heap (the call history keeps
// the last 200 calls).
var DefaultTolerance = Tolerance{Frac: 0.10, Goroutines: 20, FDs: 10, HeapKiB: 4 << 10, RSSKiB: 8 << 10,
	IdleGoroutines: 5, IdleFDs: 5, IdleHeapKiB: 2 << 10}

// metric is one figure of a Sample.
type metric struct {
	name  string
	get   func(Sample) float64
	slack func(Tolerance) float64
}

var metrics = []metric{
	{"goroutines", func(s Sample) float64 { return float64(s.Goroutines) }, func(t Tolerance) float64 { return float64(t.Goroutines) }},
	{"open fds", func(s Sample) float64 { return float64(s.FDs) }, func(t Tolerance) float64 { return float64(t.FDs) }},
	{"heap KiB", func(s Sample) float64 { return float64(s.HeapKiB) }, func(t Tolerance) float64 { return float64(t.HeapKiB) }},
	{"RSS KiB", func(s Sample) float64 { return float64(s.RSSKiB) }, func(t Tolerance) float64 { return float64(t.RSSKiB) }},
}

// Growth is how a figure moved between the first and the last thousand.
type Growth struct {
	Name    string
	PerCall float64 // fitted share of one call up
	Raw     float64 // last - first
	Equal   float64 // last - first at equal load: Raw - PerCall*(last.Active - first.Active)
	Limit   float64
}

// Run describes the load: calls placed, at most concurrent at once, and
// the warm-up before which nothing is compared (SIP transactions outlive
// their call by up to 64*T1 = 32 s, so the memory of a steady load only
// levels off after that).
type Run struct {
	Calls, Concurrent int
	Warmup            time.Duration
}

// DefaultWarmup is the warm-up of a soak: 64*T1 and some.
const DefaultWarmup = 40 * time.Second

// Report is the outcome of a soak for the target.
type Report struct {
	Calls  int // calls asked for
	Window int // "the first and last thousand": min(1000, Calls/5)
	// Steady is the most calls done while the load still placed calls
	// at full concurrency: Calls minus the calls in flight at the end.
	Steady        int
	Before, After *Sample
	// First is the first sample under load after Window calls and the
	// warm-up, Last the last one before Steady: the first and the last
	// thousand calls.
	First, Last  *Sample
	Max          Sample // the most of each figure under load
	Growth       []Growth
	Pass         bool
	Reasons      []string // growth: FAIL
	Inconclusive []string // not enough samples to tell: FAIL too
}

// Analyze makes the report of samples (in order) for a run of calls with
// concurrent calls in flight at most.
//
// The calls up at a sample differ (a busy machine answers in bursts), and
// each holds goroutines, sockets and memory: so every figure is fitted, over
// the samples under load, as a share per call up plus the rest, and the
// first and last thousand are compared at equal load. A leak grows the
// rest.
func Analyze(samples []Sample, run Run, tol Tolerance) Report {
	calls := run.Calls
	r := Report{Calls: calls, Window: max(1, min(1000, calls/5)), Steady: calls - run.Concurrent}
	var load []Sample
	for i := range samples {
		s := &samples[i]
		switch s.Phase {
		case PhaseBefore:
			r.Before = s
		case PhaseAfter:
			r.After = s
		case PhaseLoad:
			load = append(load, *s)
			if r.First == nil && s.Calls >= r.Window && s.Calls <= r.Steady && s.T >= run.Warmup.Seconds() {
				r.First = s
			}
			if s.Calls <= r.Steady {
				r.Last = s
			}
			r.Max.Active = max(r.Max.Active, s.Active)
			r.Max.Goroutines = max(r.Max.Goroutines, s.Goroutines)
			r.Max.FDs = max(r.Max.FDs, s.FDs)
			r.Max.HeapKiB = max(r.Max.HeapKiB, s.HeapKiB)
			r.Max.RSSKiB = max(r.Max.RSSKiB, s.RSSKiB)
			r.Max.Threads = max(r.Max.Threads, s.Threads)
			r.Max.Calls = max(r.Max.Calls, s.Calls)
		}
	}
	switch {
	case r.First == nil || r.Last == nil || r.First == r.Last:
		r.Inconclusive = append(r.Inconclusive, fmt.Sprintf("fewer than two samples under full load between %d and %d calls after %s of warm-up: run longer or sample more often", r.Window, r.Steady, run.Warmup))
	default:
		if r.Last.Calls < calls-2*r.Window {
			r.Inconclusive = append(r.Inconclusive, fmt.Sprintf("the last sample under full load is at %d calls, before the last %d", r.Last.Calls, 2*r.Window))
		}
		for _, m := range metrics {
			first, last := m.get(*r.First), m.get(*r.Last)
			g := Growth{Name: m.name, PerCall: perCall(load, m.get), Raw: last - first,
				Limit: tol.Frac*first + m.slack(tol)}
			g.Equal = g.Raw - g.PerCall*float64(r.Last.Active-r.First.Active)
			r.Growth = append(r.Growth, g)
			if g.Equal > g.Limit {
				r.Reasons = append(r.Reasons, fmt.Sprintf("%s grew by %.0f at equal load between %d and %d calls (limit %.0f)",
					m.name, g.Equal, r.First.Calls, r.Last.Calls, g.Limit))
			}
		}
	}
	if r.Before == nil || r.After == nil {
		r.Inconclusive = append(r.Inconclusive, "no idle sample before or after the load")
	} else {
		if r.After.Goroutines > r.Before.Goroutines+tol.IdleGoroutines {
			r.Reasons = append(r.Reasons, fmt.Sprintf("idle again, %d goroutines where there were %d before the load", r.After.Goroutines, r.Before.Goroutines))
		}
		if r.After.FDs > r.Before.FDs+tol.IdleFDs {
			r.Reasons = append(r.Reasons, fmt.Sprintf("idle again, %d open fds where there were %d before the load", r.After.FDs, r.Before.FDs))
		}
		if r.After.HeapKiB > r.Before.HeapKiB+tol.IdleHeapKiB {
			r.Reasons = append(r.Reasons, fmt.Sprintf("idle again, a heap of %d KiB where there were %d before the load", r.After.HeapKiB, r.Before.HeapKiB))
		}
		if r.After.Active != 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("idle again, %d calls still up at the target", r.After.Active))
		}
	}
	r.Pass = len(r.Reasons) == 0 && len(r.Inconclusive) == 0
	return r
}

// perCall is the least-squares slope of get over the calls up: what one
// more call up adds (never less than 0). 0 when the calls up hardly changed
// (by less than 5 or a tenth): the slope would then be noise (a steady
// 99-100 calls up made heap growth a share of -3400 KiB per call).
func perCall(samples []Sample, get func(Sample) float64) float64 {
	n := float64(len(samples))
	if n < 2 {
		return 0
	}
	var ma, mv float64
	lo, hi := samples[0].Active, samples[0].Active
	for _, s := range samples {
		ma += float64(s.Active)
		mv += get(s)
		lo, hi = min(lo, s.Active), max(hi, s.Active)
	}
	if spread := float64(hi - lo); spread < 5 || spread < 0.1*ma/n {
		return 0
	}
	ma, mv = ma/n, mv/n
	var cov, va float64
	for _, s := range samples {
		d := float64(s.Active) - ma
		cov += d * (get(s) - mv)
		va += d * d
	}
	if va == 0 {
		return 0
	}
	return max(0, cov/va)
}

// Write prints the report as a table and the verdict.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "%-22s %7s %6s %11s %6s %9s %9s %8s\n", "target (teaphone answer)", "calls", "up", "goroutines", "fds", "heap_kib", "rss_kib", "threads")
	row := func(name string, s *Sample) {
		if s == nil {
			fmt.Fprintf(w, "%-22s %7s\n", name, "-")
			return
		}
		fmt.Fprintf(w, "%-22s %7d %6d %11d %6d %9d %9d %8d\n", name, s.Calls, s.Active, s.Goroutines, s.FDs, s.HeapKiB, s.RSSKiB, s.Threads)
	}
	row("idle before", r.Before)
	row(fmt.Sprintf("after first %d", r.Window), r.First)
	row("last at full load", r.Last)
	maxRow := r.Max
	row("max under load", &maxRow)
	row("idle after", r.After)
	for _, g := range r.Growth {
		fmt.Fprintf(w, "%-10s first→last %+9.0f raw, %+9.0f at equal load (%.1f per call up; limit %.0f)\n", g.Name, g.Raw, g.Equal, g.PerCall, g.Limit)
	}
	switch {
	case len(r.Reasons) > 0:
		fmt.Fprintf(w, "verdict: FAIL: %s\n", strings.Join(r.Reasons, "; "))
	case len(r.Inconclusive) > 0:
		fmt.Fprintf(w, "verdict: FAIL (inconclusive): %s\n", strings.Join(r.Inconclusive, "; "))
	default:
		fmt.Fprintln(w, "verdict: PASS: flat between the first and the last calls at equal load, back to the idle figures after")
	}
}
