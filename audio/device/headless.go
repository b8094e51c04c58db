package device

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/file"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/audio/tone"
)

// ToneAmplitude is the peak amplitude of the tone backend's sine (-6 dBFS).
const ToneAmplitude = 0.5

// ErrUnknownBackend is returned by Open for a spec it does not handle.
var ErrUnknownBackend = errors.New("unknown audio backend")

// Open opens a headless backend by its --audio spelling:
//
//	null        capture is silence, playback is discarded
//	tone:HZ     capture is a HZ sine (what the far end hears), playback is discarded
//	file:PATH   capture loops the WAV file PATH, playback is discarded
//
// Any other spec (such as "portaudio", which main opens with package
// audio/portaudio) returns an error wrapping ErrUnknownBackend.
func Open(spec string) (Device, error) { return OpenAt(spec, audio.SampleRate) }

// OpenAt is Open for a device whose frames are at rate Hz (8000, 16000 or
// 48000: the highest rate of the codecs the phone may use).
func OpenAt(spec string, rate int) (Device, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch {
	case kind == "null" && !hasArg:
		return &headless{rate: rate}, nil
	case kind == "tone":
		hz, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return nil, fmt.Errorf("audio backend %q: want tone:HZ, e.g. tone:440", spec)
		}
		return NewToneAt(hz, rate)
	case kind == "file":
		if arg == "" {
			return nil, fmt.Errorf("audio backend %q: want file:PATH to a WAV file", spec)
		}
		return OpenFileAt(arg, rate)
	}
	return nil, fmt.Errorf("%w %q (want null, tone:HZ, file:PATH or portaudio)", ErrUnknownBackend, spec)
}

// NewNull returns a device whose capture is silence and whose playback is
// discarded.
func NewNull() Device { return &headless{rate: audio.SampleRate} }

// NewTone returns a headless device whose capture is a continuous sine of
// hz at ToneAmplitude and whose playback is discarded. hz must lie between
// 0 and the Nyquist frequency (4000 Hz).
func NewTone(hz float64) (Device, error) { return NewToneAt(hz, audio.SampleRate) }

// NewToneAt is NewTone at rate Hz: hz must lie below rate/2.
func NewToneAt(hz float64, rate int) (Device, error) {
	if !(hz > 0 && hz < float64(rate)/2) || math.IsInf(hz, 0) {
		return nil, fmt.Errorf("audio backend tone:%g: frequency must be between 0 and %d Hz (the audio runs at %d Hz)", hz, rate/2, rate)
	}
	return &headless{src: tone.NewSineAt(hz, ToneAmplitude, rate), rate: rate}, nil
}

// OpenFile returns a headless device whose capture loops the WAV file at
// path (any rate and channel count, converted to 8 kHz mono) and whose
// playback is discarded. Close closes the file.
func OpenFile(path string) (Device, error) { return OpenFileAt(path, audio.SampleRate) }

// OpenFileAt is OpenFile with frames at rate Hz.
func OpenFileAt(path string, rate int) (Device, error) {
	src, err := file.OpenSourceAt(path, true, rate)
	if err != nil {
		return nil, fmt.Errorf("audio backend file: %w", err)
	}
	return &headless{src: src, closer: src.Close, rate: rate}, nil
}

// headless is a device without a clock of its own: its capture is computed
// on demand (on the media clock) and its playback is dropped.
type headless struct {
	mu     sync.Mutex
	src    audio.Source // nil: silence
	closer func() error
	closed bool
	rate   int
}

// SampleRate implements audio.Rated: the rate of the device's frames.
func (h *headless) SampleRate() int { return h.rate }

func (h *headless) Source() audio.Source { return headlessSource{h} }
func (h *headless) Sink() audio.Sink     { return Discard }
func (h *headless) Playback() *mix.Mixer { return nil }

func (h *headless) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	if h.closer != nil {
		return h.closer()
	}
	return nil
}

// headlessSource reads the device's generator under its lock. A generator
// that fails or ends gives silence: a device source never ends.
type headlessSource struct{ h *headless }

func (s headlessSource) ReadFrame(dst []int16) error {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.src == nil {
		clear(dst)
		return nil
	}
	if err := h.src.ReadFrame(dst); err != nil {
		clear(dst)
	}
	return nil
}
