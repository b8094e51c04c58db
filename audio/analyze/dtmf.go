package analyze

import (
	"math"
	"strings"

	"github.com/teaphone/teaphone/audio/tone"
)

// DTMF detector thresholds (in the spirit of ITU-T Q.24).
const (
	dtmfMinDBFS   = -40.0 // quietest window considered
	dtmfMinShare  = 0.7   // the two tones hold this share of the window energy
	dtmfMaxTwist  = 10.0  // dB between the two tones, either way
	dtmfPeakRatio = 4.0   // strongest tone of a group over the runner-up (6 dB)
	dtmfHit       = 2     // consecutive windows to accept a digit
	dtmfGap       = 2     // consecutive windows without it to end the digit
)

// DetectDTMF returns the DTMF digits (0-9, *, #, A-D) present in samples,
// in order. It runs Goertzel filters on the eight DTMF frequencies over
// 20 ms windows with a 10 ms hop; a digit must be seen in two consecutive
// windows to count and is reported once until it stops for two windows, so
// tones of 40 ms or more with 40 ms gaps are resolved.
func DetectDTMF(samples []int16, rate int) string {
	n := frameLen(rate)
	hop := max(n/2, 1)
	low, high := tone.DTMFLowFreqs(), tone.DTMFHighFreqs()
	var out strings.Builder
	var cur rune // digit being tracked
	run, miss, reported := 0, 0, false
	for off := 0; off+n <= len(samples); off += hop {
		d := dtmfWindow(samples[off:off+n], rate, &low, &high)
		switch {
		case d != 0 && d == cur:
			run++
			miss = 0
		case d != 0:
			cur, run, miss, reported = d, 1, 0, false
		default:
			miss++
			if miss >= dtmfGap {
				cur, run, reported = 0, 0, false
			}
		}
		if cur != 0 && !reported && run >= dtmfHit {
			out.WriteRune(cur)
			reported = true
		}
	}
	return out.String()
}

// dtmfWindow classifies one window: the digit, or 0.
func dtmfWindow(x []int16, rate int, low, high *[4]float64) rune {
	var total float64
	var pl, ph [4]float64
	for i := range 4 {
		pl[i], total = goertzel(x, rate, low[i])
		ph[i], _ = goertzel(x, rate, high[i])
	}
	if total == 0 || ToDBFS(math.Sqrt(total/float64(len(x)))) < dtmfMinDBFS {
		return 0
	}
	r, rv, rv2 := strongest(&pl)
	c, cv, cv2 := strongest(&ph)
	if rv < dtmfPeakRatio*rv2 || cv < dtmfPeakRatio*cv2 {
		return 0
	}
	if (rv+cv)/total < dtmfMinShare {
		return 0
	}
	if twist := 10 * math.Log10(cv/rv); math.Abs(twist) > dtmfMaxTwist {
		return 0
	}
	return tone.DTMFDigit(r, c)
}

// strongest returns the index of the largest value, it, and the runner-up.
func strongest(p *[4]float64) (idx int, best, second float64) {
	best, second = -1, -1
	for i, v := range p {
		if v > best {
			idx, best, second = i, v, best
		} else if v > second {
			second = v
		}
	}
	return idx, best, second
}
