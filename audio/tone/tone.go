// Package tone generates call-progress tones, DTMF digits and test sines as
// audio.Source values at audio.SampleRate.
//
// Generators are phase-continuous across ReadFrame calls, accept any dst
// length (normally audio.FrameSamples), never block and never allocate.
// Cadenced tones fade each burst in and out over 2 ms to avoid clicks.
// Levels are peak amplitudes as a fraction of full scale (1.0 = 32767); use
// Level to convert from dB.
//
// A generator is not safe for concurrent use.
package tone

import (
	"io"
	"math"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// rampPerSecond: the fade-in/out of each burst lasts 1/500 s (2 ms).
const rampPerSecond = 500

// Level converts a peak level in dB relative to full scale into the linear
// amplitude the constructors take: Level(-6) ≈ 0.5.
func Level(db float64) float64 { return math.Pow(10, db/20) }

// Pattern describes a cadenced one- or two-frequency tone.
type Pattern struct {
	// Freqs are the component frequencies in Hz; a zero Freqs[1] means a
	// single tone.
	Freqs [2]float64
	// Amplitudes are the peak amplitudes of the components, 0..1 of full
	// scale. Their sum should stay below 1 to avoid clipping.
	Amplitudes [2]float64
	// Cadence alternates on and off durations: on, off, on, off, …; it
	// repeats from the start. Empty means continuously on.
	Cadence []time.Duration
	// Once stops the tone after one pass of Cadence: the call to ReadFrame
	// after the one that delivered the last sample returns io.EOF. Once
	// without a Cadence has no effect.
	Once bool
}

// maxSegments bounds the cadence length a Tone stores without allocating
// per frame (the slice is copied once at construction).
const maxSegments = 16

// Tone is a generator built from a Pattern. It implements audio.Source.
type Tone struct {
	inc     [2]float64 // phase increment per sample, in cycles
	amp     [2]float64
	phase   [2]float64 // current phase, in cycles [0, 1)
	segs    []int      // cadence in samples; nil when continuous
	once    bool
	seg     int // current cadence segment
	pos     int // samples played in the current segment
	done    bool
	pattern Pattern
	rate    int
	ramp    int // fade length in samples
}

// New returns a generator for p. Cadence entries are rounded to whole
// samples; at most 16 entries are used.
func New(p Pattern) *Tone { return NewAt(p, audio.SampleRate) }

// NewAt returns a generator for p whose samples are at rate Hz (a rate of
// 0 or less means audio.SampleRate).
func NewAt(p Pattern, rate int) *Tone {
	if rate <= 0 {
		rate = audio.SampleRate
	}
	t := &Tone{once: p.Once && len(p.Cadence) > 0, pattern: p, rate: rate, ramp: max(rate/rampPerSecond, 1)}
	for i := range 2 {
		t.inc[i] = p.Freqs[i] / float64(rate)
		t.amp[i] = p.Amplitudes[i]
		if p.Freqs[i] == 0 {
			t.amp[i] = 0
		}
	}
	if len(p.Cadence) > 0 {
		c := p.Cadence[:min(len(p.Cadence), maxSegments)]
		t.segs = make([]int, len(c))
		total := 0
		for i, d := range c {
			t.segs[i] = max(int(math.Round(d.Seconds()*float64(rate))), 0)
			total += t.segs[i]
		}
		if total == 0 { // a cadence of zeros would spin; treat as silence
			t.segs = []int{0, 1}
		}
	}
	return t
}

// Pattern returns the pattern the tone was built from.
func (t *Tone) Pattern() Pattern { return t.pattern }

// NewSine returns a continuous sine of freqHz at the given peak amplitude
// (0..1 of full scale).
func NewSine(freqHz, amplitude float64) *Tone {
	return New(Pattern{Freqs: [2]float64{freqHz}, Amplitudes: [2]float64{amplitude}})
}

// NewSineAt is NewSine with samples at rate Hz.
func NewSineAt(freqHz, amplitude float64, rate int) *Tone {
	return NewAt(Pattern{Freqs: [2]float64{freqHz}, Amplitudes: [2]float64{amplitude}}, rate)
}

// SampleRate implements audio.Rated: the rate of the samples.
func (t *Tone) SampleRate() int { return t.rate }

// Reset restarts the tone from the beginning of its cadence with zero phase.
func (t *Tone) Reset() {
	t.phase = [2]float64{}
	t.seg, t.pos, t.done = 0, 0, false
}

// ReadFrame implements audio.Source: it fills dst with the next samples.
// A tone made with Once fills the rest of its last frame with silence and
// returns io.EOF (with dst silent) from the next call on.
func (t *Tone) ReadFrame(dst []int16) error {
	if t.done {
		clear(dst)
		return io.EOF
	}
	for i := range dst {
		dst[i] = t.next()
	}
	if t.once && t.finished() {
		t.done = true // report io.EOF on the next call, not after a silent frame
	}
	return nil
}

// finished reports whether every cadence segment has been played.
func (t *Tone) finished() bool {
	if t.done {
		return true
	}
	if t.pos < t.segs[t.seg] {
		return false
	}
	for _, n := range t.segs[t.seg+1:] {
		if n > 0 {
			return false
		}
	}
	return true
}

// next returns one sample and advances the oscillators and the cadence.
func (t *Tone) next() int16 {
	if t.done {
		return 0
	}
	gain := 1.0
	if t.segs != nil {
		for t.pos >= t.segs[t.seg] { // skip finished (or empty) segments
			t.pos = 0
			t.seg++
			if t.seg == len(t.segs) {
				t.seg = 0
				if t.once {
					t.done = true
				}
			}
			if t.done {
				return 0
			}
		}
		if t.seg%2 == 1 {
			gain = 0
		} else {
			n := t.segs[t.seg]
			r := float64(min(t.pos+1, n-t.pos, t.ramp)) / float64(t.ramp)
			gain = min(r, 1)
		}
		t.pos++
	}
	var v float64
	for i := range 2 {
		v += t.amp[i] * math.Sin(2*math.Pi*t.phase[i])
		t.phase[i] += t.inc[i]
		t.phase[i] -= math.Floor(t.phase[i])
	}
	return audio.Int16(v * gain * math.MaxInt16)
}

// Silence is an audio.Source that produces endless silence.
type Silence struct{}

// ReadFrame implements audio.Source: it zeroes dst.
func (Silence) ReadFrame(dst []int16) error {
	clear(dst)
	return nil
}
