package resample

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio/analyze"
)

func sine(n, rate int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

// run streams x through r in chunks of size chunk.
func run(t testing.TB, r *Resampler, x []int16, chunk int) []int16 {
	t.Helper()
	var out []int16
	buf := make([]int16, r.MaxOut(chunk)+r.MaxOut(1)+1)
	for off := 0; off < len(x); off += chunk {
		in := x[off:min(off+chunk, len(x))]
		want := r.MaxOut(len(in))
		n, err := r.Process(buf, in)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("Process gave %d, MaxOut said %d", n, want)
		}
		out = append(out, buf[:n]...)
	}
	return out
}

func mustNew(t testing.TB, in, out int) *Resampler {
	t.Helper()
	r, err := New(in, out)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRoundTrip: a 1 kHz tone taken 8k -> device rate -> 8k keeps its
// frequency and level (within 1 dB; in practice within 0.05 dB).
func TestRoundTrip(t *testing.T) {
	for _, rate := range []int{16000, 44100, 48000, 32000, 22050, 11025} {
		x := sine(8000, 8000, 1000, 0.5) // 1 s
		up := run(t, mustNew(t, 8000, rate), x, 160)
		if len(up) != rate {
			t.Errorf("%d: %d samples up, want %d", rate, len(up), rate)
		}
		steady := up[rate/10:] // skip the filter's start-up
		if f := analyze.DominantFrequency(steady, rate); math.Abs(f-1000) > 0.5 {
			t.Errorf("8k->%d: %.2f Hz", rate, f)
		}
		if d := analyze.DBFS(steady) - analyze.DBFS(x); math.Abs(d) > 0.1 {
			t.Errorf("8k->%d: level changed %.3f dB", rate, d)
		}
		down := run(t, mustNew(t, rate, 8000), up, rate/50)
		if len(down) != 8000 {
			t.Errorf("%d: %d samples back, want 8000", rate, len(down))
		}
		steady = down[1600:]
		if f := analyze.DominantFrequency(steady, 8000); math.Abs(f-1000) > 0.5 {
			t.Errorf("8k->%d->8k: %.2f Hz", rate, f)
		}
		if d := analyze.DBFS(steady) - analyze.DBFS(x); math.Abs(d) > 0.1 { // the requirement is 1 dB
			t.Errorf("8k->%d->8k: level changed %.3f dB", rate, d)
		}
		if s := analyze.ToneShare(steady, 8000, 1000); s < 0.999 {
			t.Errorf("8k->%d->8k: tone share %.4f", rate, s)
		}
	}
}

// TestPassband: telephone-band tones keep their level through 8k->48k.
func TestPassband(t *testing.T) {
	for _, f := range []float64{300, 1000, 2000, 3000, 3400} {
		x := sine(8000, 8000, f, 0.5)
		up := run(t, mustNew(t, 8000, 48000), x, 160)[4800:]
		if d := analyze.DBFS(up) - analyze.DBFS(x); math.Abs(d) > 0.2 {
			t.Errorf("%v Hz: gain %.3f dB", f, d)
		}
	}
}

// TestImagesAndAliases: 8k->48k leaves no images of a 1 kHz tone (at 7, 9,
// 15 kHz ...), and 48k->8k removes a 6 kHz tone instead of aliasing it to 2 kHz.
func TestImagesAndAliases(t *testing.T) {
	up := run(t, mustNew(t, 8000, 48000), sine(8000, 8000, 1000, 0.5), 160)[4800:]
	for _, img := range []float64{7000, 9000, 15000, 17000} {
		if s := analyze.ToneShare(up, 48000, img); s > 1e-6 {
			t.Errorf("image at %v Hz: share %.2g", img, s)
		}
	}
	down := run(t, mustNew(t, 48000, 8000), sine(48000, 48000, 6000, 0.5), 960)[800:]
	if db := analyze.DBFS(down); db > -70 {
		t.Errorf("6 kHz tone at 48k left %.1f dBFS after 48k->8k", db)
	}
	down = run(t, mustNew(t, 44100, 8000), sine(44100, 44100, 4500, 0.5), 882)[800:]
	if db := analyze.DBFS(down); db > -60 {
		t.Errorf("4.5 kHz tone at 44.1k left %.1f dBFS after 44.1k->8k", db)
	}
}

// TestChunking: the output does not depend on how the input is cut.
func TestChunking(t *testing.T) {
	for _, rates := range [][2]int{{8000, 48000}, {8000, 44100}, {44100, 8000}, {48000, 8000}, {16000, 8000}} {
		x := sine(rates[0]/2, rates[0], 777, 0.7)
		whole := run(t, mustNew(t, rates[0], rates[1]), x, len(x))
		for _, chunk := range []int{1, 37, rates[0] / 50, 1000} {
			got := run(t, mustNew(t, rates[0], rates[1]), x, chunk)
			if len(got) != len(whole) {
				t.Fatalf("%v chunk %d: %d samples, want %d", rates, chunk, len(got), len(whole))
			}
			for i := range got {
				if got[i] != whole[i] {
					t.Fatalf("%v chunk %d: sample %d differs", rates, chunk, i)
				}
			}
		}
	}
}

// TestFrameCounts: every 20 ms frame maps to exactly one 20 ms frame.
func TestFrameCounts(t *testing.T) {
	for _, rates := range [][2]int{{8000, 48000}, {8000, 44100}, {44100, 8000}, {48000, 8000}, {8000, 16000}, {8000, 8000}} {
		r := mustNew(t, rates[0], rates[1])
		in := make([]int16, rates[0]/50)
		out := make([]int16, rates[1]/50)
		for range 100 {
			if got := r.MaxOut(len(in)); got != len(out) {
				t.Fatalf("%v: MaxOut %d, want %d", rates, got, len(out))
			}
			if n, err := r.Process(out, in); n != len(out) || err != nil {
				t.Fatalf("%v: %d, %v", rates, n, err)
			}
		}
	}
}

func TestDelay(t *testing.T) {
	r := mustNew(t, 8000, 48000)
	if l := r.Latency(); l < 3900*time.Microsecond || l > 4100*time.Microsecond {
		t.Errorf("Latency = %v", l)
	}
	// An impulse comes out Latency later.
	x := make([]int16, 800)
	x[100] = 30000
	y := run(t, r, x, 160)
	peak := 0
	for i := range y {
		if abs(y[i]) > abs(y[peak]) {
			peak = i
		}
	}
	want := 600 + int(r.Latency().Seconds()*48000+0.5)
	if peak < want-1 || peak > want+1 {
		t.Errorf("impulse at %d, want %d", peak, want)
	}
	if mustNew(t, 8000, 8000).Latency() != 0 {
		t.Error("pass-through has latency")
	}
}

func abs(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

func TestErrorsAndReset(t *testing.T) {
	for _, rates := range [][2]int{{0, 8000}, {8000, -1}, {8000, 2_000_000}, {8000, 999_983}} {
		if _, err := New(rates[0], rates[1]); err == nil {
			t.Errorf("New(%d, %d) accepted", rates[0], rates[1])
		}
	}
	r := mustNew(t, 8000, 48000)
	if r.InRate() != 8000 || r.OutRate() != 48000 {
		t.Error("rates")
	}
	if _, err := r.Process(make([]int16, 959), make([]int16, 160)); err != io.ErrShortBuffer {
		t.Errorf("short dst: %v", err)
	}
	x := sine(160, 8000, 1000, 0.5)
	first := run(t, r, x, 160)
	r.Reset()
	if again := run(t, r, x, 160); len(again) != len(first) || again[500] != first[500] {
		t.Error("Reset does not restore the initial state")
	}
	// Saturation instead of wrap on a full-scale square wave (Gibbs overshoot).
	sq := make([]int16, 1600)
	for i := range sq {
		sq[i] = 32767
		if i/20%2 == 1 {
			sq[i] = -32768
		}
	}
	y := run(t, mustNew(t, 8000, 48000), sq, 160)
	for i := 1; i < len(y); i++ {
		if d := int(y[i]) - int(y[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("wrap at %d: %d -> %d", i, y[i-1], y[i])
		}
	}
}

func TestNoAllocs(t *testing.T) {
	r := mustNew(t, 8000, 44100)
	in, out := make([]int16, 160), make([]int16, 882)
	if a := testing.AllocsPerRun(100, func() { r.Process(out, in) }); a != 0 {
		t.Errorf("%v allocs per frame", a)
	}
}

func bench(b *testing.B, in, out int) {
	r := mustNew(b, in, out)
	src := sine(in/50, in, 1000, 0.5)
	dst := make([]int16, out/50)
	b.SetBytes(int64(2 * len(src)))
	b.ReportAllocs()
	for b.Loop() {
		r.Process(dst, src)
	}
}

func BenchmarkUp8kTo16k(b *testing.B)    { bench(b, 8000, 16000) }
func BenchmarkUp8kTo44k1(b *testing.B)   { bench(b, 8000, 44100) }
func BenchmarkUp8kTo48k(b *testing.B)    { bench(b, 8000, 48000) }
func BenchmarkDown16kTo8k(b *testing.B)  { bench(b, 16000, 8000) }
func BenchmarkDown44k1To8k(b *testing.B) { bench(b, 44100, 8000) }
func BenchmarkDown48kTo8k(b *testing.B)  { bench(b, 48000, 8000) }
