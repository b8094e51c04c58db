package phone

import (
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/phone/media"
)

// clockSource is a silent source on a device clock (media.FrameClock).
type clockSource struct{ at time.Time }

func (c clockSource) ReadFrame(dst []int16) error    { clear(dst); return nil }
func (c clockSource) LastFrameAt() (time.Time, bool) { return c.at, true }

// deviceSink is a sink on a sound card (media.DeviceSink).
type deviceSink struct{ played int }

func (d *deviceSink) WriteFrame([]int16) error { return nil }
func (d *deviceSink) OnDevice() bool           { return true }
func (d *deviceSink) Played()                  { d.played++ }

func newRing() *mix.Ring { return mix.NewRing(4, audio.FrameSamples, mix.OverwriteOldest) }

// TestWrappersKeepTheDevice: recording a call or joining it to a conference
// wraps its source and sink; the wrappers still tell the engine that the
// source is on the capture device's clock (media.FrameClock) and the sink
// on the sound card (media.DeviceSink), so the call keeps its low-latency
// ticks.
func TestWrappersKeepTheDevice(t *testing.T) {
	at := time.Unix(1000, 0)
	for _, tc := range []struct {
		name      string
		rec, conf bool
	}{
		{"plain", false, false},
		{"recorded", true, false},
		{"in a conference", false, true},
		{"recorded in a conference", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := &deviceSink{}
			m := &mediaState{defSrc: clockSource{at: at}, defSink: dev}
			if tc.rec {
				m.rec = &recorder{}
			}
			if tc.conf {
				m.confIn, m.confOut = newRing(), newRing()
			}
			src, sink := m.sourceLocked(), m.sinkLocked()
			fc, ok := src.(media.FrameClock)
			if !ok {
				t.Fatalf("source %T is not a FrameClock", src)
			}
			if got, ok := fc.LastFrameAt(); !ok || !got.Equal(at) {
				t.Errorf("LastFrameAt = %v, %v; want the device's %v", got, ok, at)
			}
			ds, ok := sink.(media.DeviceSink)
			if !ok || !ds.OnDevice() {
				t.Fatalf("sink %T is not on the device", sink)
			}
			ds.Played()
			if dev.played != 1 {
				t.Errorf("Played reached the device sink %d times", dev.played)
			}
			if err := src.ReadFrame(make([]int16, audio.FrameSamples)); err != nil {
				t.Error(err)
			}
		})
	}
	// A source without a clock does not gain one.
	m := &mediaState{defSrc: newRing(), rec: &recorder{}, confIn: newRing()}
	if _, ok := m.sourceLocked().(media.FrameClock); ok {
		t.Error("a wrapped source without a clock claims one")
	}
}
