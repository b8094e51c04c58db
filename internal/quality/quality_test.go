package quality

import (
	"math"
	"math/rand/v2"
	"testing"
)

// speechLike is n samples of bursts of low-passed noise (200 ms on, 100 ms
// off at 8 kHz), deterministic for a seed: busy enough to correlate
// sharply, with silences like speech.
func speechLike(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	var lp float64
	for i := range x {
		lp = 0.6*lp + 0.4*(2*r.Float64()-1)
		if (i/800)%3 != 2 {
			x[i] = 8000 * lp
		}
	}
	return x
}

// delayed returns a copy of x delayed by d samples (d ≥ 0), length n.
func delayed(x []float64, d, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		if j := i - d; j >= 0 && j < len(x) {
			out[i] = x[j]
		}
	}
	return out
}

func TestXCorrMatchesDirectSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {7, 2}, {16, 16}, {100, 37}} {
		a, b := make([]float64, sz[0]), make([]float64, sz[1])
		for i := range a {
			a[i] = r.Float64() - 0.5
		}
		for i := range b {
			b[i] = r.Float64() - 0.5
		}
		c := XCorr(a, b)
		if len(c) != len(a)+len(b)-1 {
			t.Fatalf("%v: len %d, want %d", sz, len(c), len(a)+len(b)-1)
		}
		for l := -(len(a) - 1); l <= len(b)-1; l++ {
			var want float64
			for i := range a {
				if j := i + l; j >= 0 && j < len(b) {
					want += a[i] * b[j]
				}
			}
			if got := c[len(a)-1+l]; math.Abs(got-want) > 1e-9 {
				t.Fatalf("%v: lag %d: got %g, want %g", sz, l, got, want)
			}
		}
	}
}

func TestGlobalLag(t *testing.T) {
	ref := speechLike(40000, 3)
	noisy := delayed(ref, 1234, 48000)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range noisy {
		noisy[i] += 300 * (r.Float64() - 0.5)
	}
	for _, tc := range []struct {
		name           string
		rx             []float64
		minLag, maxLag int
		want           int
		minPeak        float64
	}{
		{"exact copy delayed", delayed(ref, 1234, 48000), 0, 8000, 1234, 0.999},
		{"noisy copy delayed", noisy, 0, 8000, 1234, 0.95},
		{"no delay", delayed(ref, 0, 40000), -100, 100, 0, 0.999},
		{"delay outside the range is not found", delayed(ref, 1234, 48000), 0, 1000, -1, 0},
		{"rx ahead of ref", ref[300:], -1000, 1000, -300, 0.99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lag, peak := GlobalLag(ref, tc.rx, tc.minLag, tc.maxLag)
			if tc.want == -1 {
				if lag == 1234 || peak > 0.5 {
					t.Fatalf("lag %d peak %.3f: a delay outside [%d, %d] was reported", lag, peak, tc.minLag, tc.maxLag)
				}
				return
			}
			if lag != tc.want || peak < tc.minPeak {
				t.Fatalf("lag %d peak %.4f, want %d with peak ≥ %.3f", lag, peak, tc.want, tc.minPeak)
			}
		})
	}
	if lag, peak := GlobalLag(make([]float64, 100), ref, 0, 10); lag != 0 || peak != 0 {
		t.Fatalf("silent ref: %d %g, want 0 0", lag, peak)
	}
}

// stepped returns ref played with delay d1 up to sample at (of ref), then
// d2: what a receiver does when its buffer grows (samples repeat) or
// shrinks (samples are skipped).
func stepped(ref []float64, d1, d2, at, n int) []float64 {
	out := make([]float64, n)
	for i := range ref {
		d := d1
		if i >= at {
			d = d2
		}
		if j := i + d; j < n {
			out[j] = ref[i]
		}
	}
	return out
}

func TestLocalLagsFollowADelayStep(t *testing.T) {
	ref := speechLike(48000, 9)
	rx := stepped(ref, 400, 640, 24000, 50000)
	ws := LocalLags(ref, rx, 800, 400, 1000, 100)
	if len(ws) != 60 {
		t.Fatalf("%d windows, want 60", len(ws))
	}
	for _, w := range ws {
		silent := (w.Start/800)%3 == 2
		if w.Active == silent {
			t.Fatalf("window at %d: active %v, want %v", w.Start, w.Active, !silent)
		}
		if !w.Active {
			continue
		}
		want := 400
		if w.Start >= 24000 {
			want = 640
		}
		if w.Lag != want || w.Peak < 0.999 {
			t.Fatalf("window at %d: lag %d peak %.4f, want %d ≈1", w.Start, w.Lag, w.Peak, want)
		}
	}
	if n := Steps(ws, 0.8, 16); n != 1 {
		t.Fatalf("%d steps, want 1", n)
	}
	if lag, ok := MedianLag(ws, 0.8); !ok || (lag != 400 && lag != 640) {
		t.Fatalf("median lag %d %v", lag, ok)
	}
	// Aligned with those windows, rx (played at half volume) is ref again.
	half := make([]float64, len(rx))
	for i, v := range rx {
		half[i] = v / 2
	}
	al := Aligned(ref, half, ws, 0.8, 0, 40)
	if db, n := SegSNR(ref, al, 160, 100); n == 0 || db < MaxFrameSNR-0.01 {
		t.Fatalf("aligned segSNR %.2f over %d frames, want %.0f", db, n, MaxFrameSNR)
	}
	// Aligned by the global lag alone, the second half is off by 240
	// samples: about half of the active sub-frames are impaired.
	fixed := Aligned(ref, rx, nil, 0.8, 400, 40)
	share, _ := Impaired(ref, fixed, 40, 100, 10)
	if share < 0.45 || share > 0.55 {
		t.Fatalf("impaired share with one global lag %.3f, want about 0.5", share)
	}
}

func TestAlignedFollowsAStepInsideAWindow(t *testing.T) {
	ref := speechLike(48000, 13)
	// The step falls in the middle of window 30 (24000..24800).
	rx := stepped(ref, 400, 560, 24400, 50000)
	ws := LocalLags(ref, rx, 800, 400, 1000, 100)
	al := Aligned(ref, rx, ws, 0.8, 400, 40)
	if share, _ := Impaired(ref, al, 40, 100, 10); share != 0 {
		t.Fatalf("impaired %.4f: intact speech around a step was misaligned", share)
	}
	// A lost 20 ms frame (silence in its place) stays impaired.
	lost := append([]float64(nil), rx...)
	clear(lost[400+8000 : 400+8160]) // ref 8000..8160: window 10, active
	ws = LocalLags(ref, lost, 800, 400, 1000, 100)
	al = Aligned(ref, lost, ws, 0.8, 400, 40)
	share, n := Impaired(ref, al, 40, 100, 10)
	if want := 4 / float64(n); math.Abs(share-want) > 1e-9 {
		t.Fatalf("impaired %.4f, want the 4 sub-frames of the lost frame (%.4f)", share, want)
	}
	if steps := Steps(ws, 0.8, 16); steps != 1 {
		t.Fatalf("%d steps, want 1", steps)
	}
}

func TestFrameSNR(t *testing.T) {
	ref := []float64{1000, -2000, 3000, -4000}
	for _, tc := range []struct {
		name string
		deg  []float64
		want float64
	}{
		{"identical clamps high", ref, MaxFrameSNR},
		{"silence is 0 dB", []float64{0, 0, 0, 0}, 0},
		{"10 % error is 20 dB", []float64{900, -1800, 2700, -3600}, 20},
		{"inverted clamps low", []float64{-1000, 2000, -3000, 4000}, 20 * math.Log10(0.5)},
		{"far off clamps low", []float64{-9000, 18000, -27000, 36000}, MinFrameSNR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FrameSNR(ref, tc.deg); math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("got %.4f dB, want %.4f", got, tc.want)
			}
		})
	}
	if got := FrameSNR([]float64{0, 0}, []float64{1, 1}); got != MinFrameSNR {
		t.Fatalf("silent ref: %g", got)
	}
}

func TestSegSNRAndImpaired(t *testing.T) {
	ref := speechLike(16000, 11) // 2 s: 400 sub-frames of 40, 280 active
	for _, tc := range []struct {
		name      string
		damage    func(deg []float64) // applied to a copy of ref
		wantSeg   float64
		wantShare float64
	}{
		{"perfect", func([]float64) {}, MaxFrameSNR, 0},
		{"three active sub-frames lost", func(d []float64) {
			for _, s := range []int{0, 40 * 60, 40 * 120} { // in active windows 0, 3 and 6
				clear(d[s : s+40])
			}
		}, -1, 3.0 / 280},
		{"a silent sub-frame damaged does not count", func(d []float64) {
			for i := 1600; i < 1640; i++ { // window 2 is silent
				d[i] = 5000
			}
		}, MaxFrameSNR, 0},
		{"everything at 5 dB", func(d []float64) {
			g := 1 - math.Pow(10, -5.0/20) // error = ref·10^(-5/20)
			for i := range d {
				d[i] *= g
			}
		}, 5, 1},
		{"everything at 15 dB", func(d []float64) {
			g := 1 - math.Pow(10, -15.0/20)
			for i := range d {
				d[i] *= g
			}
		}, 15, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deg := append([]float64(nil), ref...)
			tc.damage(deg)
			share, n := Impaired(ref, deg, 40, 100, 10)
			if n != 280 {
				t.Fatalf("%d active sub-frames, want 280", n)
			}
			if math.Abs(share-tc.wantShare) > 1e-9 {
				t.Fatalf("impaired %.4f, want %.4f", share, tc.wantShare)
			}
			db, frames := SegSNR(ref, deg, 160, 100)
			if frames == 0 {
				t.Fatal("no active frames")
			}
			if tc.wantSeg >= 0 && math.Abs(db-tc.wantSeg) > 0.01 {
				t.Fatalf("segSNR %.3f dB, want %.1f", db, tc.wantSeg)
			}
			if tc.wantSeg < 0 && (db >= MaxFrameSNR-1 || db <= 25) {
				t.Fatalf("segSNR %.3f dB: a few lost sub-frames should cost a little", db)
			}
		})
	}
}

func TestSteps(t *testing.T) {
	w := func(lag int, peak float64) Window { return Window{Lag: lag, Peak: peak, Active: true} }
	for _, tc := range []struct {
		name string
		ws   []Window
		want int
	}{
		{"none", nil, 0},
		{"steady", []Window{w(400, 1), w(400, 1), w(401, 1), w(399, 1)}, 0},
		{"within tolerance", []Window{w(400, 1), w(416, 1), w(400, 1)}, 0},
		{"one up one down", []Window{w(400, 1), w(417, 1), w(417, 1), w(400, 1), w(400, 1)}, 2},
		{"one window off is not a step", []Window{w(400, 1), w(460, 0.8), w(400, 1), w(400, 1)}, 0},
		{"a change in the last window is not confirmed", []Window{w(400, 1), w(400, 1), w(560, 1)}, 0},
		{"an unsure window is skipped", []Window{w(400, 1), w(900, 0.3), w(400, 1)}, 0},
		{"a step across an unsure window counts once", []Window{w(400, 1), w(900, 0.3), w(800, 0.9), w(810, 1)}, 1},
		{"inactive windows are skipped", []Window{w(400, 1), {Lag: 0, Peak: 1}, w(400, 1)}, 0},
		{"a drift within tolerance per window is confirmed", []Window{w(400, 1), w(420, 1), w(430, 1)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Steps(tc.ws, 0.8, 16); got != tc.want {
				t.Fatalf("%d steps, want %d", got, tc.want)
			}
		})
	}
}

func TestActiveThreshold(t *testing.T) {
	x := make([]float64, 400)
	for i := 40; i < 80; i++ {
		x[i] = 1000 // one sub-frame with RMS 1000
	}
	if got := ActiveThreshold(x, 40, 40); math.Abs(got-10) > 1e-9 {
		t.Fatalf("threshold %g, want 10 (40 dB under 1000)", got)
	}
}

func TestImpairedRuns(t *testing.T) {
	ref := speechLike(16000, 17) // windows 0,1 active, 2 silent, …
	for _, tc := range []struct {
		name    string
		bad     [][2]int // sub-frame ranges [from, to) zeroed in deg
		gap     int
		runs    int
		meanLen float64
	}{
		{"none", nil, 1, 0, 0},
		{"one lost frame", [][2]int{{4, 8}}, 1, 1, 4},
		{"two frames far apart", [][2]int{{4, 8}, {60, 66}}, 1, 2, 5},
		{"a good sub-frame between two bad ones joins them", [][2]int{{4, 8}, {9, 10}}, 1, 1, 6},
		{"with gap 0 it does not", [][2]int{{4, 8}, {9, 10}}, 0, 2, 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deg := append([]float64(nil), ref...)
			for _, r := range tc.bad {
				clear(deg[40*r[0] : 40*r[1]])
			}
			runs, mean := ImpairedRuns(ref, deg, 40, 100, 10, tc.gap)
			if runs != tc.runs || math.Abs(mean-tc.meanLen) > 1e-9 {
				t.Fatalf("%d runs of %.2f, want %d of %.2f", runs, mean, tc.runs, tc.meanLen)
			}
		})
	}
}

func TestSubSampleLagAndShift(t *testing.T) {
	ref := speechLike(24000, 19)
	// rx is ref delayed by 10.5 samples: a half-sample shift of a 10
	// sample delay.
	rx := Shift(delayed(ref, 11, 26000), 0.5)
	lag, _ := GlobalLag(ref, rx, 0, 100)
	if lag != 10 && lag != 11 {
		t.Fatalf("integer lag %d, want 10 or 11", lag)
	}
	frac := SubSampleLag(ref, rx, lag)
	if math.Abs(frac-10.5) > 0.1 {
		t.Fatalf("sub-sample lag %.3f, want 10.5", frac)
	}
	sil := 100.0
	score := func(rx []float64, lag int) float64 {
		ws := LocalLags(ref, rx, 800, lag, 20, sil)
		db, _ := SegSNR(ref, Aligned(ref, rx, ws, 0.6, lag, 40), 160, sil)
		return db
	}
	coarse := score(rx, lag)
	fl := math.Floor(frac)
	fine := score(Shift(rx, frac-fl), int(fl))
	if fine < 20 || fine < coarse+12 {
		t.Fatalf("segSNR %.1f dB at the integer lag, %.1f dB shifted by the fraction: want the fraction to recover ≥ 20 dB (the test signal reaches Nyquist, where a 33-tap sinc is not exact)", coarse, fine)
	}
	if got := SubSampleLag(ref, delayed(ref, 7, 25000), 7); math.Abs(got-7) > 0.05 {
		t.Fatalf("whole-sample delay refined to %.3f", got)
	}
	if got := Shift([]float64{1, 2, 3}, 0); got[0] != 1 || got[2] != 3 {
		t.Fatalf("Shift by 0 = %v", got)
	}
}
