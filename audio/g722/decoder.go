package g722

// Decoder is the receive side of a G.722 channel at 64 kbit/s (mode 1):
// the two sub-band ADPCM decoders and the receive QMF. Its state carries
// from one call to the next, so one Decoder serves one received stream.
// The zero value is ready to use, in the reset state.
type Decoder struct{ channel }

// NewDecoder returns a Decoder in the reset state of clause 6.
func NewDecoder() *Decoder {
	d := new(Decoder)
	d.Reset()
	return d
}

// Reset returns the Decoder to the state of clause 6 after a reset, as for
// a new stream.
func (d *Decoder) Reset() { d.reset() }

// Decode decodes G.722 octets from src into two 16 kHz samples each in dst
// and returns the number of samples written, 2·min(len(src), len(dst)/2);
// it consumed half that many octets. Every octet is valid, so Decode never
// fails; it never allocates.
func (d *Decoder) Decode(dst []int16, src []byte) int {
	d.ready()
	n := min(len(src), len(dst)/2)
	dst, src = dst[:2*n], src[:n]
	for i, c := range src {
		dst[2*i], dst[2*i+1] = d.decodeOctet(c)
	}
	return 2 * n
}

// decodeOctet decodes one octet into two consecutive output samples.
func (d *Decoder) decodeOctet(c byte) (int16, int16) {
	rl := d.lower.decodeLower(int(c & 0x3f))
	rh := d.higher.decodeHigher(int(c >> 6))

	// Receive QMF (clause 4.4), scaled back to 16-bit samples: 2^-11 is
	// the 2^-12 of the filter gain less the halving in the encoder.
	a, b := d.qmf.push(rl+rh, rl-rh)
	return int16(sat(a >> 11)), int16(sat(b >> 11))
}

// decodeLower reconstructs the lower sub-band signal from the 6-bit code
// il (blocks 5L and 6L of clause 6, mode 1) and updates the band with its
// 4-bit core exactly as the encoder did.
func (b *band) decodeLower(il int) int32 {
	// INVQBL and RECONS (clause 4.1): the 6-bit output, then LIMIT.
	rl := b.s + b.det*qm6[il]>>15
	rl = min(max(rl, -16384), 16383)

	// INVQAL, LOGSCL, SCALEL and the predictor (clauses 4.2 and 4.3).
	ril := il >> 2
	dl := b.det * qm4[ril] >> 15
	b.adaptLower(ril)
	b.predict(dl)
	return rl
}

// decodeHigher reconstructs the higher sub-band signal from the 2-bit code
// ih (block 5H of clause 6) and updates the band.
func (b *band) decodeHigher(ih int) int32 {
	dh := b.det * qm2[ih] >> 15
	rh := min(max(b.s+dh, -16384), 16383)
	b.adaptHigher(ih)
	b.predict(dh)
	return rh
}
