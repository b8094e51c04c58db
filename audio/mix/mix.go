// Package mix combines and hands over 20 ms frames: saturating sample
// arithmetic (Add, Mix, Scale), a Mixer that sums any number of sources
// (with a mix-minus output per input for conferences), and a Ring that
// passes frames between a sound-card thread and the media clock.
//
// Nothing here allocates per frame.
package mix

import "math"

// Add adds src into dst sample by sample, saturating at the int16 limits.
// It processes min(len(dst), len(src)) samples.
func Add(dst, src []int16) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = sat(int32(dst[i]) + int32(s))
	}
}

// Mix writes the saturated sum of srcs into dst; samples past the end of a
// shorter source count as silence. With no sources dst is zeroed.
func Mix(dst []int16, srcs ...[]int16) {
	clear(dst)
	switch len(srcs) {
	case 0:
		return
	case 1:
		copy(dst, srcs[0])
		return
	}
	for i := range dst {
		var acc int32
		for _, s := range srcs {
			if i < len(s) {
				acc += int32(s[i])
			}
		}
		dst[i] = sat(acc)
	}
}

// Scale multiplies dst by gain in place, rounding and saturating. A gain of
// 1 leaves dst unchanged; 0 silences it.
func Scale(dst []int16, gain float64) {
	if gain == 1 {
		return
	}
	if gain == 0 {
		clear(dst)
		return
	}
	q := gainQ(gain)
	for i, s := range dst {
		dst[i] = sat(mulQ(int32(s), q))
	}
}

// Gain is applied in Q16 fixed point: 65536 = 1.0.
const unity = 1 << 16

// gainQ converts a linear gain to Q16, clamped to [0, 32767].
func gainQ(g float64) int32 {
	if !(g > 0) { // also NaN
		return 0
	}
	return int32(math.Round(math.Min(g, 32767) * unity))
}

// mulQ scales v by a Q16 gain with rounding; the product fits in int64 and
// the result saturates to int32 range before the caller's sat.
func mulQ(v, q int32) int32 {
	p := (int64(v)*int64(q) + unity/2) >> 16
	return int32(max(min(p, math.MaxInt32), math.MinInt32))
}

// sat clamps v to the int16 range.
func sat(v int32) int16 {
	return int16(max(min(v, math.MaxInt16), math.MinInt16))
}
