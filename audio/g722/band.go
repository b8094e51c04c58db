package g722

// band is the state of one sub-band ADPCM coder, the same in the encoder
// and the decoder (clauses 3.5, 3.6, 4.2 and 4.3): the quantizer scale
// factor and the pole-zero adaptive predictor. Words are kept in int32 and
// limited to the 16-bit range wherever clause 6 limits them.
type band struct {
	nb  int32 // NBL/NBH: log scale factor
	det int32 // DETL/DETH: linear scale factor
	s   int32 // SL/SH: predicted signal
	sz  int32 // SZL/SZH: output of the zero section

	d [7]int32 // DLT/DH: d[0] the current difference, d[1..6] delayed
	b [7]int32 // BL/BH: zero section coefficients b[1..6]
	a [3]int32 // AL/AH: pole section coefficients a[1..2]
	p [3]int32 // PLT/PH: partially reconstructed signal and two delayed
	r [3]int32 // RLT/RH: reconstructed signal and two delayed
}

// reset sets the state of clause 6 for a reset (all zero) with the initial
// scale factor DETL = 32 (lower) or DETH = 8 (higher sub-band).
func (b *band) reset(det int32) {
	*b = band{det: det}
}

// sat limits x to the 16-bit word range, as the 16-bit arithmetic of
// clause 6 does.
func sat(x int32) int32 {
	return min(max(x, -32768), 32767)
}

// mult is the product of two 16-bit words scaled by 2^-15 (arithmetic
// shift, rounding towards minus infinity), the multiplication of clause 6.
func mult(x, y int32) int32 {
	return sat(x * y >> 15)
}

// sign is 0 for a non-negative word and -1 for a negative one (the sign
// bit SG of clause 6).
func sign(x int32) int32 {
	return x >> 31
}

// scale computes the linear scale factor from the log scale factor nb
// (blocks SCALEL and SCALEH of clause 6; the lower sub-band passes
// shift 8, the higher 10): DET = 4·ilb[frac]·2^(int-shift), about
// 2^(13 + nb/2048 - shift), in steps of 1/32 of an octave (nb = 0 gives
// 32 and 8, the reset values).
func scale(nb int32, shift int32) int32 {
	wd1 := ilb[(nb>>6)&31]
	wd2 := shift - nb>>11
	if wd2 < 0 {
		wd1 <<= -wd2
	} else {
		wd1 >>= wd2
	}
	return wd1 << 2
}

// adaptLower is the quantizer adaptation of the lower sub-band (clause
// 3.5; blocks LOGSCL and SCALEL of clause 6) for the 4-bit code ril = IL>>2.
func (b *band) adaptLower(ril int) {
	nb := mult(b.nb, 32512) + wl[rl42[ril]]
	b.nb = min(max(nb, 0), 18432)
	b.det = scale(b.nb, 8)
}

// adaptHigher is the quantizer adaptation of the higher sub-band (clause
// 3.5; blocks LOGSCH and SCALEH of clause 6) for the 2-bit code ih.
func (b *band) adaptHigher(ih int) {
	nb := mult(b.nb, 32512) + wh[rh2[ih]]
	b.nb = min(max(nb, 0), 22528)
	b.det = scale(b.nb, 10)
}

// predict runs the adaptive predictor of clause 3.6 (block 4L or 4H of
// clause 6) on the quantized difference signal dx and leaves the next
// prediction in b.s and b.sz.
func (b *band) predict(dx int32) {
	// RECONS: reconstructed signal.
	b.d[0] = dx
	b.r[0] = sat(b.s + dx)

	// PARREC: partially reconstructed signal.
	b.p[0] = sat(b.sz + dx)

	// UPPOL2: second pole coefficient, from the signs of p[0..2].
	sg0, sg1, sg2 := sign(b.p[0]), sign(b.p[1]), sign(b.p[2])
	wd1 := sat(b.a[1] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = min(-wd1, 32767)
	}
	wd2 >>= 7
	wd3 := int32(-128)
	if sg0 == sg2 {
		wd3 = 128
	}
	ap2 := sat(sat(wd2+wd3) + mult(b.a[2], 32512))
	ap2 = min(max(ap2, -12288), 12288)

	// UPPOL1: first pole coefficient, limited so that the pole section
	// stays stable given ap2.
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	ap1 := sat(wd1 + mult(b.a[1], 32640))
	lim := sat(15360 - ap2)
	ap1 = min(max(ap1, -lim), lim)

	// UPZERO: the six zero coefficients, sign-sign adaptation with leak.
	var step int32
	if dx != 0 {
		step = 128
	}
	sgd := sign(dx)
	for i := 1; i < 7; i++ {
		wd := -step
		if sign(b.d[i]) == sgd {
			wd = step
		}
		b.b[i] = sat(wd + mult(b.b[i], 32640))
	}

	// DELAYA: shift the delay lines.
	copy(b.d[1:], b.d[:6])
	b.r[2], b.r[1] = b.r[1], b.r[0]
	b.p[2], b.p[1] = b.p[1], b.p[0]
	b.a[1], b.a[2] = ap1, ap2

	// FILTEP: pole section output.
	sp := sat(mult(b.a[1], sat(b.r[1]+b.r[1])) + mult(b.a[2], sat(b.r[2]+b.r[2])))

	// FILTEZ: zero section output.
	var sz int32
	for i := 6; i > 0; i-- {
		sz = sat(sz + mult(b.b[i], sat(b.d[i]+b.d[i])))
	}
	b.sz = sz

	// PREDIC: predicted signal.
	b.s = sat(sp + sz)
}
