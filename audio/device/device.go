// Package device bridges audio devices, which run on their own clock, and the
// media engine, which calls audio.Source.ReadFrame and audio.Sink.WriteFrame
// once per 20 ms tick and must never block.
//
// A [Device] is one opened audio device. Its capture side is a [Buffer]
// filled by the device and read on the media clock (silence on underrun);
// its playback side is a [mix.Mixer] that the device pulls from on its own
// clock, so any number of calls and tones play at once.
//
// This package is pure Go. The headless backends live here: [NewNull],
// [NewTone] and [OpenFile], selected by their --audio spelling with [Open].
// The sound-card backend is package audio/portaudio (cgo), which only main
// imports.
//
// A [Hub] hands each call its own source and sink on one device: every call
// hears the same microphone, and every call's received audio is mixed into
// the speaker together with ring, ringback and DTMF feedback tones.
package device

import (
	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
)

// Device is one opened audio device (duplex, or playback or capture only).
//
// Source and Sink follow the audio package contract: they never block.
// Several goroutines may use a Device at once.
type Device interface {
	// Source returns the captured (microphone) audio as 20 ms frames at
	// the device's rate: 8 kHz, or what its SampleRate method says (see
	// audio.Rated and audio.RateOf).
	// Frames come from a ring filled on the device's clock; when it is
	// empty the source plays silence. A device without capture is silent.
	// The source has one reader: use a Hub to give several calls the same
	// capture.
	Source() audio.Source
	// Sink returns a sink whose frames are played: one input of the
	// playback mixer, for simple single-stream use. A device that does
	// not play (headless backends) discards them.
	Sink() audio.Sink
	// Playback returns the mixer the device plays from on its own clock,
	// or nil for a device that discards playback. Each attached source is
	// read once per 20 ms of device time and must not block.
	Playback() *mix.Mixer
	// Close stops the device and releases it. It is idempotent; the
	// source is silent and the sink discards afterwards.
	Close() error
}

// Discard is an audio.Sink that drops every frame.
var Discard audio.Sink = discard{}

type discard struct{}

func (discard) WriteFrame([]int16) error { return nil }
