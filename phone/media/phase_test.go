package media

import (
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// clockedSource is a source whose "device" delivers a frame every 20 ms
// at a fixed phase, and which records how long after the delivery each
// frame was read.
type clockedSource struct {
	base time.Time // a delivery instant

	mu   sync.Mutex
	lags []time.Duration
}

func (c *clockedSource) last(now time.Time) time.Time {
	since := now.Sub(c.base) % audio.FrameDuration
	if since < 0 {
		since += audio.FrameDuration
	}
	return now.Add(-since)
}

func (c *clockedSource) LastFrameAt() (time.Time, bool) { return c.last(time.Now()), true }

func (c *clockedSource) ReadFrame(dst []int16) error {
	now := time.Now()
	c.mu.Lock()
	c.lags = append(c.lags, now.Sub(c.last(now)))
	c.mu.Unlock()
	clear(dst)
	return nil
}

func TestEngineTicksJustAfterTheCaptureDevice(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	// The device delivers 11 ms out of phase with wherever the clock is.
	src := &clockedSource{base: time.Now().Add(11 * time.Millisecond)}
	peer := listenUDP(t)
	s, err := e.NewStream(StreamConfig{RTP: listenUDP(t), Remote: addrOf(peer), PayloadType: 0, Codec: "PCMU", Source: src})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(50 * audio.FrameDuration)
	s.Close()

	src.mu.Lock()
	lags := src.lags[5:] // after the first alignment
	src.mu.Unlock()
	if len(lags) < 30 {
		t.Fatalf("only %d reads in a second", len(lags))
	}
	var sum time.Duration
	for _, l := range lags {
		sum += l
	}
	avg := sum / time.Duration(len(lags))
	t.Logf("reads %v (avg %v) after the device's frame; engine %+v", lags, avg, e.Stats())
	if avg > phaseMargin+phaseSlack+2*time.Millisecond {
		t.Errorf("frames were read %v after the device delivered them on average, want about %v", avg, phaseMargin)
	}
	if e.Stats().Shifts == 0 {
		t.Error("the clock never moved its phase")
	}
}

func TestEngineWithoutFrameClockKeepsItsPhase(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	s, err := e.NewStream(StreamConfig{RTP: listenUDP(t), Remote: addrOf(listenUDP(t)), PayloadType: 0, Codec: "PCMU", Source: &toneSource{freq: 440, amp: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(20 * audio.FrameDuration)
	s.Close()
	if n := e.Stats().Shifts; n != 0 {
		t.Errorf("the clock moved %d times without a device clock", n)
	}
}
