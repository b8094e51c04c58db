package jitter

import (
	"math"
	"slices"
	"testing"
)

const frameLen = 160

func sine(n int, hz, amp float64) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return x
}

// voiced is a crude vowel: harmonics of f0 with falling amplitude.
func voiced(n int, f0 float64) []int16 {
	x := make([]int16, n)
	for i := range x {
		v := 0.0
		for h := 1; float64(h)*f0 < 3400; h++ {
			v += math.Sin(2*math.Pi*f0*float64(h)*float64(i)/8000+float64(h)) / float64(h)
		}
		x[i] = int16(4000 * v)
	}
	return x
}

// playout runs x through a Concealer frame by frame, concealing the frames
// in lost, and returns what would be played.
func playout(x []int16, lost ...int) []int16 {
	var c Concealer
	y := make([]int16, 0, len(x))
	buf := make([]int16, frameLen)
	for k := 0; (k+1)*frameLen <= len(x); k++ {
		copy(buf, x[k*frameLen:])
		if slices.Contains(lost, k) {
			c.Conceal(buf)
		} else {
			c.Good(buf)
		}
		y = append(y, buf...)
	}
	return y
}

func rms(x []int16) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func maxStep(x []int16) int {
	m := 0
	for i := 1; i < len(x); i++ {
		m = max(m, abs(int(x[i])-int(x[i-1])))
	}
	return m
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestConcealerDelaysGoodFrames(t *testing.T) {
	x := voiced(20*frameLen, 130)
	y := playout(x)
	if !slices.Equal(y[ConcealerDelay:], x[:len(x)-ConcealerDelay]) || slices.ContainsFunc(y[:ConcealerDelay], func(v int16) bool { return v != 0 }) {
		t.Error("good frames are not passed through with the documented delay")
	}
}

func TestConcealSine(t *testing.T) {
	const amp = 10000
	x := sine(30*frameLen, 440, amp)
	y := playout(x, 10)
	lost := y[10*frameLen : 11*frameLen]
	ratio := rms(lost) / rms(x)
	t.Logf("concealed/original RMS %.3f, max step %d (sine %d)", ratio, maxStep(y), maxStep(x))
	if ratio < 0.85 || ratio > 1.05 {
		t.Errorf("concealed frame RMS ratio %.3f, want close to 1 (not silence)", ratio)
	}
	// The concealment follows the waveform: compare with the original, delayed.
	ref := x[10*frameLen-ConcealerDelay : 11*frameLen-ConcealerDelay]
	if c := corr(lost, ref); c < 0.9 {
		t.Errorf("correlation with the lost audio %.3f", c)
	}
	// No click at either join.
	if m, want := maxStep(y[ConcealerDelay+1:]), maxStep(x)*5/4; m > want {
		t.Errorf("max sample step %d, want ≤ %d", m, want)
	}
	// Back to the real signal after the join.
	if !slices.Equal(y[12*frameLen:], x[12*frameLen-ConcealerDelay:len(x)-ConcealerDelay]) {
		t.Error("signal not restored after the join")
	}
}

func corr(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestConcealFadesOut(t *testing.T) {
	const amp = 10000
	x := sine(30*frameLen, 440, amp)
	lost := []int{10, 11, 12, 13, 14} // 100 ms
	y := playout(x, lost...)
	// RMS per 10 ms of the loss (output runs ConcealerDelay behind).
	start := 10*frameLen + ConcealerDelay
	var blocks []float64
	for b := range 10 {
		blocks = append(blocks, rms(y[start+b*80:start+(b+1)*80])/rms(x))
	}
	t.Logf("RMS per 10 ms of a 100 ms loss: %.2f", blocks)
	if blocks[0] < 0.9 {
		t.Errorf("first 10 ms at %.2f, want full level", blocks[0])
	}
	for b := 1; b < 6; b++ {
		if blocks[b] >= blocks[b-1] {
			t.Errorf("block %d (%.2f) not quieter than block %d (%.2f)", b, blocks[b], b-1, blocks[b-1])
		}
	}
	for b := 6; b < 10; b++ {
		if blocks[b] != 0 {
			t.Errorf("block %d at %.2f after 60 ms, want silence", b, blocks[b])
		}
	}
	// Coming back from silence ramps in rather than clicks.
	if m, want := maxStep(y[ConcealerDelay+1:]), maxStep(x)*5/4; m > want {
		t.Errorf("max sample step %d, want ≤ %d", m, want)
	}
	if !slices.Equal(y[16*frameLen:], x[16*frameLen-ConcealerDelay:len(x)-ConcealerDelay]) {
		t.Error("signal not restored after the join")
	}
}

func TestConcealVoiced(t *testing.T) {
	for _, f0 := range []float64{80, 100, 125, 160, 200} {
		x := voiced(30*frameLen, f0)
		var c Concealer
		buf := make([]int16, frameLen)
		for k := range 10 {
			copy(buf, x[k*frameLen:])
			c.Good(buf)
		}
		c.Conceal(buf)
		want := 8000 / f0
		if math.Abs(float64(c.pitch)-want) > 1 && math.Abs(float64(c.pitch)-2*want) > 1 {
			t.Errorf("f0 %v Hz: pitch %d samples, want %.1f", f0, c.pitch, want)
		}
		y := playout(x, 10)
		ref := x[10*frameLen-ConcealerDelay : 11*frameLen-ConcealerDelay]
		if r := corr(y[10*frameLen:11*frameLen], ref); r < 0.8 {
			t.Errorf("f0 %v Hz: correlation %.2f", f0, r)
		}
	}
}

func TestConcealerEdgeCases(t *testing.T) {
	var c Concealer
	buf := make([]int16, 1000)
	for i := range buf {
		buf[i] = 12345
	}
	c.Conceal(buf) // no history: silence
	if slices.ContainsFunc(buf, func(v int16) bool { return v != 0 }) {
		t.Error("concealment without history is not silence")
	}
	// Full-scale square wave, odd frame lengths, many losses: no panic.
	for k := range 200 {
		n := 1 + k*7%333
		f := make([]int16, n)
		for i := range f {
			f[i] = math.MaxInt16
			if (i/37)%2 == 0 {
				f[i] = math.MinInt16
			}
		}
		if k%3 == 0 {
			c.Conceal(f)
		} else {
			c.Good(f)
		}
	}
	c.Good(nil)
	c.Conceal(nil)
	c.Reset()
	if c != (Concealer{}) {
		t.Error("Reset did not clear")
	}
}

func TestConcealerNoAllocs(t *testing.T) {
	var c Concealer
	x := voiced(frameLen, 120)
	buf := make([]int16, frameLen)
	allocs := testing.AllocsPerRun(200, func() {
		copy(buf, x)
		c.Good(buf)
		c.Conceal(buf)
		c.Conceal(buf)
	})
	if allocs != 0 {
		t.Errorf("%v allocs", allocs)
	}
}

// BenchmarkConceal measures the first concealed frame after good ones, the
// costly case (pitch search).
func BenchmarkConceal(b *testing.B) {
	var c Concealer
	x := voiced(frameLen, 120)
	buf := make([]int16, frameLen)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		copy(buf, x)
		c.Good(buf)
		b.StartTimer()
		c.Conceal(buf)
	}
}

// BenchmarkGood measures recording a good frame.
func BenchmarkGood(b *testing.B) {
	var c Concealer
	x := voiced(frameLen, 120)
	buf := make([]int16, frameLen)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, x)
		c.Good(buf)
	}
}
