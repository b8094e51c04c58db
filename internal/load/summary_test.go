package load

import (
	"maps"
	"math"
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

// TestTallyMedia: the MOS figures are over the answered calls that got an
// estimate (a call with no audio has MOS 0 and is left out); the packets
// received and lost add up over the answered calls.
func TestTallyMedia(t *testing.T) {
	results := []Result{
		{Outcome: OutcomeOK, Answered: true, RxPackets: 100, Lost: 0, MOS: 4.4},
		{Outcome: OutcomeOK, Answered: true, RxPackets: 90, Lost: 10, MOS: 3.9},
		{Outcome: OutcomeOK, Answered: true, RxPackets: 98, Lost: 2, MOS: 4.2},
		{Outcome: OutcomeNoMedia, Answered: true},
		{Outcome: "503", Code: 503},
	}
	tl := newTally()
	for _, r := range results {
		tl.add(r)
	}
	s := tl.summary(time.Second)
	if s.MOSCalls != 3 || s.MOSP50 != 4.2 || s.MOSMin != 3.9 || math.Abs(s.MOSMean-12.5/3) > 1e-9 {
		t.Errorf("MOS calls %d p50 %g min %g mean %g, want 3 4.2 3.9 %g", s.MOSCalls, s.MOSP50, s.MOSMin, s.MOSMean, 12.5/3)
	}
	if s.Rx != 288 || s.Lost != 12 || math.Abs(s.LossPct()-4) > 1e-9 {
		t.Errorf("rx %d lost %d (%g%%), want 288 12 (4%%)", s.Rx, s.Lost, s.LossPct())
	}
	if n, p50, lo, mean := mosStats([]float64{4.1, 4.3}); n != 2 || p50 != 4.1 || lo != 4.1 || math.Abs(mean-4.2) > 1e-9 {
		t.Errorf("mosStats of two: %d %g %g %g, want 2 4.1 (the lower) 4.1 4.2", n, p50, lo, mean)
	}
	if s := newTally().summary(0); s.MOSCalls != 0 || s.MOSP50 != 0 || s.LossPct() != 0 {
		t.Errorf("empty: %+v", s)
	}
}

func TestFormatSummary(t *testing.T) {
	s := Summary{Attempted: 10, Answered: 8, Failed: 2, Failures: map[string]int{"486": 1, OutcomeTimeout: 1},
		SetupP50: 1200 * time.Microsecond, SetupP95: 3 * time.Millisecond, SetupP99: 4 * time.Millisecond, SetupMax: 5 * time.Millisecond,
		RxMin: 90, Rx: 800, Lost: 0, MOSCalls: 8, MOSP50: 4.41, MOSMin: 4.38, MOSMean: 4.404, PlacedRate: 9.87, Elapsed: 3500 * time.Millisecond}
	want := "sip:b@h: attempted 10 answered 8 failed 2 [486×1 timeout×1], setup p50 1.2ms p95 3.0ms p99 4.0ms max 5.0ms, " +
		"MOS p50 4.41 min 4.38 mean 4.40, rx 800 (min 90) lost 0 (0.00%), 9.9 calls/s over 3.5s"
	if got := FormatSummary("sip:b@h", s); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	s = Summary{Attempted: 3, Interrupted: 3, Failures: map[string]int{}}
	want = "sip:b@h: attempted 3 answered 0 failed 0 interrupted 3, setup p50 0.0ms p95 0.0ms p99 0.0ms max 0.0ms, MOS -, rx 0 (min 0) lost 0 (0.00%), 0.0 calls/s over 0.0s"
	if got := FormatSummary("sip:b@h", s); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
