// Package audio holds the PCM frame format shared by codecs, media and devices:
// mono signed 16-bit samples in 20 ms frames. A frame's length gives its
// rate: 160 samples at 8 kHz (narrowband, G.711), 320 at 16 kHz (G.722),
// 960 at 48 kHz (Opus). A Source or Sink that is not at 8 kHz says so by
// implementing [Rated]; the phone converts between a call's rate and a
// source's rate once, where they meet.
package audio

import (
	"math"
	"time"
)

// Frame format at the codec boundary.
const (
	SampleRate    = 8000
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = SampleRate / 50 // 160

	// MaxRate is the highest rate a frame may have (Opus: 48 kHz), and
	// MaxFrameSamples its frame length.
	MaxRate         = 48000
	MaxFrameSamples = MaxRate / 50 // 960
)

// FrameSamplesAt returns the length of a 20 ms frame at rate Hz.
func FrameSamplesAt(rate int) int { return rate / 50 }

// Rated is implemented by a Source or Sink whose frames are not at
// SampleRate: SampleRate returns the rate of the frames it reads or takes.
type Rated interface {
	SampleRate() int
}

// RateOf returns v's SampleRate when it implements [Rated], else SampleRate
// (every Source and Sink without it works at 8 kHz).
func RateOf(v any) int {
	if r, ok := v.(Rated); ok {
		if n := r.SampleRate(); n > 0 {
			return n
		}
	}
	return SampleRate
}

// Source produces 20 ms frames on demand. ReadFrame fills dst (len FrameSamples)
// and must not block: a source with nothing to give fills silence. It returns
// io.EOF when it is finished for good (a file that ended).
type Source interface {
	ReadFrame(dst []int16) error
}

// Sink consumes 20 ms frames. WriteFrame must not block and must not keep src.
type Sink interface {
	WriteFrame(src []int16) error
}

// SourceFunc adapts a function to Source.
type SourceFunc func(dst []int16) error

// ReadFrame implements Source.
func (f SourceFunc) ReadFrame(dst []int16) error { return f(dst) }

// SinkFunc adapts a function to Sink.
type SinkFunc func(src []int16) error

// WriteFrame implements Sink.
func (f SinkFunc) WriteFrame(src []int16) error { return f(src) }

// Int16 rounds a sample value to the nearest int16, saturating at the limits.
func Int16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
