package aec

import (
	"math"
	"math/rand/v2"
	"os"
	"sync"
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
// after delay samples, then decaying reflections (taps h).
type room struct {
	delay int
	h     []float64
}

// newRoom returns a room with a delay of delayMs, a direct path of gain,
// then reflections of random sign decaying (e-folding in decayMs) over
// 3·decayMs.
func newRoom(rate int, delayMs, decayMs, gain float64, seed uint64) room {
	r := rand.New(rand.NewPCG(seed, 3))
	tau := decayMs * float64(rate) / 1000
	h := make([]float64, int(3*tau))
	h[0] = gain
	for k := 1; k < len(h); k++ {
		sign := 1.0
		if r.IntN(2) == 0 {
			sign = -1
		}
		h[k] = sign * 0.5 * gain * math.Exp(-float64(k)/tau) * r.Float64()
	}
	return room{delay: int(delayMs * float64(rate) / 1000), h: h}
}

// echo returns x through the room.
func (rm room) echo(x []int16) []float64 {
	y := make([]float64, len(x))
	for i := rm.delay; i < len(y); i++ {
		var v float64
		for k, hk := range rm.h[:min(len(rm.h), i-rm.delay+1)] {
			v += hk * float64(x[i-rm.delay-k])
		}
		y[i] = v
	}
	return y
}

// scene is the far end and its echo at one rate, computed once: the
// convolution is the slow part of these tests (under -race above all).
type scene struct {
	far  []int16
	echo []float64
}

var (
	scenesMu sync.Mutex
	scenes   = map[int]scene{}
)

// sceneAt returns at least n samples of the far end (seed 1) and its echo
// through the test room (40 ms delay, 25 ms decay, direct path at half
// level) at rate.
func sceneAt(rate, n int) scene {
	scenesMu.Lock()
	defer scenesMu.Unlock()
	if s, ok := scenes[rate]; ok && len(s.far) >= n {
		return s
	}
	n = max(n, 10*rate)
	far := farEndSpeech(n, rate, 1)
	s := scene{far: far, echo: newRoom(rate, 40, 25, 0.5, 2).echo(far)}
	scenes[rate] = s
	return s
}

// energy returns Σx² of samples.
func energy(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}
