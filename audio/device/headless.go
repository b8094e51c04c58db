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
func Open(spec string) (Device, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch {
	case kind == "null" && !hasArg:
		return NewNull(), nil
	case kind == "tone":
		hz, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return nil, fmt.Errorf("audio backend %q: want tone:HZ, e.g. tone:440", spec)
		}
		return NewTone(hz)
	case kind == "file":
		if arg == "" {
			return nil, fmt.Errorf("audio backend %q: want file:PATH to a WAV file", spec)
		}
		return OpenFile(arg)
	}
	return nil, fmt.Errorf("%w %q (want null, tone:HZ, file:PATH or portaudio)", ErrUnknownBackend, spec)
}

// NewNull returns a device whose capture is silence and whose playback is
// discarded.
func NewNull() Device { return &headless{} }

// NewTone returns a headless device whose capture is a continuous sine of
// hz at ToneAmplitude and whose playback is discarded. hz must lie between
// 0 and the Nyquist frequency (4000 Hz).
func NewTone(hz float64) (Device, error) {
	if !(hz > 0 && hz < audio.SampleRate/2) || math.IsInf(hz, 0) {
		return nil, fmt.Errorf("audio backend tone:%g: frequency must be between 0 and %d Hz", hz, audio.SampleRate/2)
	}
	return &headless{src: tone.NewSine(hz, ToneAmplitude)}, nil
}

// OpenFile returns a headless device whose capture loops the WAV file at
// path (any rate and channel count, converted to 8 kHz mono) and whose
// playback is discarded. Close closes the file.
func OpenFile(path string) (Device, error) {
	src, err := file.OpenSource(path, true)
	if err != nil {
		return nil, fmt.Errorf("audio backend file: %w", err)
	}
	return &headless{src: src, closer: src.Close}, nil
}

// headless is a device without a clock of its own: its capture is computed
// on demand (on the media clock) and its playback is dropped.
type headless struct {
	mu     sync.Mutex
	src    audio.Source // nil: silence
	closer func() error
	closed bool
}

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
