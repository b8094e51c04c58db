package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/audio/portaudio"
	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/ui"
)

// soundDevices is the sound card behind the TUI's device picker: the
// device of the calls (microphone and speaker) and the ring device, each
// a device.Switch, so a choice takes effect during a call without
// dropping it. A new device is opened with the configured PortAudio
// settings (latency, pacing), only the device names differ. Choices last
// for the session.
//
// PortAudio reads the list of devices when it is initialised, and it can
// only be initialised again once every stream is closed (PortAudio's
// Terminate closes open streams under their users). So List, when no
// call is up and the machine's sound devices changed since the last look
// (see soundSignature), parks the Switches on silent placeholders for a
// moment (closing the streams), lists the devices afresh and opens the
// same devices again. During a call the list stays as it was.
type soundDevices struct {
	cfg   config.Config
	log   *slog.Logger
	main  *device.Switch // calls, ringback, keypad tones
	ring  *device.Switch // the ring tone: on the main Switch's mixer, or a device of its own
	idle  func() bool    // no call is up; nil: never rescan
	park  *mix.Mixer     // what parked Switches play on (nothing reads it)
	sense func() string  // soundSignature; tests replace it

	mu   sync.Mutex
	seen string // the signature of the last listing
}

// newSoundDevices wraps d, the sound card opened for the calls, and opens
// the configured ring device, if any.
func newSoundDevices(cfg config.Config, d device.Device, logger *slog.Logger) (*soundDevices, error) {
	s := &soundDevices{cfg: cfg, log: logger, main: device.NewSwitch(d), park: mix.NewMixer(parkSamples), sense: soundSignature}
	var rd device.Device = device.PlayOn(s.main.Playback())
	if cfg.Media.RingDevice != "" {
		var err error
		if rd, err = s.open(portaudio.NoDevice, cfg.Media.RingDevice, "ring"); err != nil {
			s.main.Close()
			return nil, fmt.Errorf("ring device: %w", err)
		}
	}
	s.ring = device.NewSwitch(rd)
	for _, sw := range []*device.Switch{s.main, s.ring} {
		sw.OnCloseError = func(err error) { logger.Warn("closing an audio device", "err", err) }
	}
	s.seen = s.sense()
	return s, nil
}

// parkSamples is the frame size of the parking mixer: 20 ms at 48 kHz.
const parkSamples = 48000 / 50

// Close closes both Switches and their devices.
func (s *soundDevices) Close() error { return errors.Join(s.ring.Close(), s.main.Close()) }

func (s *soundDevices) open(input, output, component string) (device.Device, error) {
	return soundCard(s.cfg, input, output, s.log.With("component", component))()
}

// names returns the devices in use: input and output of the calls, and
// the ring's ("" on the speaker).
func (s *soundDevices) names() (in, out, ring string) {
	i, o := s.main.Devices()
	if d, ok := i.(*portaudio.Device); ok {
		in = d.Input().Device
	}
	if d, ok := o.(*portaudio.Device); ok {
		out = d.Output().Device
	}
	if _, r := s.ring.Devices(); r != nil {
		if d, ok := r.(*portaudio.Device); ok {
			ring = d.Output().Device
		}
	}
	return in, out, ring
}

// List lists the devices for the picker, rescanning first when that is
// possible and something changed.
func (s *soundDevices) List() (ui.AudioDevices, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var l ui.AudioDevices
	sig := s.sense()
	switch {
	case sig == s.seen:
	case s.idle != nil && s.idle():
		if err := s.rescanLocked(); err != nil {
			s.log.Warn("audio devices after a rescan", "err", err)
			l.Note = err.Error()
		}
		s.seen = sig
	default:
		l.Note = "The sound devices changed: the list is read again once no call is up."
	}
	infos, err := portaudio.Devices()
	if err != nil {
		return l, err
	}
	seen := map[string]bool{}
	for _, d := range infos {
		if seen[d.Name] { // another host API's: opening by name gets the first
			continue
		}
		seen[d.Name] = true
		l.Devices = append(l.Devices, ui.AudioDevice{Name: d.Name, Input: d.MaxInputChannels > 0, Output: d.MaxOutputChannels > 0})
	}
	l.Input, l.Output, l.Ring = s.names()
	return l, nil
}

// rescanLocked closes every stream for a moment so that PortAudio lists
// the devices afresh, then opens the same devices again (the default
// device for one that is gone). Nothing plays meanwhile: no call is up.
func (s *soundDevices) rescanLocked() error {
	in, out, ring := s.names()
	if in == "" || out == "" {
		return errors.New("the list is not read again: audio was started without a microphone or a speaker")
	}
	parked := device.PlayOn(s.park)
	if err := s.main.Swap(parked); err != nil {
		return err
	}
	if ring != "" {
		if err := s.ring.SwapOutput(parked); err != nil {
			return err
		}
	}
	if _, err := portaudio.Devices(); err != nil { // initialises PortAudio afresh
		s.log.Warn("listing audio devices", "err", err)
	}
	var errs []error
	reopen := func(name string, swap func(device.Device) error, open func(string) (device.Device, error)) {
		d, err := open(name)
		if err != nil && name != "" {
			errs = append(errs, err)
			d, err = open("") // the device went away: the default one
		}
		if err != nil {
			errs = append(errs, err)
			return
		}
		if err := swap(d); err != nil {
			d.Close()
			errs = append(errs, err)
		}
	}
	if in == out {
		reopen(in, s.main.Swap, func(n string) (device.Device, error) { return s.open(n, n, "portaudio") })
	} else {
		reopen(in, s.main.SwapInput, func(n string) (device.Device, error) { return s.open(n, portaudio.NoDevice, "portaudio") })
		reopen(out, s.main.SwapOutput, func(n string) (device.Device, error) { return s.open(portaudio.NoDevice, n, "portaudio") })
	}
	if ring != "" {
		reopen(ring, s.ring.SwapOutput, func(n string) (device.Device, error) { return s.open(portaudio.NoDevice, n, "ring") })
	}
	return errors.Join(errs...)
}

// Use switches role to the device named: the new device is opened first,
// and on failure the one in use stays.
func (s *soundDevices) Use(role ui.DeviceRole, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw, in, out, component := s.main, portaudio.NoDevice, portaudio.NoDevice, "portaudio"
	switch role {
	case ui.RoleInput:
		in = name
	case ui.RoleOutput:
		out = name
	case ui.RoleRing:
		sw, out, component = s.ring, name, "ring"
		if name == "" {
			if err := s.ring.SwapOutput(device.PlayOn(s.main.Playback())); err != nil {
				return err
			}
			s.log.Info("audio device switched", "role", role.String(), "device", "the speaker")
			return nil
		}
	}
	start := time.Now()
	d, err := s.open(in, out, component)
	if err != nil {
		return err
	}
	swap := sw.SwapOutput
	if role == ui.RoleInput {
		swap = sw.SwapInput
	}
	if err := swap(d); err != nil {
		d.Close()
		return err
	}
	s.log.Info("audio device switched", "role", role.String(), "device", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// soundSignature sums up what makes PortAudio's device list change: the
// kernel's sound cards (a USB headset plugged in) and the ALSA
// configuration files named by ALSA_CONFIG_PATH (the test devices). It is
// cheap enough to read every second.
func soundSignature() string {
	var b strings.Builder
	if cards, err := os.ReadFile("/proc/asound/cards"); err == nil {
		b.Write(cards)
	}
	if ents, err := os.ReadDir("/dev/snd"); err == nil {
		for _, e := range ents {
			b.WriteString(e.Name() + " ")
		}
	}
	for _, p := range filepath.SplitList(strings.ReplaceAll(os.Getenv("ALSA_CONFIG_PATH"), " ", ":")) {
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}
