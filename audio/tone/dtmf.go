package tone

import (
	"fmt"
	"time"
)

// DTMF levels: the high group is sent 2 dB above the low group (ITU-T
// Q.23/Q.24 "twist"), with room to spare before the sum clips.
const (
	DTMFLowAmplitude  = 0.35481338923357547 // -9 dB of full scale, peak
	DTMFHighAmplitude = 0.44668359215096315 // -7 dB of full scale, peak
)

// Row (low group) and column (high group) frequencies in Hz (ITU-T Q.23).
var (
	dtmfLow  = [4]float64{697, 770, 852, 941}
	dtmfHigh = [4]float64{1209, 1336, 1477, 1633}
)

// DTMFLowFreqs returns the four row (low group) frequencies in Hz.
func DTMFLowFreqs() [4]float64 { return dtmfLow }

// DTMFHighFreqs returns the four column (high group) frequencies in Hz.
func DTMFHighFreqs() [4]float64 { return dtmfHigh }

// dtmfKeys is the keypad: row r, column c is dtmfKeys[r][c].
var dtmfKeys = [4]string{"123A", "456B", "789C", "*0#D"}

// DTMFFreqs returns the low and high frequency of a DTMF digit: 0-9, *, #
// and A-D (a-d accepted). ok is false for anything else.
func DTMFFreqs(digit rune) (low, high float64, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r, row := range dtmfKeys {
		for c, k := range row {
			if k == digit {
				return dtmfLow[r], dtmfHigh[c], true
			}
		}
	}
	return 0, 0, false
}

// DTMFDigit returns the digit for a (row, column) index pair, for decoders.
func DTMFDigit(row, col int) rune {
	if row < 0 || row > 3 || col < 0 || col > 3 {
		return 0
	}
	return rune(dtmfKeys[row][col])
}

// NewDTMF returns a tone that plays digit for on, then silence for off, and
// then ends (ReadFrame returns io.EOF). Typical timing is 100 ms on, 100 ms
// off; ITU-T Q.24 receivers need at least 40 ms of each.
func NewDTMF(digit rune, on, off time.Duration) (*Tone, error) {
	low, high, ok := DTMFFreqs(digit)
	if !ok {
		return nil, fmt.Errorf("tone: %q is not a DTMF digit", digit)
	}
	if on <= 0 || off < 0 {
		return nil, fmt.Errorf("tone: dtmf %q: bad timing on %v off %v", digit, on, off)
	}
	return New(Pattern{
		Freqs:      [2]float64{low, high},
		Amplitudes: [2]float64{DTMFLowAmplitude, DTMFHighAmplitude},
		Cadence:    []time.Duration{on, off},
		Once:       true,
	}), nil
}
