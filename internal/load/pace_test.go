package load

import (
	"testing"
	"time"
)

func TestPacerTake(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name  string
		rate  float64
		ready []time.Time // when each call is ready (a slot is free)
		want  []time.Time // when it starts
	}{
		{"on time: spaced by 1/rate", 10, []time.Time{ms(0), ms(0), ms(0), ms(0)}, []time.Time{ms(0), ms(100), ms(200), ms(300)}},
		{"ready before its turn waits", 50, []time.Time{ms(0), ms(5), ms(30)}, []time.Time{ms(0), ms(20), ms(40)}},
		{"late call starts when ready, the next is spaced from it", 10,
			[]time.Time{ms(0), ms(250), ms(260), ms(400)}, []time.Time{ms(0), ms(250), ms(350), ms(450)}},
		{"no bursts to catch up", 100, []time.Time{ms(0), ms(500), ms(500), ms(500)}, []time.Time{ms(0), ms(500), ms(510), ms(520)}},
		{"fractional rate", 0.5, []time.Time{ms(0), ms(0)}, []time.Time{ms(0), ms(2000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(tt.rate, 0, t0)
			for i, r := range tt.ready {
				if got := p.take(r); !got.Equal(tt.want[i]) {
					t.Errorf("call %d ready at %s: starts at %s, want %s", i, r.Sub(t0), got.Sub(t0), tt.want[i].Sub(t0))
				}
			}
		})
	}
}

// TestPacerRamp: with a ramp the rate rises linearly from 0 to the rate
// over the ramp, then stays there: the intervals shrink, never below
// 1/rate, and rate·ramp/2 calls start during the ramp (one more by rounding).
func TestPacerRamp(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		rate       float64
		ramp       time.Duration
		inRamp     [2]int // calls started before t0+ramp: min, max
		firstGapMs int64  // the gap after the first call
	}{
		{"20/s over 10 s", 20, 10 * time.Second, [2]int{100, 101}, 1000},
		{"100/s over 2 s", 100, 2 * time.Second, [2]int{100, 101}, 200},
		{"0.5/s over 10 s", 0.5, 10 * time.Second, [2]int{3, 3}, 6324},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(tt.rate, tt.ramp, t0)
			minGap := time.Duration(float64(time.Second) / tt.rate)
			var prev time.Time
			var gaps []time.Duration
			inRamp := 0
			for i := 0; ; i++ {
				at := p.take(t0) // always ready: the schedule alone
				if i > 0 {
					gap := at.Sub(prev)
					if gap < minGap-time.Microsecond {
						t.Fatalf("call %d: gap %s below 1/rate %s", i, gap, minGap)
					}
					if len(gaps) > 0 && gap > gaps[len(gaps)-1]+time.Microsecond {
						t.Fatalf("call %d: gap %s grew from %s: the rate fell", i, gap, gaps[len(gaps)-1])
					}
					gaps = append(gaps, gap)
				}
				prev = at
				if at.Sub(t0) >= tt.ramp {
					break
				}
				inRamp++
			}
			if inRamp < tt.inRamp[0] || inRamp > tt.inRamp[1] {
				t.Errorf("%d calls during the ramp, want %d..%d", inRamp, tt.inRamp[0], tt.inRamp[1])
			}
			if g := gaps[0].Milliseconds(); g != tt.firstGapMs {
				t.Errorf("first gap %d ms, want %d", g, tt.firstGapMs)
			}
			// After the ramp: the full rate.
			a, b := p.take(t0), p.take(t0)
			if b.Sub(a) != minGap {
				t.Errorf("after the ramp: gap %s, want %s", b.Sub(a), minGap)
			}
		})
	}
}

func TestPacerInterval(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPacer(20, 10*time.Second, t0)
	for _, tt := range []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, time.Second},                                 // sqrt(2·10/20)
		{5 * time.Second, 99 * time.Millisecond},         // sqrt(25+1)−5 ≈ 0.099 (at 10/s)
		{9990 * time.Millisecond, 50 * time.Millisecond}, // crosses the end: 10 ms of ramp, then the full rate
		{10 * time.Second, 50 * time.Millisecond},
		{time.Hour, 50 * time.Millisecond},
	} {
		if got := p.interval(t0.Add(tt.at)).Truncate(time.Millisecond); got != tt.want {
			t.Errorf("interval at %s: %s, want %s", tt.at, got, tt.want)
		}
	}
	if got := newPacer(20, 0, t0).interval(t0); got != 50*time.Millisecond {
		t.Errorf("no ramp: interval at the start %s, want 50ms", got)
	}
}

func TestMore(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := t0.Add(time.Minute)
	tests := []struct {
		name  string
		n     int
		calls int
		at    time.Time
		end   time.Time
		want  bool
	}{
		{"calls left", 9, 10, t0, time.Time{}, true},
		{"calls done", 10, 10, t0, time.Time{}, false},
		{"before the end", 0, 0, end.Add(-time.Millisecond), end, true},
		{"at the end", 0, 0, end, end, false},
		{"both: the count first", 5, 5, t0, end, false},
		{"both: the time first", 1, 100, end.Add(time.Second), end, false},
		{"no limit", 1 << 20, 0, end, time.Time{}, true},
	}
	for _, tt := range tests {
		if got := more(tt.n, tt.calls, tt.at, tt.end); got != tt.want {
			t.Errorf("%s: more(%d, %d) = %v, want %v", tt.name, tt.n, tt.calls, got, tt.want)
		}
	}
}
