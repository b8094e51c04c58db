package resample

import (
	"fmt"

	"github.com/teaphone/teaphone/audio"
)

// FrameSource reads 20 ms frames at one rate from a Source and gives them
// at another: one frame in for every frame out, so it keeps the pace of
// whatever pulls it. It does not allocate per frame.
type FrameSource struct {
	src  audio.Source
	rs   *Resampler
	in   []int16
	from int
	to   int
}

// NewSource returns a FrameSource giving src's frames, read at from Hz, at
// to Hz.
func NewSource(src audio.Source, from, to int) (*FrameSource, error) {
	rs, err := New(from, to)
	if err != nil {
		return nil, fmt.Errorf("frame source: %w", err)
	}
	return &FrameSource{src: src, rs: rs, in: make([]int16, audio.FrameSamplesAt(from)), from: from, to: to}, nil
}

// ReadFrame implements audio.Source: one frame of src, resampled into dst
// (normally a 20 ms frame at the output rate). src's error is returned
// with dst filled as far as src filled it.
func (s *FrameSource) ReadFrame(dst []int16) error {
	n := min(len(s.in), len(dst)*s.from/s.to)
	err := s.src.ReadFrame(s.in[:n])
	if err != nil {
		clear(s.in[:n])
	}
	k := 0
	if s.rs.MaxOut(n) <= len(dst) {
		k, _ = s.rs.Process(dst, s.in[:n])
	}
	clear(dst[k:])
	return err
}

// SampleRate implements audio.Rated: the output rate.
func (s *FrameSource) SampleRate() int { return s.to }

// FrameSink takes 20 ms frames at one rate and writes them to a Sink at
// another, one frame for every frame. It does not allocate per frame.
type FrameSink struct {
	sink audio.Sink
	rs   *Resampler
	out  []int16
	from int
	to   int
}

// NewSink returns a FrameSink taking frames at from Hz and writing them to
// sink at to Hz.
func NewSink(sink audio.Sink, from, to int) (*FrameSink, error) {
	rs, err := New(from, to)
	if err != nil {
		return nil, fmt.Errorf("frame sink: %w", err)
	}
	return &FrameSink{sink: sink, rs: rs, out: make([]int16, audio.FrameSamplesAt(to)+8), from: from, to: to}, nil
}

// WriteFrame implements audio.Sink.
func (s *FrameSink) WriteFrame(src []int16) error {
	if s.rs.MaxOut(len(src)) > len(s.out) {
		src = src[:len(s.out)*s.from/s.to]
	}
	k, _ := s.rs.Process(s.out, src)
	return s.sink.WriteFrame(s.out[:k])
}

// SampleRate implements audio.Rated: the input rate.
func (s *FrameSink) SampleRate() int { return s.from }
