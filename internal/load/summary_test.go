package load

import (
	"maps"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even: the lower", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p95 of 100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p99 of 10: the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p100", ms(1, 2, 3), 100, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: p%g = %s, want %s", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestTally(t *testing.T) {
	ok := func(setupMs int, rx uint64) Result {
		return Result{Outcome: OutcomeOK, Answered: true, Setup: time.Duration(setupMs) * time.Millisecond, RxPackets: rx}
	}
	results := []Result{
		ok(30, 100), ok(10, 90), ok(20, 95),
		{Outcome: "486", Code: 486},
		{Outcome: "486", Code: 486},
		{Outcome: "503", Code: 503},
		{Outcome: OutcomeTimeout},
		{Outcome: OutcomeNoMedia, Answered: true, Setup: 40 * time.Millisecond},
		{Outcome: OutcomeDropped, Answered: true, Setup: 5 * time.Millisecond, RxPackets: 12},
		{Outcome: OutcomeInterrupted, Answered: true, Setup: 15 * time.Millisecond, RxPackets: 50},
	}
	tl := newTally()
	for _, r := range results {
		tl.add(r)
	}
	s := tl.summary(3 * time.Second)
	if s.Attempted != 10 || s.Answered != 6 || s.Failed != 6 || s.Interrupted != 1 {
		t.Errorf("attempted %d answered %d failed %d interrupted %d, want 10 6 6 1", s.Attempted, s.Answered, s.Failed, s.Interrupted)
	}
	want := map[string]int{"486": 2, "503": 1, OutcomeTimeout: 1, OutcomeNoMedia: 1, OutcomeDropped: 1}
	if !maps.Equal(s.Failures, want) {
		t.Errorf("failures %v, want %v", s.Failures, want)
	}
	// Setups of the answered: 5 10 15 20 30 40.
	if s.SetupP50 != 15*time.Millisecond || s.SetupP95 != 40*time.Millisecond || s.SetupMax != 40*time.Millisecond {
		t.Errorf("setup p50 %s p95 %s max %s, want 15ms 40ms 40ms", s.SetupP50, s.SetupP95, s.SetupMax)
	}
	if s.RxMin != 0 {
		t.Errorf("rx min %d, want 0 (the no_media call)", s.RxMin)
	}
	if got := newTally().summary(0); got.Attempted != 0 || got.RxMin != 0 || got.SetupP99 != 0 || len(got.Failures) != 0 {
		t.Errorf("empty tally %+v", got)
	}
}

func TestOutcomeOf(t *testing.T) {
	for code, want := range map[int]string{486: "486", 603: "603", 408: "408", 0: OutcomeError, 200: OutcomeError} {
		if got := outcomeOf(code); got != want {
			t.Errorf("outcomeOf(%d) = %q, want %q", code, got, want)
		}
	}
}
