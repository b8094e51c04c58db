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

// push appends the pair (first, second) and returns the two polyphase sums
// of clause 5 over the 24-word window w, oldest first, that now ends with
// the pair: a = Σ w[2i+1]·h(2i+1) over the second word of each pair and
// b = Σ w[2i]·h(2i) over the first. Each half has a DC gain of 4096.
//
// In the transmit QMF (clause 3.1) first and second are consecutive input
// samples and xL = (a+b)>>14, xH = (a-b)>>14; in the receive QMF (clause
// 4.4) they are RL+RH and RL-RH and the two output samples are a and b, in
// that order, scaled by 2^-11.
func (h *qmfHistory) push(first, second int32) (a, b int32) {
	if h.pos == len(h.x) {
		copy(h.x[:qmfTaps-2], h.x[len(h.x)-(qmfTaps-2):])
		h.pos = qmfTaps - 2
	}
	h.x[h.pos] = first
	h.x[h.pos+1] = second
	h.pos += 2
	w := (*[qmfTaps]int32)(h.x[h.pos-qmfTaps : h.pos])
	for i := range qmfCoeffs {
		b += w[2*i] * qmfCoeffs[i]      // h(2i)
		a += w[2*i+1] * qmfCoeffs[11-i] // h(22-2i) = h(2i+1)
	}
	return a, b
}
