// Package resample converts mono int16 audio between sample rates, for
// example between the 8 kHz codec rate and a sound card's 16, 44.1 or
// 48 kHz.
//
// A Resampler is a streaming rational polyphase filter: the rate ratio is
// reduced to L/M, and each output sample is the dot product of one of L
// filter phases with the most recent input. The filter is a Kaiser-windowed
// sinc (β = 8, ±32 zero crossings of the lower rate) with its cutoff at 46%
// of the lower rate, so the band up to 3.4 kHz passes flat at 8 kHz and
// images and aliases are attenuated by about 80 dB. Its group delay is 4 ms
// of the lower rate (Latency).
//
// All buffers are allocated by New; Process never allocates. A Resampler is
// not safe for concurrent use.
package resample

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// Filter design parameters.
const (
	zeroCrossings = 32   // sinc zero crossings each side, in periods of the lower rate
	kaiserBeta    = 8.0  // stop-band attenuation about 80 dB
	cutoff        = 0.46 // fraction of the lower rate (0.5 = its Nyquist frequency)
	maxCoeffs     = 1 << 20
	maxRate       = 1_000_000
)

// ErrRate is returned by New for rates it cannot handle.
var ErrRate = errors.New("resample: unsupported rate")

// Resampler converts a stream from one rate to another. Create it with New.
type Resampler struct {
	inRate, outRate int
	l, m            int       // reduced ratio out/in = l/m
	taps            int       // coefficients per phase
	coef            []float64 // phase p occupies coef[p*taps : (p+1)*taps], oldest input first
	hist            []float64 // 2*taps: each input stored twice so a window is contiguous
	w               int       // next write index into hist, 0..taps-1
	phase           int       // up-sampled time of the next output relative to the newest input
}

// New returns a Resampler from inRate to outRate (Hz). Equal rates give a
// pass-through copy.
func New(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || inRate > maxRate || outRate > maxRate {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz", ErrRate, inRate, outRate)
	}
	g := gcd(inRate, outRate)
	r := &Resampler{inRate: inRate, outRate: outRate, l: outRate / g, m: inRate / g}
	if r.l == 1 && r.m == 1 {
		return r, nil
	}
	// Filter span in input samples: ±zeroCrossings periods of the lower rate.
	span := float64(zeroCrossings) * float64(inRate) / float64(min(inRate, outRate))
	r.taps = 2 * int(math.Ceil(span))
	if r.l*r.taps > maxCoeffs {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz needs %d filter phases", ErrRate, inRate, outRate, r.l)
	}
	r.design()
	r.hist = make([]float64, 2*r.taps)
	return r, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// design fills coef with the polyphase decomposition of a Kaiser-windowed
// sinc at the up-sampled rate L·in, each phase normalised to unity DC gain.
func (r *Resampler) design() {
	n := r.l * r.taps
	up := float64(r.l) * float64(r.inRate)           // up-sampled rate
	fc := cutoff * float64(min(r.inRate, r.outRate)) // Hz
	center := float64(n-1) / 2
	half := float64(n) / 2
	i0b := besselI0(kaiserBeta)
	h := make([]float64, n)
	for i := range h {
		x := float64(i) - center
		t := 2 * fc / up * x
		sinc := 1.0
		if t != 0 {
			sinc = math.Sin(math.Pi*t) / (math.Pi * t)
		}
		u := x / half
		w := besselI0(kaiserBeta*math.Sqrt(max(0, 1-u*u))) / i0b
		h[i] = sinc * w
	}
	r.coef = make([]float64, n)
	for p := range r.l {
		row := r.coef[p*r.taps : (p+1)*r.taps]
		var sum float64
		for k := range r.taps {
			// Tap k of phase p multiplies x[n-k]; store oldest first.
			row[r.taps-1-k] = h[p+k*r.l]
			sum += h[p+k*r.l]
		}
		for k := range row {
			row[k] /= sum
		}
	}
}

// besselI0 is the zeroth-order modified Bessel function of the first kind.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-17 {
			break
		}
	}
	return sum
}

// InRate returns the input rate in Hz.
func (r *Resampler) InRate() int { return r.inRate }

// OutRate returns the output rate in Hz.
func (r *Resampler) OutRate() int { return r.outRate }

// Latency returns the filter's group delay.
func (r *Resampler) Latency() time.Duration {
	if r.taps == 0 {
		return 0
	}
	up := float64(r.l) * float64(r.inRate)
	return time.Duration(float64(r.l*r.taps-1) / 2 / up * float64(time.Second))
}

// MaxOut returns how many output samples Process will produce from n input
// samples in the current state: size dst with it. Over a stream the counts
// add up exactly to the rate ratio; a 20 ms frame always maps to a 20 ms
// frame (160 samples at 8 kHz become 960 at 48 kHz or 882 at 44.1 kHz, and
// back).
func (r *Resampler) MaxOut(n int) int {
	if r.taps == 0 {
		return n
	}
	// Outputs whose up-sampled time falls before n*L, counted from phase.
	span := n*r.l - r.phase
	if span <= 0 {
		return 0
	}
	return (span + r.m - 1) / r.m
}

// Process consumes all of src and writes the resampled samples to dst,
// returning how many it wrote. dst must hold MaxOut(len(src)) samples,
// otherwise Process returns io.ErrShortBuffer and consumes nothing.
func (r *Resampler) Process(dst, src []int16) (int, error) {
	if len(dst) < r.MaxOut(len(src)) {
		return 0, io.ErrShortBuffer
	}
	if r.taps == 0 {
		return copy(dst, src), nil
	}
	out := 0
	taps, hist := r.taps, r.hist
	for _, s := range src {
		v := float64(s)
		hist[r.w] = v
		hist[r.w+taps] = v
		r.w++
		if r.w == taps {
			r.w = 0
		}
		win := hist[r.w : r.w+taps]
		for r.phase < r.l {
			c := r.coef[r.phase*taps : r.phase*taps+taps]
			dst[out] = audio.Int16(dot(c, win))
			out++
			r.phase += r.m
		}
		r.phase -= r.l
	}
	return out, nil
}

// dot returns the dot product of equal-length a and b.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Reset clears the filter history, as if the Resampler were new.
func (r *Resampler) Reset() {
	clear(r.hist)
	r.w, r.phase = 0, 0
}
