package quality

import (
	"math"
	"slices"
)

// FrameSNR returns the SNR in dB of deg against ref over one frame,
// clamped to [MinFrameSNR, MaxFrameSNR].
func FrameSNR(ref, deg []float64) float64 { return gainSNR(ref, deg, 1) }

// gainSNR is the SNR in dB of deg scaled by g against ref (equal lengths),
// clamped to [MinFrameSNR, MaxFrameSNR].
func gainSNR(ref, deg []float64, g float64) float64 {
	var sig, noise float64
	for i, v := range ref {
		d := v - g*deg[i]
		sig += v * v
		noise += d * d
	}
	switch {
	case sig == 0:
		return MinFrameSNR
	case noise == 0:
		return MaxFrameSNR
	}
	return min(max(10*math.Log10(sig/noise), MinFrameSNR), MaxFrameSNR)
}

// SegSNR returns the mean FrameSNR over the frames of frame samples whose
// ref RMS is at least silence, and how many frames that was (0, 0 when
// none is).
func SegSNR(ref, deg []float64, frame int, silence float64) (db float64, frames int) {
	var sum float64
	for s := 0; frame > 0 && s+frame <= min(len(ref), len(deg)); s += frame {
		if rms(ref[s:s+frame]) < silence {
			continue
		}
		sum += FrameSNR(ref[s:s+frame], deg[s:s+frame])
		frames++
	}
	if frames == 0 {
		return 0, 0
	}
	return sum / float64(frames), frames
}

// Impaired returns the share (0..1) of active sub-frames (sub samples,
// ref RMS at least silence) whose FrameSNR is below limitDB, and the
// number of active sub-frames.
func Impaired(ref, deg []float64, sub int, silence, limitDB float64) (share float64, frames int) {
	bad := 0
	for s := 0; sub > 0 && s+sub <= min(len(ref), len(deg)); s += sub {
		if rms(ref[s:s+sub]) < silence {
			continue
		}
		frames++
		if FrameSNR(ref[s:s+sub], deg[s:s+sub]) < limitDB {
			bad++
		}
	}
	if frames == 0 {
		return 0, 0
	}
	return float64(bad) / float64(frames), frames
}

// ImpairedRuns groups the impaired active sub-frames (as Impaired counts
// them) into runs: sub-frames at most gap sub-frames apart (counting
// silent ones) belong to one run. It returns the number of runs and their
// mean length in sub-frames (first to last, inclusive). One lost packet
// shows up as one run as long as the damage it did: the lost frame itself
// and whatever the concealment spoils around it.
func ImpairedRuns(ref, deg []float64, sub int, silence, limitDB float64, gap int) (runs int, meanLen float64) {
	first, last, total := -1, -1, 0
	for k := 0; sub > 0 && (k+1)*sub <= min(len(ref), len(deg)); k++ {
		s := k * sub
		if rms(ref[s:s+sub]) < silence || FrameSNR(ref[s:s+sub], deg[s:s+sub]) >= limitDB {
			continue
		}
		if first >= 0 && k-last <= gap+1 {
			last = k
			continue
		}
		if first >= 0 {
			total += last - first + 1
		}
		runs++
		first, last = k, k
	}
	if first >= 0 {
		total += last - first + 1
	}
	if runs == 0 {
		return 0, 0
	}
	return runs, float64(total) / float64(runs)
}

// Steps counts the delay steps: changes of the lag by more than tol
// samples between confident windows (skipping the others) that the next
// confident window confirms (its lag within tol of the new one). A single
// window whose lag stands out, as concealed speech can make it, is not a
// step.
func Steps(ws []Window, minPeak float64, tol int) int {
	var c []int
	for _, w := range ws {
		if w.Confident(minPeak) {
			c = append(c, w.Lag)
		}
	}
	if len(c) == 0 {
		return 0
	}
	n, cur := 0, c[0]
	for i := 1; i+1 < len(c); i++ {
		if abs(c[i]-cur) > tol && abs(c[i+1]-c[i]) <= tol {
			n++
			cur = c[i]
		}
	}
	return n
}

// MedianLag is the median lag of the confident windows (ok false when
// there is none).
func MedianLag(ws []Window, minPeak float64) (lag int, ok bool) {
	var l []int
	for _, w := range ws {
		if w.Confident(minPeak) {
			l = append(l, w.Lag)
		}
	}
	if len(l) == 0 {
		return 0, false
	}
	slices.Sort(l)
	return l[len(l)/2], true
}

// ActiveThreshold is the RMS level below which a sub-frame of x (sub
// samples) counts as silence: belowDB under the loudest sub-frame's RMS.
func ActiveThreshold(x []float64, sub int, belowDB float64) float64 {
	var peak float64
	for s := 0; sub > 0 && s+sub <= len(x); s += sub {
		peak = max(peak, rms(x[s:s+sub]))
	}
	return peak * math.Pow(10, -belowDB/20)
}

func energy(x []float64) float64 {
	var e float64
	for _, v := range x {
		e += v * v
	}
	return e
}

func rms(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return math.Sqrt(energy(x) / float64(len(x)))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
