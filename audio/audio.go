// Package audio holds the PCM frame format shared by codecs, media and devices:
// 8 kHz mono signed 16-bit samples in 20 ms frames of 160 samples.
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
)

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
