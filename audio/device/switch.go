package device

import (
	"errors"
	"sync"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
)

// switchMixerSamples is the largest frame a Switch's playback mixer
// takes: 20 ms at 48 kHz. The Switch passes frames of whatever length its
// devices use (160 samples at 8 kHz today) and never assumes one.
const switchMixerSamples = 48000 / 50

// switchSinkFrames is the capacity of the buffer behind Switch.Sink.
const switchSinkFrames = 6

// Errors from the Switch's Swap methods. The switch is left as it was.
var (
	ErrSwitchClosed     = errors.New("the audio device is closed")
	ErrNoPlayback       = errors.New("that device cannot play sound")
	ErrSwitchNoPlayback = errors.New("audio was started without a speaker, so none can be chosen now")
)

// Switch is a Device whose capture and playback can move to other devices
// while it is in use, say during a call, without its users noticing: a Hub
// made on it keeps the Switch's Source and playback mixer, which stay the
// same, while the devices behind them change.
//
// The capture side reads the current input device's Source (and reports
// its frame clock, LastFrameAt). The playback side is a mixer of the
// Switch's own, attached as one input to the current output device's
// mixer; nudges (mix.Mixer.Nudge) are passed on to that device. Input and
// output may be one device or two; a device the Switch no longer uses for
// either is closed once it is swapped out.
//
// Its methods are safe for concurrent use; reading the Source does not
// allocate.
type Switch struct {
	rate  int        // the first device's frame rate: every device swapped in is opened at it
	mixer *mix.Mixer // nil: the first device had no playback
	sink  audio.Sink
	done  chan struct{}
	wg    sync.WaitGroup

	// OnCloseError, if set before the first swap, is told when a device
	// swapped out fails to close (the swap itself has happened).
	OnCloseError func(error)

	mu       sync.Mutex
	in, out  Device
	src      audio.Source
	clock    frameClock // src's, or nil
	outMixer *mix.Mixer // out's playback mixer, or nil
	attached *mix.Input // s.mixer on outMixer
	closed   bool
}

var _ Device = (*Switch)(nil)

// NewSwitch returns a Switch that starts on d for capture and playback.
// The Switch owns d: closing the Switch (or swapping d out) closes it.
func NewSwitch(d Device) *Switch {
	s := &Switch{done: make(chan struct{}), sink: Discard, rate: audio.RateOf(d)}
	if d.Playback() != nil {
		s.mixer = mix.NewMixer(switchMixerSamples)
		b := NewBufferAt(switchSinkFrames, audio.FrameSamplesAt(s.rate))
		s.mixer.Add(b)
		s.sink = b
	}
	s.setInputLocked(d)
	s.setOutputLocked(d)
	if s.mixer != nil {
		s.wg.Add(1)
		go s.forwardNudges()
	}
	return s
}

// forwardNudges passes the nudges of the Switch's mixer (a call's frame
// is ready) on to the current output device's mixer, whose playback loop
// follows them.
func (s *Switch) forwardNudges() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.mixer.Nudges():
			s.mu.Lock()
			m := s.outMixer
			s.mu.Unlock()
			if m != nil {
				m.Nudge()
			}
		}
	}
}

func (s *Switch) setInputLocked(d Device) {
	s.in = d
	s.src = d.Source()
	s.clock, _ = s.src.(frameClock)
}

func (s *Switch) setOutputLocked(d Device) {
	if s.attached != nil {
		s.attached.Remove() // before the new device reads it: each frame is read once
		s.attached = nil
	}
	s.out, s.outMixer = d, d.Playback()
	if s.mixer != nil && s.outMixer != nil {
		s.attached = s.outMixer.Add(s.mixer)
	}
}

// SampleRate implements audio.Rated: the rate of the first device's frames
// (the Hub's rate; devices swapped in are opened at the same rate).
func (s *Switch) SampleRate() int { return s.rate }

// Source returns the capture of the current input device.
func (s *Switch) Source() audio.Source { return switchSource{s} }

// Sink returns one input of the Switch's playback mixer (see Device.Sink),
// or Discard when the Switch has no playback.
func (s *Switch) Sink() audio.Sink { return s.sink }

// Playback returns the Switch's own playback mixer, which plays on the
// current output device; nil when the first device had no playback.
func (s *Switch) Playback() *mix.Mixer { return s.mixer }

// Devices returns the current input and output devices (the same one
// unless they were swapped apart).
func (s *Switch) Devices() (in, out Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.in, s.out
}

// SwapInput makes d the capture device. See Swap.
func (s *Switch) SwapInput(d Device) error { return s.swap(d, true, false) }

// SwapOutput makes d the playback device. See Swap.
func (s *Switch) SwapOutput(d Device) error { return s.swap(d, false, true) }

// Swap makes d the capture and the playback device. On success the Switch
// owns d, and the devices it no longer uses are closed before Swap
// returns (a failure to close goes to OnCloseError). On error (the Switch
// is closed; d cannot play when playback is swapped) nothing changes and
// the caller keeps d.
func (s *Switch) Swap(d Device) error { return s.swap(d, true, true) }

func (s *Switch) swap(d Device, input, output bool) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrSwitchClosed
	case output && s.mixer == nil && d.Playback() != nil:
		s.mu.Unlock()
		return ErrSwitchNoPlayback
	case output && s.mixer != nil && d.Playback() == nil:
		s.mu.Unlock()
		return ErrNoPlayback
	}
	oldIn, oldOut := s.in, s.out
	if input {
		s.setInputLocked(d)
	}
	if output {
		s.setOutputLocked(d)
	}
	unused := s.unusedLocked(oldIn, oldOut)
	s.mu.Unlock()
	s.closeAll(unused)
	return nil
}

// unusedLocked returns those of the devices given that are neither the
// input nor the output now, each once.
func (s *Switch) unusedLocked(ds ...Device) []Device {
	var out []Device
	for _, d := range ds {
		if d == nil || d == s.in || d == s.out || (len(out) > 0 && out[0] == d) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (s *Switch) closeAll(ds []Device) {
	for _, d := range ds {
		if err := d.Close(); err != nil && s.OnCloseError != nil {
			s.OnCloseError(err)
		}
	}
}

// Close stops the Switch and closes its devices. It is idempotent; the
// source is silent afterwards.
func (s *Switch) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	if s.attached != nil {
		s.attached.Remove()
		s.attached = nil
	}
	in, out := s.in, s.out
	s.in, s.out, s.outMixer, s.src, s.clock = nil, nil, nil, nil, nil
	s.mu.Unlock()
	s.wg.Wait()
	var errs []error
	if in != nil {
		errs = append(errs, in.Close())
	}
	if out != nil && out != in {
		errs = append(errs, out.Close())
	}
	return errors.Join(errs...)
}

// switchSource reads the current input device's source.
type switchSource struct{ s *Switch }

// ReadFrame implements audio.Source: a frame from the current input
// device, silence once the Switch is closed.
func (r switchSource) ReadFrame(dst []int16) error {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src == nil {
		clear(dst)
		return nil
	}
	return s.src.ReadFrame(dst)
}

// LastFrameAt returns when the current input device delivered its last
// frame (false for a device without a clock of its own): the Hub and the
// media engine follow the new device's clock after a swap.
func (r switchSource) LastFrameAt() (time.Time, bool) {
	s := r.s
	s.mu.Lock()
	c := s.clock
	s.mu.Unlock()
	if c == nil {
		return time.Time{}, false
	}
	return c.LastFrameAt()
}

// PlayOn returns a device that plays on m, another device's playback mixer
// (say a Switch's), and captures silence. Swapped into a Switch for the
// ring tone, it makes the ring play on the speaker again. Closing it does
// nothing.
func PlayOn(m *mix.Mixer) Device { return playOn{m} }

type playOn struct{ m *mix.Mixer }

func (p playOn) Source() audio.Source { return silence{} }
func (p playOn) Sink() audio.Sink     { return Discard }
func (p playOn) Playback() *mix.Mixer { return p.m }
func (p playOn) Close() error         { return nil }

type silence struct{}

func (silence) ReadFrame(dst []int16) error { clear(dst); return nil }
