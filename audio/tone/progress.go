package tone

import (
	"fmt"
	"strings"
	"time"
)

// Region selects national call-progress tone plans (ITU-T E.180 supplement 2).
type Region string

// Supported regions.
const (
	RegionUS Region = "us" // North America: 440+480 Hz ringback, 480+620 Hz busy
	RegionEU Region = "eu" // CEPT (most of Europe): 425 Hz
	RegionUK Region = "uk" // United Kingdom: 400+450 Hz double ring
)

// Regions returns the supported regions.
func Regions() []Region { return []Region{RegionUS, RegionEU, RegionUK} }

// ParseRegion accepts a region name in any case.
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Regions() {
		if r == k {
			return r, nil
		}
	}
	return "", fmt.Errorf("tone: unknown region %q (want us, eu or uk)", s)
}

// progressAmplitude is the per-component peak level of call-progress tones
// (-16 dB of full scale).
const progressAmplitude = 0.15848931924611134

func progress(f1, f2 float64, cadence ...time.Duration) Pattern {
	a := [2]float64{progressAmplitude, progressAmplitude}
	if f2 == 0 {
		a[1] = 0
	}
	return Pattern{Freqs: [2]float64{f1, f2}, Amplitudes: a, Cadence: cadence}
}

const ms = time.Millisecond

// RingbackPattern returns the ringback (alerting) tone of r; unknown
// regions get RegionUS. Adjust the result and pass it to New to customise.
func RingbackPattern(r Region) Pattern {
	switch r {
	case RegionEU:
		return progress(425, 0, 1000*ms, 4000*ms)
	case RegionUK:
		return progress(400, 450, 400*ms, 200*ms, 400*ms, 2000*ms)
	default:
		return progress(440, 480, 2000*ms, 4000*ms)
	}
}

// BusyPattern returns the busy tone of r; unknown regions get RegionUS.
func BusyPattern(r Region) Pattern {
	switch r {
	case RegionEU:
		return progress(425, 0, 500*ms, 500*ms)
	case RegionUK:
		return progress(400, 0, 375*ms, 375*ms)
	default:
		return progress(480, 620, 500*ms, 500*ms)
	}
}

// Ringback returns the ringback tone a caller hears while the far end
// rings: US 440+480 Hz 2 s on 4 s off, EU 425 Hz 1 s on 4 s off, UK
// 400+450 Hz 0.4/0.2/0.4/2 s. Unknown regions get RegionUS.
func Ringback(r Region) *Tone { return New(RingbackPattern(r)) }

// Busy returns the busy tone of r; unknown regions get RegionUS.
func Busy(r Region) *Tone { return New(BusyPattern(r)) }

// RingPattern is the local ring for an incoming call: a double burst of
// 800+1000 Hz (0.4 s on, 0.2 s off, 0.4 s on, 2 s off) at -12 dBFS per
// component.
func RingPattern() Pattern {
	return Pattern{
		Freqs:      [2]float64{800, 1000},
		Amplitudes: [2]float64{Level(-12), Level(-12)},
		Cadence:    []time.Duration{400 * ms, 200 * ms, 400 * ms, 2000 * ms},
	}
}

// Ring returns the local ring for an incoming call (see RingPattern).
func Ring() *Tone { return New(RingPattern()) }
