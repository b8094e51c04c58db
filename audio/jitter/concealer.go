package jitter

import "math"

// Packet-loss concealment after ITU-T G.711 Appendix I, for 8 kHz PCM. The
// algorithm works on 10 ms blocks; Good and Conceal split longer frames.
const (
	plcBlock     = 80                     // 10 ms block (FRAMESZ)
	pitchMin     = 40                     // 5 ms: 200 Hz
	pitchMax     = 120                    // 15 ms: 66.7 Hz
	pitchDiff    = pitchMax - pitchMin    // search span
	olaMax       = ConcealerDelay         // longest quarter-period overlap: pitchMax/4
	histLen      = pitchMax*3 + olaMax    // 390: three periods plus an overlap
	corrLen      = 160                    // 20 ms correlation window
	corrBufLen   = corrLen + pitchMax     // samples the search looks at
	corrMinPower = 250.0                  // energy floor of the search
	ndec         = 2                      // decimation of the coarse search
	olaIncr      = 32                     // longer join per extra 10 ms lost (4 ms)
	attenPerBlk  = 0.2                    // gain lost per 10 ms after the first
	attenPerSmp  = attenPerBlk / plcBlock // per sample
	fadeBlocks   = 5                      // blocks after the first until silence
	maxSample16  = float32(math.MaxInt16) // clamp bounds
	minSample16  = float32(math.MinInt16) //
)

// ConcealerDelay is the delay, in samples, that a Concealer adds to the
// signal: G.711 Appendix I holds back 3.75 ms so that the start of a
// concealment can be blended into audio not yet played.
const ConcealerDelay = 30

// The delay line must hold a quarter of the longest pitch period.
var _ [0]struct{} = [olaMax - pitchMax/4]struct{}{}

// Concealer replaces lost frames of decoded 8 kHz PCM with a synthetic
// continuation: the last pitch period(s) repeated, fading to silence over
// 60 ms of consecutive loss, and cross-faded back into the next good frame
// (ITU-T G.711 Appendix I). Use one per received stream, on the playout path:
//
//	switch st {
//	case jitter.Frame: decode(pcm, payload); c.Good(pcm)
//	case jitter.Lost:  c.Conceal(pcm)
//	default:           clear(pcm); c.Good(pcm) // silence
//	}
//
// Good and Conceal both rewrite the frame in place with the samples to play,
// ConcealerDelay samples behind the input. They do not allocate. Frames are
// normally 160 samples (20 ms); any length works, multiples of 80 exactly.
//
// The zero value is ready to use. A Concealer is not safe for concurrent use.
type Concealer struct {
	history  [histLen]int16
	pitchBuf [histLen]float32
	lastQ    [olaMax]float32
	pitch    int // period in samples
	overlap  int // quarter period
	offset   int // read position in the pitch buffer
	pitchLen int // samples repeated: 1, 2 or 3 periods
	erased   int // consecutive concealed 10 ms blocks
}

// Good records a correctly received frame and replaces it, in place, with
// the samples to play: the input delayed by ConcealerDelay samples, and after
// a loss cross-faded from the concealment into the real signal.
func (c *Concealer) Good(frame []int16) {
	for len(frame) > 0 {
		n := min(len(frame), plcBlock)
		c.good(frame[:n])
		frame = frame[n:]
	}
}

// Conceal fills dst with a replacement for a lost frame.
func (c *Concealer) Conceal(dst []int16) {
	for len(dst) > 0 {
		n := min(len(dst), plcBlock)
		c.conceal(dst[:n])
		dst = dst[n:]
	}
}

// Reset forgets the history, as for a new stream.
func (c *Concealer) Reset() { *c = Concealer{} }

func (c *Concealer) good(s []int16) {
	if c.erased > 0 {
		// Longer erasures get longer joins (Appendix I: 1/4 period plus
		// 4 ms per extra 10 ms lost, at most 10 ms).
		var syn [plcBlock]int16
		olen := min(c.overlap+(c.erased-1)*olaIncr, plcBlock, len(s))
		c.synth(syn[:olen])
		c.joinAtEnd(s[:olen], syn[:olen])
		c.erased = 0
	}
	c.save(s)
}

func (c *Concealer) conceal(out []int16) {
	switch {
	case c.erased == 0:
		// First lost block: find the pitch and build a one-period buffer
		// whose end blends into its start, and blend the not yet played
		// tail of the history into it.
		for i, v := range c.history {
			c.pitchBuf[i] = float32(v)
		}
		c.pitch = c.findPitch()
		c.overlap = c.pitch >> 2
		tail := c.pitchBuf[histLen-c.overlap:]
		copy(c.lastQ[:c.overlap], tail)
		c.offset = 0
		c.pitchLen = c.pitch
		start := histLen - c.pitchLen
		overlapAdd(tail, tail, c.pitchBuf[start-c.overlap:start])
		for i, v := range tail {
			c.history[histLen-c.overlap+i] = int16(v) // within range: a blend of int16s
		}
		c.synth(out)
	case c.erased <= 2:
		// 10 and 20 ms into the loss: repeat one more period (2, then 3),
		// blending the old repetition into the new one.
		var tmp [olaMax]int16
		ov := min(c.overlap, len(out))
		saved := c.offset
		c.synth(tmp[:ov])
		c.offset = saved
		for c.offset > c.pitch {
			c.offset -= c.pitch
		}
		c.pitchLen += c.pitch
		start := histLen - c.pitchLen
		tail := c.pitchBuf[histLen-c.overlap:]
		overlapAdd(tail, c.lastQ[:c.overlap], c.pitchBuf[start-c.overlap:start])
		c.synth(out)
		overlapAdd16(out[:ov], tmp[:ov], out[:ov])
		c.scale(out)
	case c.erased > fadeBlocks:
		clear(out) // 60 ms: silence
	default:
		c.synth(out)
		c.scale(out)
	}
	c.erased++
	c.save(out)
}

// synth reads the repeated pitch buffer.
func (c *Concealer) synth(out []int16) {
	start := histLen - c.pitchLen
	for len(out) > 0 {
		n := min(c.pitchLen-c.offset, len(out))
		for i := range n {
			out[i] = int16(c.pitchBuf[start+c.offset+i])
		}
		c.offset += n
		if c.offset == c.pitchLen {
			c.offset = 0
		}
		out = out[n:]
	}
}

// scale attenuates by 20 % per 10 ms after the first 10 ms of loss.
func (c *Concealer) scale(out []int16) {
	g := float32(1 - float64(c.erased-1)*attenPerBlk)
	for i, v := range out {
		out[i] = int16(float32(v) * max(g, 0))
		g -= attenPerSmp
	}
}

// save appends s to the history and replaces s with the delayed output.
func (c *Concealer) save(s []int16) {
	n := len(s)
	copy(c.history[:], c.history[n:])
	copy(c.history[histLen-n:], s)
	copy(s, c.history[histLen-n-olaMax:histLen-olaMax])
}

// joinAtEnd cross-fades from the (attenuated) synthetic signal syn into the
// first good samples s.
func (c *Concealer) joinAtEnd(s, syn []int16) {
	gain := max(float32(1-float64(c.erased-1)*attenPerBlk), 0)
	incr := 1 / float32(len(s))
	incrg := incr * gain
	lw := (1 - incr) * gain
	rw := incr
	for i := range s {
		s[i] = sat16(lw*float32(syn[i]) + rw*float32(s[i]))
		lw -= incrg
		rw += incr
	}
}

// findPitch returns the period, in samples, that best matches the last
// 20 ms of history (normalised cross-correlation; a coarse search on every
// other sample and lag, then a fine one around the best).
func (c *Concealer) findPitch() int {
	pb := &c.pitchBuf
	l := histLen - corrLen
	r := histLen - corrBufLen
	energy, corr := 0.0, 0.0
	for i := 0; i < corrLen; i += ndec {
		energy += float64(pb[r+i]) * float64(pb[r+i])
		corr += float64(pb[r+i]) * float64(pb[l+i])
	}
	best := corr / math.Sqrt(max(energy, corrMinPower))
	bestMatch := 0
	for j := ndec; j <= pitchDiff; j += ndec {
		energy -= float64(pb[r]) * float64(pb[r])
		energy += float64(pb[r+corrLen]) * float64(pb[r+corrLen])
		r += ndec
		corr = 0
		for i := 0; i < corrLen; i += ndec {
			corr += float64(pb[r+i]) * float64(pb[l+i])
		}
		if v := corr / math.Sqrt(max(energy, corrMinPower)); v >= best {
			best, bestMatch = v, j
		}
	}

	lo := max(bestMatch-(ndec-1), 0)
	hi := min(bestMatch+(ndec-1), pitchDiff)
	r = histLen - corrBufLen + lo
	energy, corr = 0, 0
	for i := range corrLen {
		energy += float64(pb[r+i]) * float64(pb[r+i])
		corr += float64(pb[r+i]) * float64(pb[l+i])
	}
	best = corr / math.Sqrt(max(energy, corrMinPower))
	bestMatch = lo
	for j := lo + 1; j <= hi; j++ {
		energy -= float64(pb[r]) * float64(pb[r])
		energy += float64(pb[r+corrLen]) * float64(pb[r+corrLen])
		r++
		corr = 0
		for i := range corrLen {
			corr += float64(pb[r+i]) * float64(pb[l+i])
		}
		if v := corr / math.Sqrt(max(energy, corrMinPower)); v > best {
			best, bestMatch = v, j
		}
	}
	return pitchMax - bestMatch
}

// overlapAdd writes to o a linear cross-fade from l to r (o may alias l).
func overlapAdd(o, l, r []float32) {
	incr := 1 / float32(len(o))
	lw, rw := 1-incr, incr
	for i := range o {
		o[i] = min(max(lw*l[i]+rw*r[i], minSample16), maxSample16)
		lw -= incr
		rw += incr
	}
}

// overlapAdd16 is overlapAdd on int16 samples.
func overlapAdd16(o, l, r []int16) {
	incr := 1 / float32(len(o))
	lw, rw := 1-incr, incr
	for i := range o {
		o[i] = sat16(lw*float32(l[i]) + rw*float32(r[i]))
		lw -= incr
		rw += incr
	}
}

func sat16(v float32) int16 {
	return int16(min(max(v, minSample16), maxSample16))
}
