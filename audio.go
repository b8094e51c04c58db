package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/portaudio"
	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/phone"
)

// openedAudio is the audio backend in use.
type openedAudio struct {
	device.Choice
	name      string // for the status bar and the log
	soundCard bool   // the device is the sound card
}

// openAudio opens the configured backend (see device.Choose): the sound
// card through card, or a headless one. The sound card counts as asked for
// when --audio or $TEAPHONE_AUDIO named it or a device is named; otherwise a
// machine without one runs with audio off.
func openAudio(cfg config.Config, card device.SoundCard) (openedAudio, error) {
	m := cfg.Media
	explicit := cfg.Overridden("media.audio") || m.InputDevice != "" || m.OutputDevice != ""
	c, err := device.ChooseAt(m.Audio, explicit, card, frameRate(m.Codecs))
	if err != nil {
		return openedAudio{}, err
	}
	a := openedAudio{Choice: c, name: m.Audio}
	switch {
	case c.Fallback != nil:
		a.name = "null"
	case m.Audio == "" || m.Audio == config.AudioPortAudio:
		a.name, a.soundCard = "sound card", true
		if m.InputDevice != "" || m.OutputDevice != "" {
			a.name = m.InputDevice + "/" + m.OutputDevice
		}
	}
	return a, nil
}

// soundCard opens the sound card's input and output devices with PortAudio,
// with echo cancellation on the microphone as media.echo_cancel says (it
// needs both directions, so the ring device has none).
func soundCard(cfg config.Config, input, output string, logger *slog.Logger) device.SoundCard {
	return func() (device.Device, error) {
		d, err := portaudio.Open(portaudio.Config{
			Input:         input,
			Output:        output,
			FrameRate:     frameRate(cfg.Media.Codecs),
			Latency:       cfg.Media.AudioLatency.Duration,
			EchoCancel:    cfg.Media.EchoCancel,
			EchoTail:      cfg.Media.EchoTail.Duration,
			NoiseSuppress: cfg.Media.NoiseSuppress,
			Logger:        logger,
		})
		if err != nil {
			return nil, err
		}
		return d, nil
	}
}

// frameRate is the rate the audio device works at: the highest audio rate
// of the codecs a call may use, so that a wideband call is wideband from
// microphone to loudspeaker and a narrowband-only phone resamples nothing.
func frameRate(codecs []string) int {
	rate := audio.SampleRate
	for _, c := range codecs {
		switch c {
		case "opus":
			rate = max(rate, 48000)
		case "G722":
			rate = max(rate, 16000)
		}
	}
	return rate
}

// hubAudio gives every call the shared device: the microphone to send, a
// playback input for what it receives.
type hubAudio struct{ hub *device.Hub }

func (h hubAudio) CallAudio(_ phone.SessionID, rate int) (audio.Source, audio.Sink, func()) {
	return h.hub.CallAudioAt(rate)
}

func listDevices(stdout io.Writer) error {
	devs, err := portaudio.Devices()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		fmt.Fprintln(stdout, "no audio devices found (no sound card, and no sound server reachable)")
		return nil
	}
	for _, d := range devs {
		marks := ""
		if d.DefaultInput {
			marks += " [default input]"
		}
		if d.DefaultOutput {
			marks += " [default output]"
		}
		fmt.Fprintf(stdout, "%3d  %-40s %-6s in:%-3d out:%-3d %6.0f Hz%s\n", d.Index, d.Name, d.HostAPI,
			d.MaxInputChannels, d.MaxOutputChannels, d.DefaultSampleRate, marks)
	}
	return nil
}
