package media

import (
	"math/rand/v2"
	"testing"
	"time"
)

// simulatePlayout runs the engine's use of playPhase on a synthetic
// stream for d: packets sent every 20 ms arrive jitter later (drawn by
// jit), the send clock samples the latest arrival every 20 ms, and play
// ticks follow next(). It returns how many play ticks came and how often
// the schedule moved.
func simulatePlayout(d time.Duration, jit func() time.Duration) (plays, moves int) {
	const frame = 20 * time.Millisecond
	base := time.Unix(1000, 0)
	n := int(d / frame)
	arr := make([]time.Time, n)
	for i := range arr {
		arr[i] = base.Add(time.Duration(i)*frame + 7*time.Millisecond + jit())
	}
	var pp playPhase
	var lastPlay time.Time
	var latest time.Time
	next := 0
	for k := 1; k < n; k++ {
		target := base.Add(time.Duration(k) * frame)
		if pp.on {
			for {
				pt := pp.next(lastPlay)
				if !pt.Before(target) {
					break
				}
				lastPlay = pt
				plays++
			}
		}
		for next < n && !arr[next].After(target) {
			if arr[next].After(latest) {
				latest = arr[next]
			}
			next++
		}
		wasOn := pp.on
		if pp.observe(latest, target) {
			moves++
			if !wasOn {
				lastPlay = target
				plays++
			}
		}
	}
	return plays, moves
}

// TestPlayScheduleKeepsTheRate: whatever the arrivals' jitter, the play
// schedule plays one frame per 20 ms on average (a slower schedule
// starves the device and makes the jitter buffer drop frames to catch up:
// a delay step each time).
func TestPlayScheduleKeepsTheRate(t *testing.T) {
	const d = 60 * time.Second
	want := int(d / (20 * time.Millisecond))
	for _, tc := range []struct {
		name   string
		jitter time.Duration // uniform [0, jitter)
	}{
		{"clean", 0},
		{"1 ms jitter", time.Millisecond},
		{"5 ms jitter", 5 * time.Millisecond},
		{"10 ms jitter", 10 * time.Millisecond},
		{"20 ms jitter", 20 * time.Millisecond},
		{"60 ms jitter", 60 * time.Millisecond},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		jit := func() time.Duration {
			if tc.jitter == 0 {
				return 0
			}
			return time.Duration(rng.Int64N(int64(tc.jitter)))
		}
		plays, moves := simulatePlayout(d, jit)
		rate := float64(plays) / float64(want)
		t.Logf("%s: %d play ticks for %d frames (%.2f %%), %d moves", tc.name, plays, want, 100*rate, moves)
		if rate < 0.995 || rate > 1.005 {
			t.Errorf("%s: play ticks at %.2f %% of the frame rate, want within 0.5 %%", tc.name, 100*rate)
		}
	}
}

func TestPhaseSpread(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		errs []time.Duration
		want time.Duration
	}{
		{"one point", []time.Duration{3 * ms}, 0},
		{"tight", []time.Duration{ms, 2 * ms, 1500 * time.Microsecond}, ms},
		{"across the wrap", []time.Duration{-9 * ms, 9 * ms}, 2 * ms},
		{"spread out", []time.Duration{-8 * ms, -3 * ms, 2 * ms, 7 * ms}, 15 * ms},
	} {
		if got := phaseSpread(tc.errs); got != tc.want {
			t.Errorf("%s: phaseSpread = %v, want %v", tc.name, got, tc.want)
		}
	}
	if raceEnabled {
		return
	}
	errs := make([]time.Duration, playWindow)
	if a := testing.AllocsPerRun(100, func() { _ = phaseSpread(errs) }); a != 0 {
		t.Errorf("phaseSpread allocates %v times", a)
	}
}
