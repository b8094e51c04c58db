package portaudio

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/teaphone/teaphone/audio/device"
)

// DefaultLatency is the stream latency asked for when Config.Latency is 0:
// one 20 ms device period. A device whose own low latency is higher gets
// that instead.
const DefaultLatency = 20 * time.Millisecond

// PaceEnv is the environment variable that turns on Config.Pace when set
// to "1".
const PaceEnv = "TEAPHONE_AUDIO_PACE"

// NoDevice, as Config.Input or Config.Output, opens the device without
// that direction: no microphone (the source is silent) or no speaker (the
// playback mixer is never read).
const NoDevice = "none"

// Config selects and configures the sound card.
type Config struct {
	// Input and Output select the capture and playback devices: "" is the
	// system default, a number is a device index from Devices, any other
	// text matches a device name (exactly, else as a case-insensitive
	// substring). NoDevice ("none") leaves that direction out.
	Input, Output string
	// Rate is the stream sample rate in Hz (8000 to 384000). 0 tries
	// FrameRate (no resampling) and falls back to the device's default
	// rate; any other rate is resampled to and from FrameRate.
	Rate float64
	// FrameRate is the rate of the Device's frames (its Source, Sink and
	// Playback mixer): 8000 (the default), 16000 or 48000 — the highest
	// rate of the codecs the phone may use, so that a wideband call is
	// wideband from microphone to loudspeaker.
	FrameRate int
	// Pace paces the blocking loops with the wall clock: needed for
	// unclocked devices such as the ALSA file device used in tests.
	// TEAPHONE_AUDIO_PACE=1 turns it on too.
	Pace bool
	// Latency is the device latency asked of each stream: the host
	// buffer, in 10 ms periods (at least two). Playback keeps about
	// Latency minus one period (at least one period) queued ahead of the
	// speaker: without a call it writes each 20 ms frame when no more than
	// that is queued; during a call it writes each frame as the media
	// engine has it, and drops a 10 ms chunk when two more periods than
	// that stay queued. 0 is DefaultLatency; either is raised to the
	// device's own low latency when that is higher. Raise it if Stats
	// reports underflows or overflows; lower it for less delay.
	Latency time.Duration
	// EchoCancel runs an echo canceller on the microphone (audio/aec:
	// speex's adaptive filter and residual echo suppressor), with the
	// frames written to the speaker as its reference, aligned by the
	// delays the device reports (see the package doc). It needs both an
	// input and an output; a build without libspeexdsp logs that and goes
	// on without it.
	EchoCancel bool
	// EchoTail is the longest echo the canceller follows beyond the
	// aligned delay: room reverberation and latency the device does not
	// report. 0 is DefaultEchoTail; at most 1s.
	EchoTail time.Duration
	// NoiseSuppress makes the echo canceller's post-filter take steady
	// noise down too (up to 15 dB). It learns any steady sound as noise,
	// a test tone included. It runs only with EchoCancel.
	NoiseSuppress bool
	// Logger receives stream setup, xrun and error reports, and (at debug
	// level) the ALSA and JACK library messages that would otherwise go
	// to stderr. nil discards them.
	Logger *slog.Logger
}

// Info describes one device PortAudio sees.
type Info struct {
	Index                               int     // device index, usable as Config.Input or Config.Output
	Name                                string  // device name
	HostAPI                             string  // host API name, e.g. "ALSA"
	MaxInputChannels, MaxOutputChannels int     // 0 when the device cannot capture or play
	DefaultSampleRate                   float64 // Hz
	DefaultInput, DefaultOutput         bool    // the system default input or output device
}

// StreamInfo describes one direction of an opened Device.
type StreamInfo struct {
	Device   string        // device name
	Rate     int           // stream sample rate in Hz; 0 when the direction is not open
	Channels int           // stream channels (1, or 2 when the device needs stereo)
	Latency  time.Duration // latency PortAudio reports for the stream
	Paced    bool          // pacing was asked for (Config.Pace or TEAPHONE_AUDIO_PACE=1); see also Stats.AutoPaced
}

// Stats counts what a Device's loops did. It is a snapshot.
type Stats struct {
	CaptureFrames  uint64        // 20 ms frames put into the capture buffer
	PlaybackFrames uint64        // 20 ms frames pulled from the playback mixer
	FollowedFrames uint64        // of those, frames played as soon as the media engine had them (see the package doc)
	DroppedChunks  uint64        // 10 ms chunks dropped to keep the playback buffer from staying full
	PaddedChunks   uint64        // 10 ms chunks of silence played after an underflow
	Overflows      uint64        // capture overruns the device reported (audio lost)
	Underflows     uint64        // playback underruns the device reported (a gap played)
	Errors         uint64        // other failed reads and writes
	LastError      error         // the last of those, or nil
	AutoPaced      bool          // a loop ran far ahead of real time (a device without a clock) and paces itself
	EchoCancel     bool          // the echo canceller runs on the microphone (Config.EchoCancel)
	EchoDelay      time.Duration // the delay from playing to capturing the canceller's reference is aligned to (see the package doc)
	EchoClamped    uint64        // captured frames whose aligned reference was not all written yet (a playback loop running late): the rest went in as silence
}

// ErrUnavailable is returned by Open and Devices in a build without
// PortAudio. It matches device.ErrNoSoundCard: such a build has no sound
// card to open.
var ErrUnavailable error = unavailableError{}

type unavailableError struct{}

func (unavailableError) Error() string {
	return "this build has no PortAudio support (built with CGO_ENABLED=0 or -tags noportaudio)"
}

func (unavailableError) Is(target error) bool { return target == device.ErrNoSoundCard }

// ErrNoDevice is matched (errors.Is) by the errors Open returns when no
// device exists for a direction or none matches the configured name. When
// there is no default device for a direction (the machine has no sound
// card, or no sound server is reachable), the error matches
// device.ErrNoSoundCard too.
var ErrNoDevice = errors.New("no audio device")

// deviceError is a readable one-sentence error that matches ErrNoDevice,
// and device.ErrNoSoundCard when noCard is set.
type deviceError struct {
	msg    string
	noCard bool
}

func (e *deviceError) Error() string { return e.msg }
func (e *deviceError) Is(target error) bool {
	return target == ErrNoDevice || (e.noCard && target == device.ErrNoSoundCard)
}

func noDefaultDevice(input bool) error {
	if input {
		return &deviceError{"no audio input device found: PortAudio sees no microphone or other capture device (run `teaphone devices`, or use --audio null)", true}
	}
	return &deviceError{"no audio output device found: PortAudio sees no usable sound card and no sound server is reachable (run `teaphone devices`, or use --audio null)", true}
}

func noMatchingDevice(input bool, name string) error {
	return &deviceError{fmt.Sprintf("no %s device matching %q (run `teaphone devices` to list them)", direction(input), name), false}
}

func direction(input bool) string {
	if input {
		return "input"
	}
	return "output"
}

// checkALSAConfig turns the ALSA_CONFIG_PATH values that make PortAudio
// 19.6 abort the process (a missing or empty file; a config without a pcm
// named "default") into an error. It must run before PortAudio is
// initialised. alsa-lib splits the variable at ':' and ' '.
func checkALSAConfig() error {
	v, ok := os.LookupEnv("ALSA_CONFIG_PATH")
	if !ok || v == "" {
		return nil
	}
	paths := strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ' ' })
	var content strings.Builder
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				p = filepath.Join(home, rest)
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("ALSA_CONFIG_PATH names a missing file %s (fix or unset it; ALSA would abort the program)", p)
			}
			return fmt.Errorf("ALSA_CONFIG_PATH names a file that cannot be read (%v; fix or unset it)", err)
		}
		for line := range strings.Lines(string(b)) {
			line, _, _ = strings.Cut(line, "#") // ALSA comments run to the end of the line
			content.WriteString(line)
			content.WriteByte('\n')
		}
	}
	c := content.String()
	switch {
	case strings.TrimSpace(c) == "":
		return fmt.Errorf("ALSA_CONFIG_PATH=%s names an empty configuration (fix or unset it; ALSA would abort the program)", v)
	case !strings.Contains(c, "default") && !strings.Contains(c, "<"):
		return fmt.Errorf("ALSA_CONFIG_PATH=%s names a configuration without a pcm called \"default\" (add one or unset the variable; ALSA would abort the program)", v)
	}
	return nil
}
