// Package file plays WAV files into calls and records calls to WAV files.
//
// Source reads any WAV the wav package understands (any rate, any channel
// count), mixes it down to mono and resamples it to audio.SampleRate (or the
// rate OpenSourceAt is given). Sink writes mono 16-bit WAV, and Stereo
// records a call as two channels (remote left, local right), at 8 kHz or
// the rate they are created with.
//
// None of these is paced by the wall clock: the media engine's 20 ms clock
// pulls and pushes frames, and each call does a little file I/O through a
// buffer without allocating. They are not safe for concurrent use.
package file

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/resample"
	"github.com/teaphone/teaphone/audio/wav"
)

// chunkFrames is how many input sample frames Source decodes at a time.
const chunkFrames = 1024

// Source is an audio.Source reading a WAV file as 8 kHz mono.
type Source struct {
	r    *wav.Reader
	rs   *resample.Resampler
	loop bool

	raw     []int16 // interleaved input chunk
	mono    []int16 // downmixed chunk
	pending []int16 // resampled output not yet delivered: pending[pos:end]
	pos     int
	end     int
	pass    int64 // input frames read in the current pass through the file
	flushed bool  // resampler tail pushed out after the last pass
	eof     bool
	err     error
	rate    int // output rate
}

// OpenSource opens a WAV file for playback as 8 kHz mono frames. With loop
// the file restarts seamlessly when it ends; otherwise ReadFrame returns
// io.EOF after the last sample. A file with no samples ends at once even
// with loop.
func OpenSource(path string, loop bool) (*Source, error) {
	return OpenSourceAt(path, loop, audio.SampleRate)
}

// OpenSourceAt is OpenSource with frames at rate Hz.
func OpenSourceAt(path string, loop bool, rate int) (*Source, error) {
	r, err := wav.Open(path)
	if err != nil {
		return nil, err
	}
	rs, err := resample.New(r.Rate(), rate)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ch := r.Channels()
	// A pending buffer for one chunk plus the resampler's flush.
	flush := flushSamples(rs)
	return &Source{
		r:       r,
		rs:      rs,
		loop:    loop,
		raw:     make([]int16, chunkFrames*ch),
		mono:    make([]int16, max(chunkFrames, flush)),
		pending: make([]int16, rs.MaxOut(max(chunkFrames, flush))+1),
		rate:    rate,
	}, nil
}

// flushSamples is the input length of silence that pushes the resampler's
// remaining output out (its delay, rounded up).
func flushSamples(rs *resample.Resampler) int {
	if rs.Latency() == 0 {
		return 0
	}
	return int(rs.Latency().Seconds()*float64(rs.InRate())) + 2
}

// SampleRate implements audio.Rated: the rate of the frames ReadFrame gives.
func (s *Source) SampleRate() int { return s.rate }

// Rate returns the file's own sample rate in Hz.
func (s *Source) Rate() int { return s.r.Rate() }

// Channels returns the file's own channel count.
func (s *Source) Channels() int { return s.r.Channels() }

// Duration returns the length of one pass through the file, or -1 if the
// file does not say.
func (s *Source) Duration() time.Duration { return s.r.Duration() }

// ReadFrame implements audio.Source: it fills dst with the next 8 kHz mono
// samples. The last frame of a file is padded with silence; the call after
// it returns io.EOF (unless looping). A damaged file ends where the damage
// starts; other read errors are returned.
func (s *Source) ReadFrame(dst []int16) error {
	if s.err != nil {
		clear(dst)
		return s.err
	}
	filled := 0
	for filled < len(dst) {
		if s.pos < s.end {
			n := copy(dst[filled:], s.pending[s.pos:s.end])
			s.pos += n
			filled += n
			continue
		}
		if s.eof {
			break
		}
		if err := s.refill(); err != nil {
			s.err = err
			clear(dst)
			return err
		}
	}
	clear(dst[filled:])
	if filled == 0 && s.eof {
		s.err = io.EOF
		return io.EOF
	}
	return nil
}

// refill decodes the next chunk into pending.
func (s *Source) refill() error {
	s.pos, s.end = 0, 0
	n, err := s.r.ReadSamples(s.raw)
	if n > 0 {
		frames := s.downmix(n)
		s.pass += int64(frames)
		s.end, _ = s.rs.Process(s.pending, s.mono[:frames])
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, wav.ErrTruncated), errors.Is(err, wav.ErrMalformed):
		if s.loop && s.pass > 0 {
			s.pass = 0
			return s.r.Rewind()
		}
		if s.end == 0 && !s.flushed { // push out what the filter still holds
			s.flushed = true
			k := flushSamples(s.rs)
			clear(s.mono[:k])
			s.end, _ = s.rs.Process(s.pending, s.mono[:k])
			return nil
		}
		if s.end == 0 {
			s.eof = true
		}
		return nil
	default:
		return err
	}
}

// downmix averages the n interleaved samples in raw into mono and returns
// the number of frames.
func (s *Source) downmix(n int) int {
	ch := s.r.Channels()
	if ch == 1 {
		return copy(s.mono, s.raw[:n])
	}
	frames := n / ch
	for i := range frames {
		var sum int32
		for _, v := range s.raw[i*ch : i*ch+ch] {
			sum += int32(v)
		}
		s.mono[i] = int16(sum / int32(ch))
	}
	return frames
}

// Close closes the file.
func (s *Source) Close() error {
	if s.err == nil {
		s.err = wav.ErrClosed
	}
	return s.r.Close()
}
