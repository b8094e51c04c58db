package analyze_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/g711"
	"github.com/teaphone/teaphone/audio/tone"
)

// sine returns n samples of a sine at rate.
func sine(n, rate int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

func add(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = int16(min(max(int(a[i])+int(b[i]), -32768), 32767))
	}
	return out
}

func noise(n int, amp float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * 32767 * (2*r.Float64() - 1))
	}
	return s
}

func TestToneShare(t *testing.T) {
	s := sine(8000, 8000, 1000, 0.5)
	tests := []struct {
		name     string
		x        []int16
		freq     float64
		min, max float64
	}{
		{"on tone", s, 1000, 0.99, 1},
		{"off tone", s, 1300, 0, 0.01},
		{"silence", make([]int16, 800), 1000, 0, 0},
		{"empty", nil, 1000, 0, 0},
		{"tone+equal noise", add(sine(8000, 8000, 1000, 0.3), noise(8000, 0.3*math.Sqrt(1.5), 1)), 1000, 0.4, 0.6},
		{"48k", sine(48000, 48000, 1000, 0.5), 1000, 0.99, 1},
	}
	for _, tt := range tests {
		rate := 8000
		if tt.name == "48k" {
			rate = 48000
		}
		if got := analyze.ToneShare(tt.x, rate, tt.freq); got < tt.min || got > tt.max {
			t.Errorf("%s: share %.3f, want [%v, %v]", tt.name, got, tt.min, tt.max)
		}
	}
	shares := analyze.FrameToneShares(append(sine(800, 8000, 1000, 0.5), make([]int16, 880)...), 8000, 1000)
	if len(shares) != 10 || shares[0] < 0.99 || shares[4] < 0.99 || shares[5] != 0 || shares[9] != 0 {
		t.Errorf("FrameToneShares = %.2f", shares)
	}
}

func TestDominantFrequency(t *testing.T) {
	tests := []struct {
		name string
		x    []int16
		rate int
		want float64
		tol  float64
	}{
		{"1 kHz", sine(8000, 8000, 1000, 0.5), 8000, 1000, 0.2},
		{"1 kHz 48k", sine(48000, 48000, 1000, 0.5), 48000, 1000, 0.2},
		{"odd freq", sine(8000, 8000, 1234.5, 0.5), 8000, 1234.5, 0.2},
		{"dual tone, louder 480", add(sine(8000, 8000, 440, 0.2), sine(8000, 8000, 480, 0.4)), 8000, 480, 0.5},
		{"noisy 700", add(sine(8000, 8000, 700, 0.5), noise(8000, 0.2, 2)), 8000, 700, 0.5},
		{"through µ-law", ulaw(sine(8000, 8000, 1000, 0.5)), 8000, 1000, 0.2},
		{"silence", make([]int16, 8000), 8000, 0, 0},
		{"too short", sine(100, 8000, 1000, 0.5), 8000, 0, 0},
	}
	for _, tt := range tests {
		if got := analyze.DominantFrequency(tt.x, tt.rate); math.Abs(got-tt.want) > tt.tol {
			t.Errorf("%s: %.3f Hz, want %v±%v", tt.name, got, tt.want, tt.tol)
		}
	}
	if zc := analyze.ZeroCrossingFrequency(sine(8000, 8000, 1000, 0.5), 8000); math.Abs(zc-1000) > 0.2 {
		t.Errorf("ZeroCrossingFrequency = %v", zc)
	}
	if zc := analyze.ZeroCrossingFrequency(make([]int16, 10), 8000); zc != 0 {
		t.Errorf("ZeroCrossingFrequency(silence) = %v", zc)
	}
}

func ulaw(x []int16) []int16 {
	c := make([]byte, len(x))
	g711.EncodeUlaw(c, x)
	out := make([]int16, len(x))
	g711.DecodeUlaw(out, c)
	return out
}

func TestLevels(t *testing.T) {
	square := make([]int16, 800)
	for i := range square {
		square[i] = 32767
		if i%2 == 1 {
			square[i] = -32768
		}
	}
	tests := []struct {
		name string
		x    []int16
		db   float64
	}{
		{"full-scale square", square, 0},
		{"full-scale sine", sine(8000, 8000, 1000, 1), -3.01},
		{"-20 dB sine", sine(8000, 8000, 1000, 0.1), -23.01},
	}
	for _, tt := range tests {
		if got := analyze.DBFS(tt.x); math.Abs(got-tt.db) > 0.02 {
			t.Errorf("%s: %.3f dBFS, want %v", tt.name, got, tt.db)
		}
	}
	if !math.IsInf(analyze.DBFS(make([]int16, 10)), -1) || !math.IsInf(analyze.DBFS(nil), -1) {
		t.Error("silence is not -Inf dBFS")
	}
	if r := analyze.RMS(nil); r != 0 {
		t.Errorf("RMS(nil) = %v", r)
	}
	if p := analyze.Peak([]int16{3, -32768, 5}); p != 1 {
		t.Errorf("Peak = %v", p)
	}
}

func TestActiveFrames(t *testing.T) {
	x := append(sine(8000, 8000, 1000, 0.1), make([]int16, 8000)...) // 1 s tone, 1 s silence
	x = append(x, noise(8000, 0.001, 3)...)                          // 1 s at about -65 dBFS
	tests := []struct {
		threshold float64
		want      int
	}{{-40, 50}, {-80, 100}, {0, 0}}
	for _, tt := range tests {
		if got := analyze.ActiveFrames(x, 8000, tt.threshold); got != tt.want {
			t.Errorf("ActiveFrames(%v dBFS) = %d, want %d", tt.threshold, got, tt.want)
		}
	}
}

// dtmfSignal plays digits with the tone package's generator.
func dtmfSignal(t *testing.T, digits string, on, off time.Duration) []int16 {
	t.Helper()
	var out []int16
	frame := make([]int16, 160)
	for _, d := range digits {
		g, err := tone.NewDTMF(d, on, off)
		if err != nil {
			t.Fatal(err)
		}
		for g.ReadFrame(frame) == nil {
			out = append(out, frame...)
		}
	}
	return out
}

func TestDetectDTMF(t *testing.T) {
	ms := time.Millisecond
	all := "0123456789*#ABCD"
	tests := []struct {
		name string
		x    []int16
		want string
	}{
		{"all digits 100/100", dtmfSignal(t, all, 100*ms, 100*ms), all},
		{"fast 40/40", dtmfSignal(t, "159#", 40*ms, 40*ms), "159#"},
		{"repeated digit", dtmfSignal(t, "1111", 60*ms, 60*ms), "1111"},
		{"through µ-law", ulaw(dtmfSignal(t, "8*0", 80*ms, 80*ms)), "8*0"},
		{"with noise", add(dtmfSignal(t, "42", 100*ms, 100*ms), noise(3200, 0.05, 4)), "42"},
		{"too short 20 ms", dtmfSignal(t, "5", 20*ms, 100*ms), ""},
		{"single tone", sine(8000, 8000, 697, 0.5), ""},
		{"ringback", add(sine(8000, 8000, 440, 0.3), sine(8000, 8000, 480, 0.3)), ""},
		{"noise", noise(8000, 0.5, 5), ""},
		{"silence", make([]int16, 8000), ""},
	}
	for _, tt := range tests {
		if got := analyze.DetectDTMF(tt.x, 8000); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCrossCorrelateDelay(t *testing.T) {
	click := make([]int16, 2000)
	for i := range 40 { // a short decaying burst
		click[300+i] = int16(20000 * math.Exp(-float64(i)/8) * math.Cos(float64(i)))
	}
	delayed := func(x []int16, d int, gain float64) []int16 {
		out := make([]int16, len(x))
		for i := range x {
			if j := i - d; j >= 0 && j < len(x) {
				out[i] = int16(float64(x[j]) * gain)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		a, b    []int16
		maxLag  int
		lag     int
		minPeak float64
	}{
		{"same", click, click, 100, 0, 0.999},
		{"delayed 37, half gain", click, delayed(click, 37, 0.5), 100, 37, 0.99},
		{"early 12", click, delayed(click, -12, 1), 100, -12, 0.99},
		{"noisy 250", click, add(delayed(click, 250, 0.8), noise(2000, 0.02, 6)), 400, 250, 0.5},
		{"unrelated noise", noise(2000, 0.5, 7), noise(2000, 0.5, 8), 50, 0, -1},
	}
	for _, tt := range tests {
		lag, peak := analyze.CrossCorrelateDelay(tt.a, tt.b, tt.maxLag)
		if tt.minPeak < 0 {
			if peak > 0.2 {
				t.Errorf("%s: lag %d peak %.3f; want no match", tt.name, lag, peak)
			}
			continue
		}
		if lag != tt.lag || peak < tt.minPeak {
			t.Errorf("%s: lag %d peak %.3f, want %d ≥ %v", tt.name, lag, peak, tt.lag, tt.minPeak)
		}
	}
	if lag, peak := analyze.CrossCorrelateDelay(make([]int16, 100), click, 50); lag != 0 || peak != 0 {
		t.Errorf("silent a: %d %v", lag, peak)
	}
	if lag, peak := analyze.CrossCorrelateDelay(nil, nil, -5); lag != 0 || peak != 0 {
		t.Errorf("empty: %d %v", lag, peak)
	}
}
