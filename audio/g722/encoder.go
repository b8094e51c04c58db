package g722

// Encoder is the transmit side of a G.722 channel at 64 kbit/s (mode 1):
// the transmit QMF and the two sub-band ADPCM encoders. Its state carries
// from one call to the next, so one Encoder serves one direction of one
// stream. The zero value is ready to use, in the reset state.
type Encoder struct{ channel }

// NewEncoder returns an Encoder in the reset state of clause 6.
func NewEncoder() *Encoder {
	e := new(Encoder)
	e.Reset()
	return e
}

// Reset returns the Encoder to the state of clause 6 after a reset, as for
// a new stream.
func (e *Encoder) Reset() { e.reset() }

// Encode encodes pairs of 16 kHz samples from src into one G.722 octet
// each in dst and returns the number of octets written,
// n = min(len(dst), len(src)/2); it consumed 2n samples. A trailing odd
// sample is not consumed and not remembered: pass whole frames (a 20 ms
// frame is FrameSamples samples into FrameBytes octets). Encode never
// allocates and never fails.
func (e *Encoder) Encode(dst []byte, src []int16) int {
	e.ready()
	n := min(len(dst), len(src)/2)
	dst, src = dst[:n], src[:2*n]
	for i := range dst {
		dst[i] = e.encodePair(int32(src[2*i]), int32(src[2*i+1]))
	}
	return n
}

// encodePair encodes two consecutive samples into one octet: the 2-bit
// higher sub-band code IH in the two most significant bits, the 6-bit lower
// sub-band code IL below them (the multiplexed octet of clause 1.4, laid out
// as in the ITU test sequences and in ffmpeg).
func (e *Encoder) encodePair(s0, s1 int32) byte {
	// Transmit QMF (clause 3.1). Each polyphase half has a gain of 4096, so
	// 2^-14 leaves the sub-band signals at half the input amplitude: the
	// 15-bit range that clause 6 works in (the decoder limits RL and RH to
	// [-16384, 16383]). libavcodec and spandsp scale the same way.
	a, b := e.qmf.push(s0, s1)
	xl := (a + b) >> 14
	xh := (a - b) >> 14

	il := e.lower.encodeLower(xl)
	ih := e.higher.encodeHigher(xh)
	return byte(ih<<6 | il)
}

// encodeLower quantizes the lower sub-band input xl into the 6-bit code IL
// and updates the band with its 4-bit core (block 1L, 2L, 3L and 4L of
// clause 6).
func (b *band) encodeLower(xl int32) int {
	// SUBTRA: difference signal (clause 3.2).
	el := sat(xl - b.s)

	// QUANTL: 6-bit quantization of the magnitude (clause 3.3); wd is
	// |el| for el >= 0 and -(el+1) below, so that both signs use the same
	// decision levels.
	wd := el
	if el < 0 {
		wd = -(el + 1)
	}
	mil := 1
	for ; mil < len(q6); mil++ {
		if wd < q6[mil]*b.det>>12 {
			break
		}
	}
	var il int
	if el < 0 {
		il = int(iln[mil])
	} else {
		il = int(ilp[mil])
	}

	// INVQAL: 4-bit inverse quantization for the predictor (clause 3.4),
	// then LOGSCL and SCALEL (clause 3.5) and the predictor (clause 3.6).
	ril := il >> 2
	dl := b.det * qm4[ril] >> 15
	b.adaptLower(ril)
	b.predict(dl)
	return il
}

// encodeHigher quantizes the higher sub-band input xh into the 2-bit code
// IH and updates the band (blocks 1H, 2H, 3H and 4H of clause 6).
func (b *band) encodeHigher(xh int32) int {
	// SUBTRA (clause 3.2).
	eh := sat(xh - b.s)

	// QUANTH (clause 3.3): one decision level, 564·DETH/4096.
	wd := eh
	if eh < 0 {
		wd = -(eh + 1)
	}
	mih := 1
	if wd >= 564*b.det>>12 {
		mih = 2
	}
	var ih int
	if eh < 0 {
		ih = int(ihn[mih])
	} else {
		ih = int(ihp[mih])
	}

	// INVQAH (clause 3.4), LOGSCH and SCALEH (clause 3.5), predictor
	// (clause 3.6).
	dh := b.det * qm2[ih] >> 15
	b.adaptHigher(ih)
	b.predict(dh)
	return ih
}
