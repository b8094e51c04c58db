// Package quality compares received speech with the speech that was sent:
// it aligns the two by cross-correlation (once globally, then per window
// to follow a delay that changes during the call), and scores the aligned
// signal with segmental SNR, the share of impaired 5 ms sub-frames and the
// number of delay steps.
//
// Those measures compare waveforms, so they hold only for a codec that
// keeps the waveform (G.711) and a concealment that keeps the phase: Opus,
// which rebuilds speech perceptually, reads half "impaired" on them with
// no loss at all. Spectral (spectral.go) compares short-time magnitude
// spectra instead and ignores phase; its share of impaired 20 ms frames
// is the measure to judge any codec by.
//
// The functions are pure and work on float64 samples of one rate; none is
// meant for a real-time path. The bench in internal/bench uses them on
// 8 kHz mouth and ear recordings of one PulseAudio clock.
package quality

import (
	"math"
	"slices"
)

// GlobalLag returns the lag in [minLag, maxLag] at which rx best matches
// ref, rx[i+lag] ≈ ref[i] (a positive lag: rx is ref delayed), by the
// plain cross-correlation sum over the overlap, computed with an FFT.
// peak is that sum normalised by the energies of ref and rx over their
// whole lengths (1 for an exact delayed copy inside the overlap). Silent
// inputs or an empty range give minLag, 0.
func GlobalLag(ref, rx []float64, minLag, maxLag int) (lag int, peak float64) {
	lag = minLag
	den := math.Sqrt(energy(ref) * energy(rx))
	if den == 0 || maxLag < minLag || len(ref) == 0 || len(rx) == 0 {
		return lag, 0
	}
	c := XCorr(ref, rx)
	off := len(ref) - 1 // c[off+l] is the sum at lag l
	best := math.Inf(-1)
	for l := max(minLag, -off); l <= min(maxLag, len(rx)-1); l++ {
		if v := c[off+l]; v > best {
			best, lag = v, l
		}
	}
	if math.IsInf(best, -1) {
		return minLag, 0
	}
	return lag, best / den
}

// SubSampleLag refines an integer lag (as GlobalLag finds it) to a
// fraction of a sample: the vertex of the parabola through the
// cross-correlation sums at lag-1, lag and lag+1. A receiver that resamples
// (an 8 kHz call through a 48 kHz device) can be half a sample off, which
// alone costs speech at 8 kHz some 20 dB of SNR at an integer lag.
func SubSampleLag(ref, rx []float64, lag int) float64 {
	dot := func(l int) float64 {
		var d float64
		for i := max(0, -l); i < min(len(ref), len(rx)-l); i++ {
			d += ref[i] * rx[i+l]
		}
		return d
	}
	cm, c0, cp := dot(lag-1), dot(lag), dot(lag+1)
	den := cm - 2*c0 + cp
	if den >= 0 { // not a maximum
		return float64(lag)
	}
	return float64(lag) + min(max(0.5*(cm-cp)/den, -0.5), 0.5)
}

// Shift returns x advanced by frac samples (|frac| ≤ 1): out[i] ≈
// x(i+frac), by a Hann-windowed sinc over 33 taps (frac 0 copies x).
func Shift(x []float64, frac float64) []float64 {
	out := make([]float64, len(x))
	if frac == 0 {
		copy(out, x)
		return out
	}
	const half = 16
	var taps [2*half + 1]float64
	for k := -half; k <= half; k++ {
		t := float64(k) - frac
		s := 1.0
		if t != 0 {
			s = math.Sin(math.Pi*t) / (math.Pi * t)
		}
		taps[k+half] = s * (0.5 + 0.5*math.Cos(math.Pi*t/(half+1)))
	}
	for i := range out {
		var v float64
		for k := -half; k <= half; k++ {
			if j := i + k; j >= 0 && j < len(x) {
				v += x[j] * taps[k+half]
			}
		}
		out[i] = v
	}
	return out
}

// XCorr returns the cross-correlation c of a and b: c[len(a)-1+l] =
// Σ a[i]·b[i+l] for l from -(len(a)-1) to len(b)-1 (length len(a)+len(b)-1),
// computed with a radix-2 FFT.
func XCorr(a, b []float64) []float64 {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	n := len(a) + len(b) - 1
	size := 1
	for size < n {
		size <<= 1
	}
	fa := make([]complex128, size)
	fb := make([]complex128, size)
	// Correlation is convolution with a reversed: put a reversed at the start.
	for i, v := range a {
		fa[len(a)-1-i] = complex(v, 0)
	}
	for i, v := range b {
		fb[i] = complex(v, 0)
	}
	fft(fa, false)
	fft(fb, false)
	for i := range fa {
		fa[i] *= fb[i]
	}
	fft(fa, true)
	c := make([]float64, n)
	for i := range c {
		c[i] = real(fa[i]) / float64(size)
	}
	return c
}

// fft transforms x in place (len(x) a power of two); inverse without the 1/n.
func fft(x []complex128, inverse bool) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for size := 2; size <= n; size <<= 1 {
		ang := sign * 2 * math.Pi / float64(size)
		wn := complex(math.Cos(ang), math.Sin(ang))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := range size / 2 {
				u, v := x[start+k], x[start+k+size/2]*w
				x[start+k], x[start+k+size/2] = u+v, u-v
				w *= wn
			}
		}
	}
}

// Window is the local alignment of one window of the sent signal.
type Window struct {
	Start  int     // first sample of the window in ref
	Lag    int     // rx[Start+i+Lag] ≈ ref[Start+i]
	Peak   float64 // normalised correlation at Lag (-1..1)
	Active bool    // the window of ref is above the silence threshold
}

// LocalLags cuts ref into windows of win samples and finds, for each
// active one (RMS at least silence), the lag within center±radius that
// maximises the normalised correlation between the window and rx (lags
// that would leave rx, or meet silence in rx, are skipped). A silent
// window, or an active one with no lag to try, keeps Lag = center and
// Peak 0.
func LocalLags(ref, rx []float64, win, center, radius int, silence float64) []Window {
	if win <= 0 {
		return nil
	}
	var out []Window
	for s := 0; s+win <= len(ref); s += win {
		w := Window{Start: s, Lag: center}
		seg := ref[s : s+win]
		e := energy(seg)
		w.Active = math.Sqrt(e/float64(win)) >= silence && e > 0
		if w.Active {
			best := math.Inf(-1)
			for l := center - radius; l <= center+radius; l++ {
				if s+l < 0 || s+l+win > len(rx) {
					continue
				}
				r := rx[s+l : s+l+win]
				var dot, er float64
				for i, v := range seg {
					dot += v * r[i]
					er += r[i] * r[i]
				}
				if er == 0 {
					continue
				}
				if p := dot / math.Sqrt(e*er); p > best {
					best, w.Lag = p, l
				}
			}
			if !math.IsInf(best, -1) {
				w.Peak = best
			}
		}
		out = append(out, w)
	}
	return out
}

// Confident reports whether a window's alignment can be trusted: it is
// active and its correlation peak reaches minPeak.
func (w Window) Confident(minPeak float64) bool { return w.Active && w.Peak >= minPeak }

// Aligned returns rx moved onto ref's time axis: out[i] = g·rx[i+lag].
// Each window has a lag: its own when its alignment is confident, else that
// of the nearest confident window before it (after it at the start;
// fallback when there is none). Each sub-frame of sub samples then takes,
// of the lags of its own window and the two next to it, the one that
// matches ref best: a delay step inside a window, or a window whose own
// lag was thrown off by concealment, does not misalign speech that came
// through intact (the step itself is counted by Steps). Samples whose lag
// leaves rx are 0. g is the least-squares gain over the confident windows
// at their own lags, so a receiver that plays a little louder or softer is
// not counted as noise.
func Aligned(ref, rx []float64, ws []Window, minPeak float64, fallback, sub int) []float64 {
	lags := make([]int, len(ws))
	last := fallback
	if i := slices.IndexFunc(ws, func(w Window) bool { return w.Confident(minPeak) }); i >= 0 {
		last = ws[i].Lag // the windows before the first confident one take its lag
	}
	for i, w := range ws {
		if w.Confident(minPeak) {
			last = w.Lag
		}
		lags[i] = last
	}
	win := len(ref)
	if len(ws) > 1 {
		win = ws[1].Start - ws[0].Start
	}
	at := func(i, lag int) float64 {
		if j := i + lag; j >= 0 && j < len(rx) {
			return rx[j]
		}
		return 0
	}
	// Gain over confident windows at their own lags.
	var num, den float64
	for _, w := range ws {
		if !w.Confident(minPeak) {
			continue
		}
		for i := w.Start; i < min(w.Start+win, len(ref)); i++ {
			v := at(i, w.Lag)
			num += ref[i] * v
			den += v * v
		}
	}
	g := 1.0
	if den > 0 && num > 0 {
		g = num / den
	}
	sub = max(sub, 1)
	out := make([]float64, len(ref))
	for s := 0; s < len(ref); s += sub {
		e := min(s+sub, len(ref))
		k := 0
		if win > 0 && len(lags) > 0 {
			k = min(s/win, len(lags)-1)
		}
		cands := []int{fallback}
		if len(lags) > 0 {
			cands = []int{lags[k], lags[max(k-1, 0)], lags[min(k+1, len(lags)-1)]}
		}
		best, bestErr := cands[0], math.Inf(1)
		for _, lag := range cands {
			var err float64
			for i := s; i < e; i++ {
				d := ref[i] - g*at(i, lag)
				err += d * d
			}
			if err < bestErr {
				best, bestErr = lag, err
			}
		}
		for i := s; i < e; i++ {
			out[i] = g * at(i, best)
		}
	}
	return out
}

// Segmental SNR clamps each frame's SNR to this range (the usual
// convention: a silent or perfect frame must not dominate the mean).
const (
	MinFrameSNR = -10.0
	MaxFrameSNR = 35.0
)
