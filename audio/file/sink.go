package file

import (
	"fmt"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/wav"
)

// Sink is an audio.Sink writing 8 kHz mono 16-bit WAV.
type Sink struct {
	w    *wav.Writer
	rate int
}

// CreateSink creates (or truncates) path as an 8 kHz mono WAV recording.
// Close it to finish the file.
func CreateSink(path string) (*Sink, error) { return CreateSinkAt(path, audio.SampleRate) }

// CreateSinkAt is CreateSink for frames at rate Hz.
func CreateSinkAt(path string, rate int) (*Sink, error) {
	w, err := wav.Create(path, rate, 1)
	if err != nil {
		return nil, err
	}
	return &Sink{w: w, rate: rate}, nil
}

// SampleRate implements audio.Rated.
func (s *Sink) SampleRate() int { return s.rate }

// WriteFrame implements audio.Sink: it appends src to the recording.
func (s *Sink) WriteFrame(src []int16) error { return s.w.WriteFrames(src) }

// Duration returns the length recorded so far.
func (s *Sink) Duration() time.Duration { return samplesToDuration(s.w.Len(), s.rate) }

// Flush makes the file on disk complete up to now; recording continues.
func (s *Sink) Flush() error { return s.w.Flush() }

// Close finishes the WAV header and closes the file.
func (s *Sink) Close() error { return s.w.Close() }

// Stereo records a call as an 8 kHz two-channel WAV: the remote party on
// the left channel, the local user on the right.
type Stereo struct {
	w    *wav.Writer
	buf  []int16 // interleaving buffer: one frame of pairs
	rate int
}

// CreateStereo creates (or truncates) path as an 8 kHz stereo recording.
// Close it to finish the file.
func CreateStereo(path string) (*Stereo, error) { return CreateStereoAt(path, audio.SampleRate) }

// CreateStereoAt is CreateStereo for frames at rate Hz.
func CreateStereoAt(path string, rate int) (*Stereo, error) {
	w, err := wav.Create(path, rate, 2)
	if err != nil {
		return nil, err
	}
	return &Stereo{w: w, buf: make([]int16, 2*audio.FrameSamplesAt(rate)), rate: rate}, nil
}

// SampleRate returns the recording's rate in Hz.
func (s *Stereo) SampleRate() int { return s.rate }

// WriteStereo appends one stretch of audio: left is the remote party,
// right the local user. If the lengths differ, the shorter side is padded
// with silence.
func (s *Stereo) WriteStereo(left, right []int16) error {
	n := max(len(left), len(right))
	half := len(s.buf) / 2
	for off := 0; off < n; off += half {
		k := min(half, n-off)
		b := s.buf[:2*k]
		for i := range k {
			var l, r int16
			if j := off + i; j < len(left) {
				l = left[j]
			}
			if j := off + i; j < len(right) {
				r = right[j]
			}
			b[2*i], b[2*i+1] = l, r
		}
		if err := s.w.WriteFrames(b); err != nil {
			return fmt.Errorf("record: %w", err)
		}
	}
	return nil
}

// Duration returns the length recorded so far.
func (s *Stereo) Duration() time.Duration { return samplesToDuration(s.w.Len(), s.rate) }

// Flush makes the file on disk complete up to now; recording continues.
func (s *Stereo) Flush() error { return s.w.Flush() }

// Close finishes the WAV header and closes the file.
func (s *Stereo) Close() error { return s.w.Close() }

func samplesToDuration(n int64, rate int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(rate)
}
