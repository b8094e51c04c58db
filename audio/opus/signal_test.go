package opus

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/teaphone/teaphone/audio"
)

// requireOpus skips a test in a build without Opus, or fails it when
// CI=true (CI builds with cgo and libopus-dev).
func requireOpus(t testing.TB) {
	t.Helper()
	if Available {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this build has no Opus (required when CI=true): build with cgo and libopus-dev")
	}
	t.Skip("this build has no Opus")
}

// sine returns n samples of a freq Hz sine at level dBFS (RMS) at 48 kHz.
func sine(n int, freq, dBFS float64) []int16 {
	amp := math.Sqrt2 * 32768 * math.Pow(10, dBFS/20)
	s := make([]int16, n)
	for i := range s {
		s[i] = audio.Int16(amp * math.Sin(2*math.Pi*freq*float64(i)/SampleRate))
	}
	return s
}

// speechLike returns n samples at 48 kHz of a voiced, speech-like signal:
// ten harmonics of a pitch gliding between 110 and 190 Hz with a falling
// spectrum, under a syllable envelope (about 4 per second, with short
// pauses), plus a little noise. Deterministic for a seed.
func speechLike(n int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	phase := 0.0
	for i := range s {
		t := float64(i) / SampleRate
		f0 := 150 + 40*math.Sin(2*math.Pi*0.7*t)
		phase += 2 * math.Pi * f0 / SampleRate
		var v float64
		for h := 1; h <= 10; h++ {
			v += math.Sin(float64(h)*phase) / float64(h)
		}
		env := math.Max(0, math.Sin(2*math.Pi*2*t)) // two half-waves a second
		env = math.Max(env, 0.6*math.Max(0, math.Sin(2*math.Pi*2*t+2)))
		s[i] = audio.Int16(6000*env*v + 30*r.NormFloat64())
	}
	return s
}

// snr returns 10·log10(Σref² / Σ(ref-x)²) in dB.
func snr(ref, x []int16) float64 {
	var sig, noise float64
	for i := range ref {
		d := float64(ref[i]) - float64(x[i])
		sig += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}
