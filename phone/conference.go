package phone

import (
	"fmt"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/audio/resample"
	"github.com/teaphone/teaphone/phone/media"
)

// Conference joins two active calls into a local three-way conference: what
// each remote party says is mixed into what the other one hears, on top of
// the user's microphone; the user hears both as before (each call's sink
// plays on the device). It lasts until one of the calls ends.
func (p *Phone) Conference(a, b SessionID) error {
	if a == b {
		return fmt.Errorf("%w: a call cannot be conferenced with itself", ErrInvalidInput)
	}
	ca, err := p.activeCall(a)
	if err != nil {
		return err
	}
	cb, err := p.activeCall(b)
	if err != nil {
		return err
	}
	// Frames received on one call wait here for the other call's next tick.
	// Both run on the same media clock, so a few frames are plenty. Each
	// ring holds frames at its writer's rate; a reader at another rate
	// (a G.711 call with an Opus one) reads them resampled.
	rateA, rateB := ca.media.audioRate(), cb.media.audioRate()
	fromA := mix.NewRing(4, audio.FrameSamplesAt(rateA), mix.OverwriteOldest)
	fromB := mix.NewRing(4, audio.FrameSamplesAt(rateB), mix.OverwriteOldest)
	inA, err := ringAt(fromB, rateB, rateA)
	if err != nil {
		return fmt.Errorf("conference: %w", err)
	}
	inB, err := ringAt(fromA, rateA, rateB)
	if err != nil {
		return fmt.Errorf("conference: %w", err)
	}
	ca.media.setConference(inA, fromA)
	cb.media.setConference(inB, fromB)
	ca.changed("conference")
	cb.changed("conference")
	return nil
}

// ringAt returns r, holding frames at from Hz, as a source at to Hz.
func ringAt(r *mix.Ring, from, to int) (audio.Source, error) {
	if from == to {
		return r, nil
	}
	return resample.NewSource(r, from, to)
}

// audioRate is the call's audio rate (8 kHz before media starts).
func (m *mediaState) audioRate() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rate == 0 && m.haveAns {
		return m.codecRateLocked()
	}
	return max(m.rate, audio.SampleRate)
}

// setConference makes the call also send in (mixed with its source) and also
// deliver what it receives to out.
func (m *mediaState) setConference(in audio.Source, out audio.Sink) {
	m.mu.Lock()
	m.confIn, m.confOut = in, out
	m.rewireLocked()
	m.mu.Unlock()
}

// mixSource adds a second source to a first one, saturating.
type mixSource struct {
	a, b    audio.Source
	scratch [audio.MaxFrameSamples]int16
}

func (s *mixSource) ReadFrame(dst []int16) error {
	var err error
	if s.a != nil {
		err = s.a.ReadFrame(dst)
	} else {
		clear(dst)
	}
	buf := s.scratch[:len(dst)]
	if s.b.ReadFrame(buf) == nil {
		mix.Add(dst, buf)
	}
	return err
}

// teeSink writes every frame to two sinks.
type teeSink struct{ a, b audio.Sink }

// OnDevice forwards the first sink's answer (see media.DeviceSink).
func (t teeSink) OnDevice() bool { return onDevice(t.a) }

// Played forwards to the first sink (see media.DeviceSink).
func (t teeSink) Played() { played(t.a) }

// onDevice reports whether sink plays on a sound card (media.DeviceSink).
func onDevice(sink audio.Sink) bool {
	d, ok := sink.(media.DeviceSink)
	return ok && d.OnDevice()
}

// played tells sink, if it plays on a sound card, that a tick played out
// (media.DeviceSink).
func played(sink audio.Sink) {
	if d, ok := sink.(media.DeviceSink); ok {
		d.Played()
	}
}

func (t teeSink) WriteFrame(src []int16) error {
	_ = t.b.WriteFrame(src)
	if t.a != nil {
		return t.a.WriteFrame(src)
	}
	return nil
}
