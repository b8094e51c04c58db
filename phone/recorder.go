package phone

import (
	"sync"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/file"
)

// recorder taps a call's source and sink and writes both into a stereo WAV.
// The engine reads the source and writes the sink on the same 20 ms tick, so
// each remote frame is paired with the local frame of that tick.
type recorder struct {
	mu     sync.Mutex
	w      *file.Stereo
	local  [audio.FrameSamples]int16
	closed bool
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
		copy(r.local[:], dst)
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
		_ = r.w.WriteStereo(src, r.local[:len(src)])
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
