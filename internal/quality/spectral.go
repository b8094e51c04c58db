package quality

import "math"

// Spectral scores received speech against sent speech by their short-time
// magnitude spectra, ignoring phase: a codec that rebuilds the speech
// perceptually (Opus: its waveform and phase are not kept) or a concealment
// that continues the pitch with another phase reads as clean, where the
// waveform SNR of FrameSNR calls it noise. The measure of one frame is the
// spectral SNR
//
//	10·log10( Σ|S(f)|² / Σ(|S(f)| − g·|R(f)|)² )
//
// over the bins f of the band [Low, High] of the Hann-windowed frame: S the
// sent, R the received (aligned) speech, g one least-squares gain of the
// received magnitudes over all active frames (a receiver that plays a
// little louder or softer is not noise). It is the frame SNR of the
// frequency-weighted segmental SNR (fwSNRseg: Tribolet et al., ICASSP 1978;
// Hu and Loizou, "Evaluation of objective quality measures for speech
// enhancement", IEEE Trans. ASLP 16(1), 2008), which compares magnitude
// spectra the same way per critical band; here the bands are FFT bins and
// the frame's value is the ratio of the sums over them (each bin weighted
// by its energy) rather than a weighted mean of per-band dB.
//
// Why this and not the log-spectral distance: the distance weighs every
// bin alike in dB, so the quiet bins between harmonics and above the
// formants, where any codec leaves noise (G.711 its quantisation noise,
// Opus its noise filling), dominate it even when the speech is clean. The
// spectral SNR weighs each bin by its energy, and it has fixed points that
// make a threshold easy to place: a frame played as silence is exactly
// 0 dB whatever the speech was (Σ|S|²/Σ|S|²); an added noise N costs at
// most its own level (||S+N|−|S|| ≤ |N|), so white noise 20 dB under the
// frame leaves at least 20 dB; a different sound of the same level
// (another vowel: other formants) lands within a few dB of 0.
type Spectral struct {
	Rate      int     // samples per second
	Frame     int     // samples per frame (20 ms: 160 at 8 kHz)
	Hop       int     // samples between frame starts (Frame/2: 50 % overlap)
	Low, High float64 // the band scored, Hz
}

// Narrowband is the spectral analysis of 8 kHz speech: 20 ms frames every
// 10 ms, over the 100–3800 Hz that a G.711 call carries (and that every
// codec keeps when the audio is heard at 8 kHz).
var Narrowband = Spectral{Rate: 8000, Frame: 160, Hop: 80, Low: 100, High: 3800}

// SpectralScore is what Spectral.Score finds.
type SpectralScore struct {
	FrameDB []float64 // spectral SNR of each active frame, clamped to [MinFrameSNR, MaxFrameSNR]
	Starts  []int     // first sample of each of those frames
	Gain    float64   // g, the gain applied to the received magnitudes
}

// Mean is the mean spectral SNR over the active frames (0 when none).
func (s SpectralScore) Mean() float64 {
	if len(s.FrameDB) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s.FrameDB {
		sum += v
	}
	return sum / float64(len(s.FrameDB))
}

// Impaired is the share (0..1) of active frames under limitDB.
func (s SpectralScore) Impaired(limitDB float64) float64 {
	if len(s.FrameDB) == 0 {
		return 0
	}
	bad := 0
	for _, v := range s.FrameDB {
		if v < limitDB {
			bad++
		}
	}
	return float64(bad) / float64(len(s.FrameDB))
}

// Score computes the spectral SNR of every active frame of deg against
// ref: the frames of ref whose RMS is at least silence.
func (sp Spectral) Score(ref, deg []float64, silence float64) SpectralScore {
	var out SpectralScore
	n := min(len(ref), len(deg))
	if sp.Frame <= 0 || sp.Hop <= 0 || sp.Rate <= 0 {
		return out
	}
	size := 1
	for size < sp.Frame {
		size <<= 1
	}
	lo := max(int(math.Ceil(sp.Low*float64(size)/float64(sp.Rate))), 0)
	hi := min(int(math.Floor(sp.High*float64(size)/float64(sp.Rate))), size/2)
	win := hann(sp.Frame)
	buf := make([]complex128, size)
	mags := func(x []float64) []float64 {
		for i := range buf {
			buf[i] = 0
		}
		for i, v := range x {
			buf[i] = complex(v*win[i], 0)
		}
		fft(buf, false)
		m := make([]float64, hi-lo+1)
		for k := range m {
			c := buf[lo+k]
			m[k] = math.Hypot(real(c), imag(c))
		}
		return m
	}
	var sm, rm [][]float64
	var num, den float64
	for s := 0; s+sp.Frame <= n; s += sp.Hop {
		if rms(ref[s:s+sp.Frame]) < silence {
			continue
		}
		a, b := mags(ref[s:s+sp.Frame]), mags(deg[s:s+sp.Frame])
		for k := range a {
			num += a[k] * b[k]
			den += b[k] * b[k]
		}
		sm, rm = append(sm, a), append(rm, b)
		out.Starts = append(out.Starts, s)
	}
	out.Gain = 1
	if num > 0 && den > 0 {
		out.Gain = num / den
	}
	for i := range sm {
		out.FrameDB = append(out.FrameDB, gainSNR(sm[i], rm[i], out.Gain)) // 10·log10(Σ|S|² / Σ(|S|−g·|R|)²), clamped
	}
	return out
}

// hann is the periodic Hann window of n samples.
func hann(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return w
}

// SpectralImpairedDB is the spectral SNR under which a frame counts as
// impaired. Calibrated between the two sides it must separate: a frame
// played as silence is 0 dB, one replaced by another vowel about −2..1 dB,
// and half a frame silenced a little above 0 (spectral_test.go); clean
// speech through the bench's calls has its worst G.711 frames near 28 dB
// and 99 % of its Opus frames above about 8 dB (the baresip receiver;
// 1 % lower: transients that the encoder smears). 4 dB is the midpoint.
const SpectralImpairedDB = 4.0
