package g722

// qmfTaps is the length of the transmit and receive QMF (clause 5).
const qmfTaps = 24

// qmfHistory holds the last qmfTaps input words of a QMF, oldest first,
// in a buffer long enough that a frame shifts it only now and then.
type qmfHistory struct {
	x   [qmfTaps + 2*qmfSpan]int32
	pos int // x[pos-qmfTaps : pos] is the current window
}

// qmfSpan is how many sample pairs fit in the buffer before the window is
// moved back to its start.
const qmfSpan = 160

func (h *qmfHistory) reset() {
	*h = qmfHistory{pos: qmfTaps}
}

// push appends the pair (first, second) and returns the two filter sums of
// clause 5 over the new window: odd pairs the even taps with the older of
// each pair of words, even the odd taps with the newer.
//
// In the transmit QMF (clause 3.1) first and second are consecutive input
// samples and xL = (even+odd)>>14, xH = (even-odd)>>14; in the receive QMF
// (clause 4.4) they are RL+RH and RL-RH and the outputs are even and odd, in
// that order, scaled by 2^-11.
func (h *qmfHistory) push(first, second int32) (even, odd int32) {
	if h.pos == len(h.x) {
		copy(h.x[:qmfTaps-2], h.x[len(h.x)-(qmfTaps-2):])
		h.pos = qmfTaps - 2
	}
	h.x[h.pos] = first
	h.x[h.pos+1] = second
	h.pos += 2
	w := (*[qmfTaps]int32)(h.x[h.pos-qmfTaps : h.pos])
	for i := range qmfCoeffs {
		odd += w[2*i] * qmfCoeffs[i]
		even += w[2*i+1] * qmfCoeffs[11-i]
	}
	return even, odd
}
