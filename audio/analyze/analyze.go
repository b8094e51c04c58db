// Package analyze measures received audio in tests and diagnostics: tone
// energy (Goertzel), dominant frequency, level, activity, DTMF detection and
// delay between two recordings.
//
// Levels use the plain RMS definition: dBFS = 20·log10(rms), with samples
// scaled to [-1, 1) by 1/32768. A full-scale square wave reads 0 dBFS and a
// full-scale sine -3.01 dBFS.
//
// Frame-based functions cut the signal into 20 ms frames (rate/50 samples)
// and ignore a trailing partial frame. None of these functions is meant for
// the real-time path; they favour clarity over speed, though none allocates
// more than its result.
package analyze

import (
	"math"
)

// frameLen is the 20 ms frame length at rate.
func frameLen(rate int) int { return max(rate/50, 1) }

// scale converts int16 to [-1, 1).
const scale = 1.0 / 32768

// goertzel returns the energy of the freq component of x (sum of squares of
// that sinusoid over the block, scaled to [-1, 1) samples) and the block
// energy. For a pure tone at an exact bin frequency the two are equal.
func goertzel(x []int16, rate int, freq float64) (tone, total float64) {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, s := range x {
		v := float64(s) * scale
		s1, s2 = v+k*s1-s2, s1
		total += v * v
	}
	if len(x) == 0 {
		return 0, 0
	}
	return 2 * (s1*s1 + s2*s2 - k*s1*s2) / float64(len(x)), total
}

// ToneShare returns the share (0..1) of the signal energy at freq, summed
// over 20 ms frames: about 1 for a clean tone at freq, about 0 for silence
// or other frequencies. Tones within 25 Hz of freq count as freq.
func ToneShare(samples []int16, rate int, freq float64) float64 {
	n := frameLen(rate)
	var tone, total float64
	for off := 0; off+n <= len(samples); off += n {
		t, e := goertzel(samples[off:off+n], rate, freq)
		tone += t
		total += e
	}
	if total == 0 {
		return 0
	}
	return math.Min(1, tone/total)
}

// FrameToneShares returns the share of energy at freq in each 20 ms frame
// (0 for a silent frame).
func FrameToneShares(samples []int16, rate int, freq float64) []float64 {
	n := frameLen(rate)
	out := make([]float64, 0, len(samples)/n)
	for off := 0; off+n <= len(samples); off += n {
		t, e := goertzel(samples[off:off+n], rate, freq)
		s := 0.0
		if e > 0 {
			s = math.Min(1, t/e)
		}
		out = append(out, s)
	}
	return out
}

// RMS returns the root-mean-square level of samples as a fraction of full
// scale (0..1); 0 for an empty slice.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var e float64
	for _, s := range samples {
		v := float64(s) * scale
		e += v * v
	}
	return math.Sqrt(e / float64(len(samples)))
}

// DBFS returns the RMS level of samples in dB relative to full scale;
// -Inf for silence or an empty slice.
func DBFS(samples []int16) float64 {
	return ToDBFS(RMS(samples))
}

// ToDBFS converts a linear RMS fraction of full scale to dBFS (-Inf for 0).
func ToDBFS(rms float64) float64 {
	if rms <= 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(rms)
}

// Peak returns the largest absolute sample value as a fraction of full scale.
func Peak(samples []int16) float64 {
	m := 0
	for _, s := range samples {
		m = max(m, abs(int(s)))
	}
	return float64(m) * scale
}

// ActiveFrames returns how many 20 ms frames have an RMS level above
// thresholdDBFS (for example -40).
func ActiveFrames(samples []int16, rate int, thresholdDBFS float64) int {
	n := frameLen(rate)
	count := 0
	for off := 0; off+n <= len(samples); off += n {
		if DBFS(samples[off:off+n]) > thresholdDBFS {
			count++
		}
	}
	return count
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
