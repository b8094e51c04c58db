package analyze

import "math"

// ZeroCrossingFrequency estimates the frequency of a clean tone from the
// spacing of its rising zero crossings (interpolated between samples). It
// is exact for a pure sine and meaningless for mixtures; 0 when there are
// fewer than two crossings.
func ZeroCrossingFrequency(samples []int16, rate int) float64 {
	first, last := -1.0, -1.0
	count := 0
	for i := 1; i < len(samples); i++ {
		a, b := float64(samples[i-1]), float64(samples[i])
		if a < 0 && b >= 0 {
			t := float64(i-1) + a/(a-b) // linear interpolation of the crossing
			if first < 0 {
				first = t
			}
			last = t
			count++
		}
	}
	if count < 2 {
		return 0
	}
	return float64(count-1) * float64(rate) / (last - first)
}

// DominantFrequency returns the frequency in Hz holding the most energy in
// samples, or 0 for silence. A coarse Goertzel scan over 20 ms frames (25 Hz
// steps) finds the region; the zero-crossing estimate is returned when it
// agrees (a clean tone, accurate to a fraction of a Hz), otherwise a fine
// Goertzel scan over the whole signal refines the peak to about 0.25 Hz.
// The cost grows as len(samples)·rate/25 (about 10 ms for 1 s at 8 kHz,
// 0.3 s for 1 s at 48 kHz): pass a short excerpt for long recordings.
func DominantFrequency(samples []int16, rate int) float64 {
	n := frameLen(rate)
	if len(samples) < n || RMS(samples) == 0 {
		return 0
	}
	frameEnergy := func(f float64) float64 {
		var sum float64
		for off := 0; off+n <= len(samples); off += n {
			t, _ := goertzel(samples[off:off+n], rate, f)
			sum += t
		}
		return sum
	}
	nyq := float64(rate) / 2
	best, bestE := 0.0, -1.0
	for f := 25.0; f < nyq; f += 25 {
		if e := frameEnergy(f); e > bestE {
			best, bestE = f, e
		}
	}
	if zc := ZeroCrossingFrequency(samples, rate); zc > 0 && math.Abs(zc-best) <= 25 &&
		ToneShare(samples, rate, zc) > 0.9 {
		return zc
	}
	// Fine scan over the whole signal around the coarse peak.
	fine, fineE := best, -1.0
	for f := math.Max(best-37.5, 1); f <= math.Min(best+37.5, nyq-1); f += 0.25 {
		if e, _ := goertzel(samples, rate, f); e > fineE {
			fine, fineE = f, e
		}
	}
	return fine
}
