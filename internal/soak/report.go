package soak

import (
	"fmt"
	"io"
	"strings"
)

// Tolerance is how much the target may grow before the verdict is FAIL.
type Tolerance struct {
	// Growth from the sample after the first thousand calls to the last
	// one under load: a fraction of the first value plus a constant.
	Frac                   float64
	Goroutines, FDs        int
	RSSKiB                 int64
	IdleGoroutines, IdleFD int // idle after vs idle before: plain counts
}

// DefaultTolerance: 10% plus a few goroutines and descriptors (the calls in
// flight at a sample differ by a few), plus 8 MiB of RSS; once idle again,
// 5 goroutines and 5 descriptors more than before the load.
var DefaultTolerance = Tolerance{Frac: 0.10, Goroutines: 30, FDs: 20, RSSKiB: 8 << 10, IdleGoroutines: 5, IdleFD: 5}

// Report is the outcome of a soak for the target.
type Report struct {
	Calls  int // calls asked for
	Window int // "the first and last thousand": min(1000, Calls/5)
	// Steady is the most calls done while the load still placed calls
	// at full concurrency: Calls minus the calls in flight at the end.
	Steady        int
	Before, After *Sample
	// First is the first sample under load after Window calls, Last the
	// last one before Steady: the first and the last thousand calls.
	First, Last  *Sample
	Max          Sample // the most of each figure under load
	Pass         bool
	Reasons      []string // growth: FAIL
	Inconclusive []string // not enough samples to tell: FAIL too
}

// Analyze makes the report of samples (in order) for a run of calls with
// concurrent calls in flight at most.
func Analyze(samples []Sample, calls, concurrent int, tol Tolerance) Report {
	r := Report{Calls: calls, Window: max(1, min(1000, calls/5)), Steady: calls - concurrent}
	for i := range samples {
		s := &samples[i]
		switch s.Phase {
		case PhaseBefore:
			r.Before = s
		case PhaseAfter:
			r.After = s
		case PhaseLoad:
			if r.First == nil && s.Calls >= r.Window && s.Calls <= r.Steady {
				r.First = s
			}
			if s.Calls <= r.Steady {
				r.Last = s
			}
			r.Max.Goroutines = max(r.Max.Goroutines, s.Goroutines)
			r.Max.FDs = max(r.Max.FDs, s.FDs)
			r.Max.RSSKiB = max(r.Max.RSSKiB, s.RSSKiB)
			r.Max.Threads = max(r.Max.Threads, s.Threads)
			r.Max.Calls = max(r.Max.Calls, s.Calls)
		}
	}
	switch {
	case r.First == nil || r.Last == nil || r.First == r.Last:
		r.Inconclusive = append(r.Inconclusive, fmt.Sprintf("fewer than two samples under full load between %d and %d calls: run longer or sample more often", r.Window, r.Steady))
	default:
		if r.Last.Calls < calls-2*r.Window {
			r.Inconclusive = append(r.Inconclusive, fmt.Sprintf("the last sample under full load is at %d calls, before the last %d", r.Last.Calls, 2*r.Window))
		}
		grew := func(name string, first, last, slack int64) {
			if limit := first + int64(tol.Frac*float64(first)) + slack; last > limit {
				r.Reasons = append(r.Reasons, fmt.Sprintf("%s grew from %d to %d between %d and %d calls (limit %d)", name, first, last, r.First.Calls, r.Last.Calls, limit))
			}
		}
		grew("goroutines", int64(r.First.Goroutines), int64(r.Last.Goroutines), int64(tol.Goroutines))
		grew("open fds", int64(r.First.FDs), int64(r.Last.FDs), int64(tol.FDs))
		grew("RSS KiB", r.First.RSSKiB, r.Last.RSSKiB, tol.RSSKiB)
	}
	if r.Before == nil || r.After == nil {
		r.Inconclusive = append(r.Inconclusive, "no idle sample before or after the load")
	} else {
		if r.After.Goroutines > r.Before.Goroutines+tol.IdleGoroutines {
			r.Reasons = append(r.Reasons, fmt.Sprintf("idle again, %d goroutines where there were %d before the load", r.After.Goroutines, r.Before.Goroutines))
		}
		if r.After.FDs > r.Before.FDs+tol.IdleFD {
			r.Reasons = append(r.Reasons, fmt.Sprintf("idle again, %d open fds where there were %d before the load", r.After.FDs, r.Before.FDs))
		}
	}
	r.Pass = len(r.Reasons) == 0 && len(r.Inconclusive) == 0
	return r
}

// Write prints the report as a table and the verdict.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "%-22s %7s %11s %6s %9s %8s\n", "target (teaphone answer)", "calls", "goroutines", "fds", "rss_kib", "threads")
	row := func(name string, s *Sample) {
		if s == nil {
			fmt.Fprintf(w, "%-22s %7s\n", name, "-")
			return
		}
		fmt.Fprintf(w, "%-22s %7d %11d %6d %9d %8d\n", name, s.Calls, s.Goroutines, s.FDs, s.RSSKiB, s.Threads)
	}
	row("idle before", r.Before)
	row(fmt.Sprintf("after first %d", r.Window), r.First)
	row("last at full load", r.Last)
	maxRow := r.Max
	row("max under load", &maxRow)
	row("idle after", r.After)
	switch {
	case len(r.Reasons) > 0:
		fmt.Fprintf(w, "verdict: FAIL: %s\n", strings.Join(r.Reasons, "; "))
	case len(r.Inconclusive) > 0:
		fmt.Fprintf(w, "verdict: FAIL (inconclusive): %s\n", strings.Join(r.Inconclusive, "; "))
	default:
		fmt.Fprintln(w, "verdict: PASS: flat between the first and the last calls, back to the idle figures after")
	}
}
