package aec

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
)

const (
	nearFreq = 700.0 // the near-end talker's tone, Hz
	nearDBFS = -26.0
)

// talking reports whether the near-end talker speaks at t seconds into
// their turn: talk spurts of 1.2 s with 0.5 s pauses. A tone that never
// pauses is what the noise suppressor is made to remove (a fan, a hum): it
// learns it as noise within about 2 s and takes 15 dB off it.
func talking(t float64) bool { return math.Mod(t, 1.7) < 1.2 }

// call runs a synthetic call through a canceller at rate: the far end
// plays for secs seconds, the microphone picks up its echo through a room
// (40 ms delay, 25 ms decay) and, from nearFrom seconds on, a near-end
// tone. It returns the microphone signal, the near-end part of it, and the
// canceller's output. With wrongRef the canceller is given another far-end
// signal than the one played.
func call(t *testing.T, rate int, secs, nearFrom float64, preprocess, wrongRef bool) (mic, near, out []int16) {
	t.Helper()
	c, err := newCanceller(rate, rate/50, 200*time.Millisecond, preprocess)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := int(secs*float64(rate)) / (rate / 50) * (rate / 50)
	sc := sceneAt(rate, n)
	far, echo := sc.far[:n], sc.echo[:n]
	amp := math.Sqrt2 * 32768 * math.Pow(10, nearDBFS/20)
	mic, near, out = make([]int16, n), make([]int16, n), make([]int16, n)
	for i := range mic {
		if ts := float64(i) / float64(rate); ts >= nearFrom && talking(ts-nearFrom) {
			near[i] = audio.Int16(amp * math.Sin(2*math.Pi*nearFreq*ts))
		}
		mic[i] = audio.Int16(echo[i] + float64(near[i]))
	}
	if wrongRef {
		far = farEndSpeech(n, rate, 99)
	}
	f := rate / 50
	for off := 0; off < n; off += f {
		c.Process(out[off:off+f], mic[off:off+f], far[off:off+f])
	}
	return mic, near, out
}

// TestEchoCancelled: with the far end alone, after 5 s of convergence the
// echo is down by well over 10 dB (ERLE, measured over the next 3 s), with
// the linear filter alone and more with residual echo suppression.
func TestEchoCancelled(t *testing.T) {
	requireAEC(t)
	for _, rate := range []int{8000, 16000} {
		for _, pre := range []bool{false, true} {
			mic, _, out := call(t, rate, 8, 99, pre, false)
			from := 5 * rate
			erle := 10 * math.Log10(energy(mic[from:])/energy(out[from:]))
			first := 10 * math.Log10(energy(mic[:rate])/energy(out[:rate]))
			what := "linear filter alone"
			want := 10.0
			if pre {
				what, want = "with residual echo and noise suppression", 20
			}
			t.Logf("%5d Hz, %s: ERLE %.1f dB over 5-8 s (%.1f dB in the first second)", rate, what, erle, first)
			if erle < want {
				t.Errorf("%d Hz, %s: ERLE %.1f dB, want at least %.0f dB", rate, what, erle, want)
			}
		}
	}
}

// TestWrongReference: the measurement is not fooled: given another signal
// than the one played as the far end, the linear filter cancels nothing.
func TestWrongReference(t *testing.T) {
	requireAEC(t)
	mic, _, out := call(t, 8000, 8, 99, false, true)
	erle := 10 * math.Log10(energy(mic[5*8000:])/energy(out[5*8000:]))
	t.Logf("8000 Hz, linear filter, wrong reference: ERLE %.1f dB", erle)
	if erle > 3 {
		t.Errorf("ERLE %.1f dB with a wrong far-end reference, want under 3 dB", erle)
	}
}

// TestNearEndSurvives: once the filter has converged (5 s of far end
// alone), a near-end talker starts while the far end goes on (double
// talk): their tone comes out at its frequency and within 3 dB of its
// level, and the echo stays down.
func TestNearEndSurvives(t *testing.T) {
	requireAEC(t)
	for _, rate := range []int{8000, 16000} {
		mic, near, out := call(t, rate, 10, 5, true, false)
		from := 7 * rate // 2 s into the double talk
		o, nr := out[from:], near[from:]
		toneIn := analyze.ToneShare(nr, rate, nearFreq) * energy(nr)
		toneOut := analyze.ToneShare(o, rate, nearFreq) * energy(o)
		level := 10 * math.Log10(toneOut/toneIn)
		// Frequency over a second inside the spurt from 8.4 to 9.6 s.
		f := analyze.DominantFrequency(out[rate*17/2:rate*19/2], rate)
		echoIn := energy(mic[from:]) - energy(nr)
		echoOut := energy(o) - toneOut
		t.Logf("%5d Hz, double talk: near-end %.0f Hz tone out at %.1f Hz, %+.1f dB; echo and the rest %.1f dB below the echo in",
			rate, nearFreq, f, level, 10*math.Log10(echoIn/echoOut))
		if math.Abs(f-nearFreq) > 2 {
			t.Errorf("%d Hz: the dominant frequency out is %.1f Hz, want the near-end %.0f Hz", rate, f, nearFreq)
		}
		if math.Abs(level) > 3 {
			t.Errorf("%d Hz: the near-end tone comes out %+.1f dB from its level, want within 3 dB", rate, level)
		}
	}
}

func TestNewRejects(t *testing.T) {
	requireAEC(t)
	for _, tc := range []struct {
		rate, frame int
		tail        time.Duration
	}{
		{4000, 80, 100 * time.Millisecond},
		{96000, 1920, 100 * time.Millisecond},
		{8000, 10, 100 * time.Millisecond},
		{8000, 480, 100 * time.Millisecond},
		{8000, 160, 10 * time.Millisecond},
		{8000, 160, 2 * time.Second},
	} {
		if c, err := New(tc.rate, tc.frame, tc.tail); err == nil {
			c.Close()
			t.Errorf("New(%d, %d, %v) succeeded", tc.rate, tc.frame, tc.tail)
		}
	}
}

// TestProcessInPlace: out may be mic; after Close the microphone passes
// through; Close twice is harmless; a wrong frame length panics.
func TestProcessInPlace(t *testing.T) {
	requireAEC(t)
	c, err := New(8000, 160, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	far := farEndSpeech(160*50, 8000, 5)
	mic := make([]int16, len(far))
	copy(mic, far)
	for off := 0; off < len(mic); off += 160 {
		c.Process(mic[off:off+160], mic[off:off+160], far[off:off+160])
	}
	if e := 10 * math.Log10(energy(far[8000-1600:])/energy(mic[8000-1600:])); e < 10 {
		t.Errorf("in place, the echo is down only %.1f dB after a second", e)
	}
	c.Close()
	c.Close()
	out := make([]int16, 160)
	c.Process(out, far[:160], far[:160])
	if out[7] != far[7] || out[100] != far[100] {
		t.Error("after Close, Process does not pass the microphone through")
	}
	defer func() {
		if recover() == nil {
			t.Error("Process with a 100-sample frame did not panic")
		}
	}()
	c.Process(out[:100], far[:100], far[:100])
}

// TestNoAllocations: Process allocates nothing.
func TestNoAllocations(t *testing.T) {
	requireAEC(t)
	c, err := New(16000, 320, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	far := farEndSpeech(320, 16000, 9)
	mic, out := make([]int16, 320), make([]int16, 320)
	copy(mic, far)
	if a := testing.AllocsPerRun(100, func() { c.Process(out, mic, far) }); a != 0 {
		t.Errorf("Process: %.1f allocations per frame, want 0", a)
	}
}

// TestUnavailable: a build without echo cancellation says so.
func TestUnavailable(t *testing.T) {
	if Available {
		t.Skip("this build has echo cancellation")
	}
	if _, err := New(8000, 160, 100*time.Millisecond); !errors.Is(err, ErrUnavailable) {
		t.Errorf("New = %v, want ErrUnavailable", err)
	}
}

// TestNoiseSuppressed: steady background noise (-45 dBFS, no far end, no
// talker) is taken down once the suppressor has learnt it (2 s), and a
// steady hum too (which is why TestNearEndSurvives's talker pauses).
func TestNoiseSuppressed(t *testing.T) {
	requireAEC(t)
	const rate = 16000
	c, err := New(rate, rate/50, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 5 * rate
	r := rand.New(rand.NewPCG(4, 5))
	noise, hum := make([]int16, n), make([]int16, n)
	for i := range noise {
		noise[i] = audio.Int16(32768 * math.Pow(10, -45.0/20) * r.NormFloat64())
		hum[i] = audio.Int16(32768 * math.Pow(10, -30.0/20) * math.Sqrt2 * math.Sin(2*math.Pi*100*float64(i)/rate))
	}
	for _, tc := range []struct {
		name string
		mic  []int16
	}{{"noise", noise}, {"100 Hz hum", hum}} {
		out, silence := make([]int16, n), make([]int16, rate/50)
		for off := 0; off < n; off += rate / 50 {
			c.Process(out[off:off+rate/50], tc.mic[off:off+rate/50], silence)
		}
		from := 3 * rate
		down := 10 * math.Log10(energy(tc.mic[from:])/energy(out[from:]))
		t.Logf("%s: %.1f dB down after 3 s", tc.name, down)
		if down < 6 {
			t.Errorf("%s: only %.1f dB down after 3 s, want at least 6", tc.name, down)
		}
	}
}

// TestSuppressNoiseOff: with the noise suppressor off, a steady hum that
// it would learn as noise and take down (TestNoiseSuppressed) passes
// within 1 dB, and the echo is still cancelled.
func TestSuppressNoiseOff(t *testing.T) {
	requireAEC(t)
	const rate = 16000
	c, err := New(rate, rate/50, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SuppressNoise(false)
	n, f := 5*rate, rate/50
	hum, out, silence := make([]int16, n), make([]int16, n), make([]int16, f)
	for i := range hum {
		hum[i] = audio.Int16(32768 * math.Pow(10, -30.0/20) * math.Sqrt2 * math.Sin(2*math.Pi*100*float64(i)/rate))
	}
	for off := 0; off < n; off += f {
		c.Process(out[off:off+f], hum[off:off+f], silence)
	}
	from := 3 * rate
	if down := 10 * math.Log10(energy(hum[from:])/energy(out[from:])); math.Abs(down) > 1 {
		t.Errorf("noise suppressor off: a steady hum comes out %.1f dB down, want within 1 dB", down)
	}

	// The echo canceller still works without it.
	e, err := New(8000, 160, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.SuppressNoise(false)
	m := 8 * 8000
	sc := sceneAt(8000, m)
	mic, res := make([]int16, m), make([]int16, m)
	for i := range mic {
		mic[i] = audio.Int16(sc.echo[i])
	}
	for off := 0; off < m; off += 160 {
		e.Process(res[off:off+160], mic[off:off+160], sc.far[off:off+160])
	}
	erle := 10 * math.Log10(energy(mic[5*8000:])/energy(res[5*8000:]))
	t.Logf("noise suppressor off: ERLE %.1f dB over 5-8 s", erle)
	if erle < 20 {
		t.Errorf("noise suppressor off: ERLE %.1f dB, want at least 20", erle)
	}
	// The test room delays the echo by 40 ms: the filter's main tap is there.
	if d, share := e.EchoDelay(); d < 38*time.Millisecond || d > 42*time.Millisecond {
		t.Errorf("EchoDelay = %v (%.2f of the energy), want about 40ms", d, share)
	} else {
		t.Logf("EchoDelay = %v (%.2f of the energy)", d, share)
	}
}
