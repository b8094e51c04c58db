package aec

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/teaphone/teaphone/audio"
)

// requireAEC skips a test in a build without echo cancellation, or fails it
// when CI=true (CI builds with cgo and libspeexdsp-dev).
func requireAEC(t testing.TB) {
	t.Helper()
	if Available {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this build has no echo cancellation (required when CI=true): build with cgo and libspeexdsp-dev")
	}
	t.Skip("this build has no echo cancellation")
}

// farEndSpeech returns n samples at rate of a speech-like far-end signal:
// white noise through a band-pass (about 200-3000 Hz), under a syllable
// envelope of about 4 a second with pauses, around -20 dBFS while talking.
// Deterministic for a seed.
func farEndSpeech(n, rate int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 2))
	hp := math.Exp(-2 * math.Pi * 200 / float64(rate))  // one-pole high-pass corner
	lp := math.Exp(-2 * math.Pi * 3000 / float64(rate)) // one-pole low-pass corner
	var x1, y1, z float64
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / float64(rate)
		x := r.NormFloat64()
		y := hp * (y1 + x - x1) // high-pass
		x1, y1 = x, y
		z = (1-lp)*y + lp*z // low-pass
		env := math.Max(0, math.Sin(2*math.Pi*2.1*t)) * (0.6 + 0.4*math.Sin(2*math.Pi*0.37*t))
		s[i] = audio.Int16(8000 * env * z)
	}
	return s
}

// room is an echo path: the loudspeaker's sound reaches the microphone
// after delay, then decaying reflections (random signs, e-folding in
// decay, over 3·decay), with a direct-path gain of gain.
type room struct {
	h []float64
}

func newRoom(rate int, delayMs, decayMs, gain float64, seed uint64) room {
	r := rand.New(rand.NewPCG(seed, 3))
	d := int(delayMs * float64(rate) / 1000)
	tau := decayMs * float64(rate) / 1000
	h := make([]float64, d+int(3*tau))
	h[d] = gain
	for k := 1; d+k < len(h); k++ {
		sign := 1.0
		if r.IntN(2) == 0 {
			sign = -1
		}
		h[d+k] = sign * 0.5 * gain * math.Exp(-float64(k)/tau) * r.Float64()
	}
	return room{h: h}
}

// echo returns x through the room.
func (rm room) echo(x []int16) []float64 {
	y := make([]float64, len(x))
	for i := range y {
		var v float64
		for k, hk := range rm.h {
			if hk != 0 && i-k >= 0 {
				v += hk * float64(x[i-k])
			}
		}
		y[i] = v
	}
	return y
}

// energy returns Σx² of samples.
func energy(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}
