package phone

import (
	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/resample"
)

// adaptSource returns src as a source of frames at the call's rate: src
// itself when it is at that rate already (audio.RateOf), else src
// resampled. A sound card's frame clock is kept (withClock).
func (m *mediaState) adaptSource(src audio.Source) audio.Source {
	rate := max(m.rate, audio.SampleRate)
	if src == nil || audio.RateOf(src) == rate {
		return src
	}
	fs, err := resample.NewSource(src, audio.RateOf(src), rate)
	if err != nil {
		m.p.log.Warn("audio source rate", "session", m.id, "err", err)
		return src
	}
	return withClock(fs, src)
}

// adaptSink is adaptSource for a sink: frames at the call's rate are
// resampled to the sink's own.
func (m *mediaState) adaptSink(sink audio.Sink) audio.Sink {
	rate := max(m.rate, audio.SampleRate)
	if sink == nil || audio.RateOf(sink) == rate {
		return sink
	}
	fs, err := resample.NewSink(sink, rate, audio.RateOf(sink))
	if err != nil {
		m.p.log.Warn("audio sink rate", "session", m.id, "err", err)
		return sink
	}
	return rateSink{FrameSink: fs, inner: sink}
}

// rateSink is a resampling sink that still reports the inner sink's device
// (see media.DeviceSink).
type rateSink struct {
	*resample.FrameSink
	inner audio.Sink
}

// OnDevice forwards to the inner sink.
func (s rateSink) OnDevice() bool { return onDevice(s.inner) }

// Played forwards to the inner sink.
func (s rateSink) Played() { played(s.inner) }
