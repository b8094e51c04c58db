package resample

import (
	"math"
	"testing"

	"github.com/teaphone/teaphone/audio"
)

// sineSrc is a Source of a sine at rate.
type sineSrc struct {
	hz, rate float64
	n        int
}

func (s *sineSrc) ReadFrame(dst []int16) error {
	for i := range dst {
		dst[i] = int16(8000 * math.Sin(2*math.Pi*s.hz*float64(s.n)/s.rate))
		s.n++
	}
	return nil
}

// peakHz returns the frequency of the largest DFT bin of x (1 Hz steps
// from lo to hi).
func peakHz(x []int16, rate float64, lo, hi int) int {
	best, bestP := 0, -1.0
	for f := lo; f <= hi; f += 10 {
		var re, im float64
		for i, v := range x {
			a := 2 * math.Pi * float64(f) * float64(i) / rate
			re += float64(v) * math.Cos(a)
			im += float64(v) * math.Sin(a)
		}
		if p := re*re + im*im; p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

func TestFrameSourceAndSinkKeepFrameAndFrequency(t *testing.T) {
	for _, tc := range []struct{ from, to, hz int }{
		{8000, 16000, 1000}, {16000, 8000, 1000}, {48000, 8000, 1000},
		{8000, 48000, 1000}, {16000, 48000, 6000}, {48000, 16000, 6000}, {16000, 16000, 6000},
	} {
		src, err := NewSource(&sineSrc{hz: float64(tc.hz), rate: float64(tc.from)}, tc.from, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		var got []int16
		sink, err := NewSink(audio.SinkFunc(func(f []int16) error {
			if len(f) != audio.FrameSamplesAt(tc.from) {
				t.Fatalf("%d→%d: sink got %d samples, want %d", tc.to, tc.from, len(f), audio.FrameSamplesAt(tc.from))
			}
			got = append(got, f...)
			return nil
		}), tc.to, tc.from)
		if err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, audio.FrameSamplesAt(tc.to))
		var out []int16
		for range 20 {
			if err := src.ReadFrame(frame); err != nil {
				t.Fatal(err)
			}
			out = append(out, frame...)
			if err := sink.WriteFrame(frame); err != nil {
				t.Fatal(err)
			}
		}
		tail := out[len(out)/2:]
		if f := peakHz(tail, float64(tc.to), tc.hz-500, tc.hz+500); f != tc.hz {
			t.Errorf("%d→%d: peak at %d Hz, want %d", tc.from, tc.to, f, tc.hz)
		}
		if f := peakHz(got[len(got)/2:], float64(tc.from), tc.hz-500, tc.hz+500); f != tc.hz {
			t.Errorf("%d→%d→%d: peak at %d Hz, want %d", tc.from, tc.to, tc.from, f, tc.hz)
		}
		if src.SampleRate() != tc.to || sink.SampleRate() != tc.to {
			t.Errorf("rates %d %d, want %d", src.SampleRate(), sink.SampleRate(), tc.to)
		}
	}
}

func TestFrameSourceAllocs(t *testing.T) {
	src, _ := NewSource(&sineSrc{hz: 1000, rate: 8000}, 8000, 48000)
	frame := make([]int16, 960)
	if n := testing.AllocsPerRun(100, func() { _ = src.ReadFrame(frame) }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}
