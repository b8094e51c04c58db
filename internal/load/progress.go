package load

import (
	"sync"
	"time"
)

// Progress is the state of a run as it goes, for a live display: Run
// updates it, Snapshot reads it from any goroutine. Its zero value is
// ready; Run starts it.
type Progress struct {
	mu          sync.Mutex
	tl          *tally
	o           Options
	start       time.Time
	placed, up  int
	placing     bool // still placing calls
	interrupted bool
}

// Status is a snapshot of a run.
type Status struct {
	Target string
	// Calls and Duration are the run's bounds (0: none).
	Calls    int
	Duration time.Duration
	// Placed calls so far; Up those answered and not yet over.
	Placed, Up int
	// Summary totals the calls that are over.
	Summary Summary
	Elapsed time.Duration
	// Placing is false once no more calls will be placed; Interrupted
	// once the run was stopped (Ctrl-C).
	Placing, Interrupted bool
}

// begin starts the progress of a run with options o at start.
func (p *Progress) begin(o Options, start time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tl, p.o, p.start, p.placing = newTally(), o, start, true
}

func (p *Progress) placedOne() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.placed++
}

// answered counts a call up until its result comes.
func (p *Progress) answered() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up++
}

func (p *Progress) add(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Answered {
		p.up--
	}
	p.tl.add(r)
}

// stopPlacing marks the end of placing; interrupted when ctx ended.
func (p *Progress) stopPlacing(interrupted bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.placing = false
	p.interrupted = interrupted
}

// summary totals the run at now.
func (p *Progress) summary(now time.Time) Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tl.summary(now.Sub(p.start))
}

// Snapshot returns the state of the run at now.
func (p *Progress) Snapshot(now time.Time) Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tl == nil {
		return Status{Placing: true}
	}
	el := now.Sub(p.start)
	return Status{Target: p.o.Target, Calls: p.o.Calls, Duration: p.o.Duration,
		Placed: p.placed, Up: p.up, Summary: p.tl.summary(el), Elapsed: el,
		Placing: p.placing, Interrupted: p.interrupted}
}

// Fraction is how far the run is, 0..1: the larger of the calls placed
// of Calls and the time spent of Duration; 1 once placing ended (unless
// it was interrupted).
func (s Status) Fraction() float64 {
	if !s.Placing && !s.Interrupted {
		return 1
	}
	var f float64
	if s.Calls > 0 {
		f = float64(s.Placed) / float64(s.Calls)
	}
	if s.Duration > 0 {
		f = max(f, s.Elapsed.Seconds()/s.Duration.Seconds())
	}
	return min(max(f, 0), 1)
}

// Rate is the calls placed per second so far.
func (s Status) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Placed) / s.Elapsed.Seconds()
}
