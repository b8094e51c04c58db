package analyze

import "math"

// CrossCorrelateDelay finds the lag at which b best matches a: the lag in
// [-maxLag, maxLag] maximising the cross-correlation sum of a[i]·b[i+lag].
// A positive lag means b is a delayed copy of a (the click at a[i] appears
// at b[i+lag]); divide by the sample rate for seconds.
//
// peak is that correlation normalised by the energy of all of a and all of
// b (-1..1): near 1 when b is a scaled, shifted copy of a whose content
// lies inside the overlap, lower when b holds other sound too. Silent
// inputs give 0, 0. The cost is O(len(a)·maxLag).
func CrossCorrelateDelay(a, b []int16, maxLag int) (lag int, peak float64) {
	maxLag = max(maxLag, 0)
	den := math.Sqrt(energy(a) * energy(b))
	if den == 0 {
		return 0, 0
	}
	best := math.Inf(-1)
	for l := -maxLag; l <= maxLag; l++ {
		// Overlap: 0 <= i < len(a) and 0 <= i+l < len(b).
		i0, i1 := max(0, -l), min(len(a), len(b)-l)
		var dot float64
		for i := i0; i < i1; i++ {
			dot += float64(a[i]) * float64(b[i+l])
		}
		// Ties go to the lag nearest zero.
		if dot > best || (dot == best && abs(l) < abs(lag)) {
			best, lag = dot, l
		}
	}
	return lag, best / den
}

func energy(x []int16) float64 {
	var e float64
	for _, s := range x {
		v := float64(s)
		e += v * v
	}
	return e
}
