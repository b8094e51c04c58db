package quality

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// Formants (Hz) of three vowels (Peterson and Barney 1952, male means).
var (
	vowelA = []float64{730, 1090, 2440}
	vowelI = []float64{270, 2290, 3010}
	vowelU = []float64{300, 870, 2240}
)

// vowel is n samples at 8 kHz of a pulse train at f0 Hz through
// resonators at the formants (bandwidth 80 Hz), scaled to RMS 3000.
func vowel(n int, f0 float64, formants []float64) []float64 {
	x := make([]float64, n)
	period := 8000 / f0
	for k := 0.0; int(k) < n; k += period {
		x[int(k)] = 1
	}
	for _, f := range formants {
		r := math.Exp(-math.Pi * 80 / 8000)
		a1, a2 := 2*r*math.Cos(2*math.Pi*f/8000), -r*r
		var y1, y2 float64
		for i, v := range x {
			y := v + a1*y1 + a2*y2
			x[i], y2, y1 = y, y1, y
		}
	}
	g := 3000 / rms(x)
	for i := range x {
		x[i] *= g
	}
	return x
}

// vowels is 1.5 s of speech-like sound: /a/, /i/, /u/ of 0.4 s each
// (f0 110, 125, 140 Hz) with 0.1 s of silence after each.
func vowels() []float64 {
	var x []float64
	for i, f := range [][]float64{vowelA, vowelI, vowelU} {
		x = append(x, vowel(3200, 110+15*float64(i), f)...)
		x = append(x, make([]float64, 800)...)
	}
	return x
}

// phaseShifted turns every frequency component of x by phi radians.
func phaseShifted(x []float64, phi float64) []float64 {
	size := 1
	for size < len(x) {
		size <<= 1
	}
	c := make([]complex128, size)
	for i, v := range x {
		c[i] = complex(v, 0)
	}
	fft(c, false)
	for k := 1; k < size/2; k++ {
		c[k] *= cmplx.Rect(1, phi)
		c[size-k] *= cmplx.Rect(1, -phi)
	}
	fft(c, true)
	out := make([]float64, len(x))
	for i := range out {
		out[i] = real(c[i]) / float64(size)
	}
	return out
}

// allPass is x through three first-order all-pass sections (coefficients
// 0.6, -0.4, 0.8): the magnitude unchanged, the phase bent.
func allPass(x []float64) []float64 {
	out := append([]float64(nil), x...)
	for _, a := range []float64{0.6, -0.4, 0.8} {
		var x1, y1 float64
		for i, v := range out {
			y := -a*v + x1 + a*y1
			x1, y1 = v, y
			out[i] = y
		}
	}
	return out
}

func TestSpectralImpaired(t *testing.T) {
	ref := vowels()
	const silence = 100
	active := len(Narrowband.Score(ref, ref, silence).FrameDB)
	if active < 110 {
		t.Fatalf("%d active frames in 1.2 s of vowels", active)
	}
	for _, tc := range []struct {
		name         string
		deg          func() []float64
		minBad       int
		maxBad       int
		minMean      float64
		wantOnlyNear int // the impaired frames must overlap [wantOnlyNear, +160) (-1: anywhere)
	}{
		{"identical", func() []float64 { return append([]float64(nil), ref...) }, 0, 0, MaxFrameSNR, -1},
		{"phase turned by 90°", func() []float64 { return phaseShifted(ref, math.Pi/2) }, 0, 0, 20, -1},
		{"inverted", func() []float64 { return phaseShifted(ref, math.Pi) }, 0, 0, MaxFrameSNR - 0.01, -1},
		{"all-pass filtered", func() []float64 { return allPass(ref) }, 0, 0, 15, -1},
		{"a louder copy (gain 1.4)", func() []float64 {
			d := append([]float64(nil), ref...)
			for i := range d {
				d[i] *= 1.4
			}
			return d
		}, 0, 0, MaxFrameSNR - 0.01, -1},
		{"white noise 20 dB down", func() []float64 {
			r := rand.New(rand.NewPCG(3, 4))
			d := append([]float64(nil), ref...)
			for i := range d {
				d[i] += 300 * math.Sqrt(3) * (2*r.Float64() - 1) // RMS 300: −20 dB
			}
			return d
		}, 0, 0, 15, -1},
		{"20 ms played as silence", func() []float64 {
			d := append([]float64(nil), ref...)
			clear(d[1600 : 1600+160])
			return d
		}, 1, 3, 0, 1600},
		{"20 ms played as silence, off the frame grid", func() []float64 {
			d := append([]float64(nil), ref...)
			clear(d[1640 : 1640+160])
			return d
		}, 1, 3, 0, 1640},
		{"20 ms of /a/ replaced by /i/", func() []float64 {
			d := append([]float64(nil), ref...)
			copy(d[1600:1760], vowel(3200, 110, vowelI)[1600:1760])
			return d
		}, 1, 3, 0, 1600},
		{"20 ms of /i/ replaced by /u/", func() []float64 {
			d := append([]float64(nil), ref...)
			copy(d[4000+1600:4000+1760], vowel(3200, 125, vowelU)[1600:1760])
			return d
		}, 1, 3, 0, 5600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Narrowband.Score(ref, tc.deg(), silence)
			if len(s.FrameDB) != active {
				t.Fatalf("%d active frames, want %d", len(s.FrameDB), active)
			}
			bad := 0
			for i, db := range s.FrameDB {
				if db >= SpectralImpairedDB {
					continue
				}
				bad++
				if st := s.Starts[i]; tc.wantOnlyNear < 0 || st+160 <= tc.wantOnlyNear || st >= tc.wantOnlyNear+160 {
					t.Errorf("frame at %d impaired (%.1f dB)", st, db)
				}
			}
			if bad < tc.minBad || bad > tc.maxBad {
				t.Errorf("%d frames impaired, want %d..%d", bad, tc.minBad, tc.maxBad)
			}
			if got := s.Impaired(SpectralImpairedDB); math.Abs(got-float64(bad)/float64(active)) > 1e-12 {
				t.Errorf("Impaired %.4f, counted %d/%d", got, bad, active)
			}
			if s.Mean() < tc.minMean {
				t.Errorf("mean %.2f dB, want ≥ %.1f", s.Mean(), tc.minMean)
			}
			lo := MaxFrameSNR
			for _, db := range s.FrameDB {
				lo = min(lo, db)
			}
			t.Logf("%d impaired, mean %.1f dB, worst %.1f dB, gain %.3f", bad, s.Mean(), lo, s.Gain)
		})
	}
}

func TestSpectralSilencedFrameIsZeroDB(t *testing.T) {
	ref := vowel(800, 120, vowelA)
	deg := append([]float64(nil), ref...)
	clear(deg[320:480])
	s := Narrowband.Score(ref, deg, 1)
	for i, st := range s.Starts {
		if st == 320 && math.Abs(s.FrameDB[i]) > 1e-9 {
			t.Fatalf("the silenced frame reads %.3f dB, want 0", s.FrameDB[i])
		}
	}
	if got := Narrowband.Score(ref, ref, 1e9); len(got.FrameDB) != 0 || got.Mean() != 0 || got.Impaired(5) != 0 {
		t.Fatalf("all silent: %+v", got)
	}
}

// The reason for Spectral: the waveform measure calls a copy with its phase
// turned (as a perceptual codec may leave it) all impaired.
func TestWaveformMeasureCallsPhaseImpaired(t *testing.T) {
	ref := vowels()
	deg := phaseShifted(ref, math.Pi/2)
	if share, _ := Impaired(ref, deg, 40, 100, 10); share < 0.9 {
		t.Fatalf("waveform: %.2f impaired, want nearly all", share)
	}
	if share := Narrowband.Score(ref, deg, 100).Impaired(SpectralImpairedDB); share != 0 {
		t.Fatalf("spectral: %.2f impaired, want 0", share)
	}
}
