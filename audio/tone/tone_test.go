package tone_test

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/tone"
)

// record reads frames from src until io.EOF or max frames.
func record(t *testing.T, src audio.Source, max int) (samples []int16, eof bool) {
	t.Helper()
	frame := make([]int16, audio.FrameSamples)
	for range max {
		err := src.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return samples, true
		}
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, frame...)
	}
	return samples, false
}

func frames(d time.Duration) int { return int(d / audio.FrameDuration) }

func TestSine(t *testing.T) {
	tests := []struct {
		freq, amp float64
	}{
		{1000, 0.5}, {440, 1}, {3999, 0.1}, {50, 0.25},
	}
	for _, tt := range tests {
		s, _ := record(t, tone.NewSine(tt.freq, tt.amp), 50)
		if f := analyze.DominantFrequency(s, audio.SampleRate); math.Abs(f-tt.freq) > 0.5 {
			t.Errorf("%v Hz: dominant %v Hz", tt.freq, f)
		}
		wantDB := 20 * math.Log10(tt.amp*32767/32768/math.Sqrt2)
		if db := analyze.DBFS(s); math.Abs(db-wantDB) > 0.05 {
			t.Errorf("%v Hz amp %v: %.2f dBFS, want %.2f", tt.freq, tt.amp, db, wantDB)
		}
		if p := analyze.Peak(s); p > tt.amp+1e-4 || p < tt.amp*0.99 {
			t.Errorf("%v Hz amp %v: peak %v", tt.freq, tt.amp, p)
		}
	}
}

// TestPhaseContinuous: frame-by-frame output equals one long read, and
// consecutive samples never jump more than the sine's slope allows.
func TestPhaseContinuous(t *testing.T) {
	const f, a = 1234.5, 0.8
	framed, _ := record(t, tone.NewSine(f, a), 20)
	long := make([]int16, len(framed))
	tone.NewSine(f, a).ReadFrame(long)
	odd := make([]int16, 0, len(framed))
	g := tone.NewSine(f, a)
	for len(odd) < len(framed) { // odd-sized reads
		buf := make([]int16, min(37, len(framed)-len(odd)))
		g.ReadFrame(buf)
		odd = append(odd, buf...)
	}
	maxStep := 2*math.Pi*f/audio.SampleRate*a*32767 + 1
	for i := range framed {
		if framed[i] != long[i] || framed[i] != odd[i] {
			t.Fatalf("sample %d: framed %d, long %d, odd %d", i, framed[i], long[i], odd[i])
		}
		if i > 0 && math.Abs(float64(framed[i])-float64(framed[i-1])) > maxStep {
			t.Fatalf("jump at %d: %d -> %d", i, framed[i-1], framed[i])
		}
	}
}

func TestDTMFFreqs(t *testing.T) {
	tests := []struct {
		d         rune
		low, high float64
		ok        bool
	}{
		{'1', 697, 1209, true}, {'5', 770, 1336, true}, {'9', 852, 1477, true},
		{'0', 941, 1336, true}, {'*', 941, 1209, true}, {'#', 941, 1477, true},
		{'A', 697, 1633, true}, {'d', 941, 1633, true}, {'x', 0, 0, false}, {'E', 0, 0, false},
	}
	for _, tt := range tests {
		low, high, ok := tone.DTMFFreqs(tt.d)
		if low != tt.low || high != tt.high || ok != tt.ok {
			t.Errorf("DTMFFreqs(%q) = %v, %v, %v", tt.d, low, high, ok)
		}
	}
	if tone.DTMFDigit(3, 2) != '#' || tone.DTMFDigit(4, 0) != 0 {
		t.Error("DTMFDigit")
	}
}

func TestDTMF(t *testing.T) {
	for _, d := range "0123456789*#ABCD" {
		g, err := tone.NewDTMF(d, 100*time.Millisecond, 60*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		s, eof := record(t, g, 100)
		if !eof || len(s) != 8*audio.FrameSamples { // 160 ms
			t.Errorf("%q: %d samples, eof %v", d, len(s), eof)
		}
		low, high, _ := tone.DTMFFreqs(d)
		on := s[:800]
		if sl, sh := analyze.ToneShare(on, 8000, low), analyze.ToneShare(on, 8000, high); sl+sh < 0.95 || sh < sl {
			t.Errorf("%q: shares low %.2f high %.2f", d, sl, sh)
		}
		if got := analyze.DetectDTMF(s, audio.SampleRate); got != string(d) {
			t.Errorf("%q detected as %q", d, got)
		}
		if p := analyze.Peak(s); p > 0.81 || p < 0.7 {
			t.Errorf("%q: peak %.3f", d, p)
		}
		if db := analyze.DBFS(s[800:]); !math.IsInf(db, -1) {
			t.Errorf("%q: off part at %.1f dBFS", d, db)
		}
		if err := g.ReadFrame(make([]int16, 160)); !errors.Is(err, io.EOF) {
			t.Errorf("%q: after end: %v", d, err)
		}
		g.Reset()
		if err := g.ReadFrame(make([]int16, 160)); err != nil {
			t.Errorf("%q: after Reset: %v", d, err)
		}
	}
	for _, bad := range []struct {
		d       rune
		on, off time.Duration
	}{{'x', time.Second, 0}, {'1', 0, time.Second}, {'1', time.Second, -1}} {
		if _, err := tone.NewDTMF(bad.d, bad.on, bad.off); err == nil {
			t.Errorf("NewDTMF(%q, %v, %v) accepted", bad.d, bad.on, bad.off)
		}
	}
}

// cadence returns, per 20 ms frame, whether it is above -60 dBFS.
func cadence(s []int16) []bool {
	var on []bool
	for off := 0; off+160 <= len(s); off += 160 {
		on = append(on, analyze.DBFS(s[off:off+160]) > -60)
	}
	return on
}

// checkCadence compares activity per frame with want (on/off durations, repeated).
func checkCadence(t *testing.T, name string, got []bool, want ...time.Duration) {
	t.Helper()
	i := 0
	for i < len(got) {
		for k, d := range want {
			for range frames(d) {
				if i == len(got) {
					return
				}
				if got[i] != (k%2 == 0) {
					t.Fatalf("%s: frame %d (%v) on=%v, want %v", name, i, time.Duration(i)*audio.FrameDuration, got[i], k%2 == 0)
				}
				i++
			}
		}
	}
}

func TestProgressTones(t *testing.T) {
	const s = time.Second
	ms := time.Millisecond
	tests := []struct {
		name    string
		g       *tone.Tone
		freqs   []float64
		cadence []time.Duration
	}{
		{"ringback us", tone.Ringback(tone.RegionUS), []float64{440, 480}, []time.Duration{2 * s, 4 * s}},
		{"ringback eu", tone.Ringback(tone.RegionEU), []float64{425}, []time.Duration{1 * s, 4 * s}},
		{"ringback uk", tone.Ringback(tone.RegionUK), []float64{400, 450}, []time.Duration{400 * ms, 200 * ms, 400 * ms, 2 * s}},
		{"ringback unknown", tone.Ringback("mars"), []float64{440, 480}, []time.Duration{2 * s, 4 * s}},
		{"busy us", tone.Busy(tone.RegionUS), []float64{480, 620}, []time.Duration{500 * ms, 500 * ms}},
		{"busy eu", tone.Busy(tone.RegionEU), []float64{425}, []time.Duration{500 * ms, 500 * ms}},
		{"ring", tone.Ring(), []float64{800, 1000}, []time.Duration{400 * ms, 200 * ms, 400 * ms, 2 * s}},
	}
	for _, tt := range tests {
		samples, eof := record(t, tt.g, frames(13*s))
		if eof {
			t.Fatalf("%s ended", tt.name)
		}
		checkCadence(t, tt.name, cadence(samples), tt.cadence...)
		on := samples[:frames(tt.cadence[0])*160]
		var share float64
		for _, f := range tt.freqs {
			share += analyze.ToneShare(on, audio.SampleRate, f)
		}
		if share < 0.95 {
			t.Errorf("%s: share at %v = %.2f", tt.name, tt.freqs, share)
		}
	}
}

func TestParseRegion(t *testing.T) {
	for _, r := range tone.Regions() {
		if got, err := tone.ParseRegion(" " + string(r) + " "); err != nil || got != r {
			t.Errorf("ParseRegion(%q) = %q, %v", r, got, err)
		}
	}
	if got, err := tone.ParseRegion("EU"); err != nil || got != tone.RegionEU {
		t.Errorf("ParseRegion(EU) = %q, %v", got, err)
	}
	if _, err := tone.ParseRegion("xx"); err == nil {
		t.Error("ParseRegion(xx) accepted")
	}
}

func TestPatternEdgeCases(t *testing.T) {
	// Sum of amplitudes above 1 saturates instead of wrapping.
	g := tone.New(tone.Pattern{Freqs: [2]float64{100, 100}, Amplitudes: [2]float64{1, 1}})
	s, _ := record(t, g, 5)
	for i := 1; i < len(s); i++ {
		if d := int(s[i]) - int(s[i-1]); d > 6000 || d < -6000 {
			t.Fatalf("wrap at %d: %d -> %d", i, s[i-1], s[i])
		}
	}
	// An all-zero cadence is silence, not a hang.
	g = tone.New(tone.Pattern{Freqs: [2]float64{100}, Amplitudes: [2]float64{1}, Cadence: []time.Duration{0, 0}})
	if s, _ := record(t, g, 3); analyze.Peak(s) != 0 {
		t.Error("zero cadence produced sound")
	}
	if p := tone.Ring().Pattern(); p.Freqs[0] != 800 {
		t.Errorf("Pattern() = %+v", p)
	}
	if l := tone.Level(-6); math.Abs(l-0.501) > 0.001 {
		t.Errorf("Level(-6) = %v", l)
	}
	if math.Abs(tone.Level(-9)-tone.DTMFLowAmplitude) > 1e-12 || math.Abs(tone.Level(-7)-tone.DTMFHighAmplitude) > 1e-12 {
		t.Error("DTMF amplitude constants")
	}
}

func TestSilence(t *testing.T) {
	f := []int16{1, 2, 3}
	var src audio.Source = tone.Silence{}
	if err := src.ReadFrame(f); err != nil || f[0] != 0 || f[2] != 0 {
		t.Errorf("Silence: %v %v", f, err)
	}
}

func TestNoAllocs(t *testing.T) {
	frame := make([]int16, audio.FrameSamples)
	for name, g := range map[string]audio.Source{"sine": tone.NewSine(1000, 0.5), "ring": tone.Ring(), "silence": tone.Silence{}} {
		if a := testing.AllocsPerRun(100, func() { g.ReadFrame(frame) }); a != 0 {
			t.Errorf("%s: %v allocs per frame", name, a)
		}
	}
}

func BenchmarkDualToneFrame(b *testing.B) {
	g := tone.Ringback(tone.RegionUS)
	frame := make([]int16, audio.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		g.ReadFrame(frame)
	}
}
