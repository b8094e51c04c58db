package phone

import (
	"sync"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/file"
	"github.com/teaphone/teaphone/audio/resample"
)

// recorder taps a call's source and sink and writes both into a stereo WAV.
// The engine reads the source and writes the sink on the same 20 ms tick, so
// each remote frame is paired with the local frame of that tick.
//
// The WAV has the call's rate when recording starts. Frames of another
// length (a call that had not negotiated yet, or changed codec) are
// resampled to it: a 20 ms frame's length gives its rate.
type recorder struct {
	mu     sync.Mutex
	w      *file.Stereo
	local  [audio.MaxFrameSamples]int16
	nLocal int
	closed bool
	fits   [2]fitter // local, remote
}

// fitter resamples one side's frames to the recording's rate.
type fitter struct {
	rs  *resample.Resampler
	buf []int16
}

// fit returns frame at the recording's rate.
func (r *recorder) fit(side int, frame []int16) []int16 {
	if r.w == nil {
		return frame
	}
	want := audio.FrameSamplesAt(r.w.SampleRate())
	if len(frame) == want || len(frame) == 0 {
		return frame
	}
	f := &r.fits[side]
	from := len(frame) * 50
	if f.rs == nil || f.rs.InRate() != from {
		rs, err := resample.New(from, r.w.SampleRate())
		if err != nil {
			return frame
		}
		f.rs, f.buf = rs, make([]int16, want+8)
	}
	if f.rs.MaxOut(len(frame)) > len(f.buf) {
		return frame
	}
	k, _ := f.rs.Process(f.buf, frame)
	return f.buf[:k]
}

func (r *recorder) localTap(src audio.Source) audio.Source {
	return audio.SourceFunc(func(dst []int16) error {
		var err error
		if src != nil {
			err = src.ReadFrame(dst)
		} else {
			clear(dst)
		}
		r.mu.Lock()
		if !r.closed {
			r.nLocal = copy(r.local[:], r.fit(0, dst))
		}
		r.mu.Unlock()
		return err
	})
}

func (r *recorder) remoteTap(sink audio.Sink) audio.Sink { return tapSink{r: r, sink: sink} }

// tapSink records each frame, then passes it on to sink.
type tapSink struct {
	r    *recorder
	sink audio.Sink
}

func (t tapSink) WriteFrame(src []int16) error {
	r := t.r
	r.mu.Lock()
	if !r.closed {
		remote := r.fit(1, src)
		_ = r.w.WriteStereo(remote, r.local[:min(r.nLocal, len(remote))])
	}
	r.mu.Unlock()
	if t.sink != nil {
		return t.sink.WriteFrame(src)
	}
	return nil
}

// OnDevice forwards the tapped sink's answer (see media.DeviceSink).
func (t tapSink) OnDevice() bool { return onDevice(t.sink) }

// Played forwards to the tapped sink (see media.DeviceSink).
func (t tapSink) Played() { played(t.sink) }

func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	return r.w.Close()
}
