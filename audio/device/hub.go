package device

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/audio/resample"
)

const (
	// historyFrames is how many captured frames the Hub keeps for calls
	// that read a little later than others in the same tick.
	historyFrames = 4
	// maxReadLag is how many frames a call may trail the newest captured
	// frame before it skips ahead (it was not read for a while, e.g. on
	// hold): stale microphone audio is worse than a skip.
	maxReadLag = 2
	// CallBufferFrames is the capacity of each call's playback Buffer, in
	// 20 ms frames: the most the speaker can trail the media clock.
	CallBufferFrames = 6
)

// Hub shares one Device between calls. Every call gets the same captured
// frames (all calls hear the microphone) and its own playback input on the
// device's mixer; tones play on the same mixer.
//
// The Hub works at the device's rate (audio.RateOf(d)); each call asks for
// its own rate (CallAudioAt) and is converted once, in its source and
// sink, when the two differ.
//
// Once a Hub is made, read the device's capture only through the Hub.
// Its methods are safe for concurrent use, and its per-frame paths do not
// allocate.
type Hub struct {
	dev   Device
	src   audio.Source
	clock frameClock // src's, or nil
	mixer *mix.Mixer // nil: the device discards playback
	rate  int        // the device's frames' rate
	frame int        // and length

	mu    sync.Mutex
	hist  [historyFrames][audio.MaxFrameSamples]int16
	head  uint64     // frames pulled from the device so far; hist holds [head-historyFrames, head)
	level levelMeter // of the frames pulled (level.go)
}

// NewHub returns a Hub for d. The Hub does not own d: close d yourself
// after the Hub's last use.
func NewHub(d Device) *Hub {
	h := &Hub{dev: d, src: d.Source(), mixer: d.Playback(), rate: audio.RateOf(d)}
	if h.rate > audio.MaxRate {
		h.rate = audio.MaxRate
	}
	h.frame = audio.FrameSamplesAt(h.rate)
	h.clock, _ = h.src.(frameClock)
	return h
}

// SampleRate returns the rate of the device's frames.
func (h *Hub) SampleRate() int { return h.rate }

// frameClock is a source that knows when its device delivered its last
// frame (a Buffer).
type frameClock interface {
	LastFrameAt() (time.Time, bool)
}

// Device returns the device the Hub shares.
func (h *Hub) Device() Device { return h.dev }

// CallAudio returns one call's audio: src yields the captured microphone
// frames (each call sees every frame), and frames written to sink are
// mixed into the device's playback through a Buffer of CallBufferFrames
// frames from NewLowLatencyBuffer.
// release detaches both (src then plays silence and sink discards); it is
// idempotent.
func (h *Hub) CallAudio() (src audio.Source, sink audio.Sink, release func()) {
	return h.CallAudioAt(audio.SampleRate)
}

// CallAudioAt is CallAudio for a call whose frames are at rate Hz (the
// source gives and the sink takes 20 ms frames at that rate; both
// implement audio.Rated). A rate the Hub cannot convert to is taken as the
// device's.
func (h *Hub) CallAudioAt(rate int) (src audio.Source, sink audio.Sink, release func()) {
	cs := &callSource{h: h, rate: h.rate}
	out := &callSink{mixer: h.mixer, rate: h.rate}
	if rate != h.rate && rate > 0 && rate <= audio.MaxRate {
		down, err1 := resample.New(h.rate, rate)
		up, err2 := resample.New(rate, h.rate)
		if err1 == nil && err2 == nil {
			cs.rate, cs.rs, cs.scratch = rate, down, make([]int16, h.frame)
			out.rate, out.rs, out.scratch = rate, up, make([]int16, h.frame+8)
		}
	}
	h.mu.Lock()
	cs.pos = h.head
	h.mu.Unlock()
	var in *mix.Input
	if h.mixer != nil {
		out.buf = NewLowLatencyBufferAt(CallBufferFrames, h.frame)
		in = h.mixer.Add(out.buf)
	}
	release = sync.OnceFunc(func() {
		out.released.Store(true)
		if in != nil {
			in.Remove()
		}
		h.mu.Lock()
		cs.released = true
		h.mu.Unlock()
	})
	return cs, out, release
}

// PlayTone mixes src into the device's playback (ring, ringback, DTMF
// feedback) until it ends (io.EOF) or stop is called. src is read only on
// the device's clock, under the mixer's lock, so it need not be safe for
// concurrent use. stop is idempotent. On a device without playback the
// tone is not read at all.
func (h *Hub) PlayTone(src audio.Source) (stop func()) {
	if h.mixer == nil {
		return func() {}
	}
	if r := audio.RateOf(src); r != h.rate {
		if fs, err := resample.NewSource(src, r, h.rate); err == nil {
			src = fs
		}
	}
	return h.mixer.Add(src).Remove
}

// callSource is one call's view of the shared capture.
type callSource struct {
	h        *Hub
	pos      uint64 // next frame number this call reads; guarded by h.mu
	released bool   // guarded by h.mu
	rate     int
	rs       *resample.Resampler // device rate to rate; nil when equal
	scratch  []int16             // one device frame, for rs
}

// SampleRate implements audio.Rated.
func (s *callSource) SampleRate() int { return s.rate }

// ReadFrame implements audio.Source. The first call to want a frame pulls
// it from the device; the others get the same frame from the history.
func (s *callSource) ReadFrame(dst []int16) error {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.released {
		clear(dst)
		return nil
	}
	if h.head > s.pos+maxReadLag {
		s.pos = h.head - 1 // trailing too far: take the newest frame
	}
	if s.pos == h.head {
		h.pullLocked()
	}
	frame := h.hist[s.pos%historyFrames][:h.frame]
	s.pos++
	if s.rs == nil {
		clear(dst[copy(dst, frame):])
		return nil
	}
	k := 0
	if s.rs.MaxOut(len(frame)) <= len(dst) {
		k, _ = s.rs.Process(dst, frame)
	}
	clear(dst[k:])
	return nil
}

// LastFrameAt returns when the device delivered its last captured frame
// (false for a device without a clock of its own, or after release). The
// media engine uses it to tick just after the device delivers (see
// media.FrameClock).
func (s *callSource) LastFrameAt() (time.Time, bool) {
	h := s.h
	if h.clock == nil {
		return time.Time{}, false
	}
	h.mu.Lock()
	released := s.released
	h.mu.Unlock()
	if released {
		return time.Time{}, false
	}
	return h.clock.LastFrameAt()
}

// pullLocked reads the next frame from the device into the history.
func (h *Hub) pullLocked() {
	frame := h.hist[h.head%historyFrames][:h.frame]
	if err := h.src.ReadFrame(frame); err != nil {
		clear(frame)
	}
	h.level.add(frame, time.Now())
	h.head++
}

// callSink is one call's input to the playback mixer.
type callSink struct {
	buf      *Buffer    // nil: discard
	mixer    *mix.Mixer // nudged by Played
	released atomic.Bool
	rate     int
	rs       *resample.Resampler // rate to device rate; nil when equal (media clock goroutine only)
	scratch  []int16
}

// SampleRate implements audio.Rated.
func (s *callSink) SampleRate() int { return s.rate }

// OnDevice reports whether frames written to the sink play on the device
// (false without playback, or after release). The media engine then plays
// the call's frames as soon as they arrive rather than on its send tick
// (see media.DeviceSink).
func (s *callSink) OnDevice() bool { return s.buf != nil && !s.released.Load() }

// WriteFrame implements audio.Sink.
func (s *callSink) WriteFrame(src []int16) error {
	if s.buf == nil || s.released.Load() {
		return nil
	}
	if s.rs == nil {
		return s.buf.WriteFrame(src)
	}
	if s.rs.MaxOut(len(src)) > len(s.scratch) {
		return nil
	}
	k, _ := s.rs.Process(s.scratch, src)
	return s.buf.WriteFrame(s.scratch[:k])
}

// Played nudges the device's playback (see mix.Mixer.Nudge): the media
// engine calls it once every call's frame of a tick is written (see
// media.DeviceSink), so the sound card plays them at once.
func (s *callSink) Played() {
	if s.buf != nil && !s.released.Load() {
		s.mixer.Nudge()
	}
}
