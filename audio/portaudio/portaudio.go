//go:build cgo && !noportaudio

package portaudio

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	pa "github.com/gordonklaus/portaudio"

	"github.com/teaphone/teaphone/audio"
)

// Available reports whether this build has PortAudio support (cgo and no
// noportaudio tag).
const Available = true

// The binding keeps unguarded globals (its initialisation count and device
// cache), and PortAudio's Initialize/Terminate pair is reference counted
// here, so every call into the binding except a stream's Read and Write
// (each used by one goroutine) happens under paMu.
var (
	paMu   sync.Mutex
	paRefs int
)

// acquireLocked initialises PortAudio for the first user, whose log (if
// any) receives the ALSA and JACK messages until the last user is done.
func acquireLocked(log *slog.Logger) error {
	if paRefs == 0 {
		if err := checkALSAConfig(); err != nil {
			return err
		}
		quiet(log)
		if err := pa.Initialize(); err != nil {
			return initError(err)
		}
	}
	paRefs++
	return nil
}

// releaseLocked terminates PortAudio after its last user.
func releaseLocked() error {
	paRefs--
	if paRefs > 0 {
		return nil
	}
	paRefs = 0
	err := pa.Terminate()
	quiet(nil) // library messages from now on are discarded
	if err != nil {
		return fmt.Errorf("closing the audio system: %s", errText(err))
	}
	return nil
}

// Devices lists the devices PortAudio sees, for `teaphone devices`.
func Devices() ([]Info, error) {
	paMu.Lock()
	defer paMu.Unlock()
	if err := acquireLocked(nil); err != nil {
		return nil, err
	}
	defer releaseLocked()
	devs, err := pa.Devices()
	if err != nil {
		return nil, fmt.Errorf("listing audio devices: %s", errText(err))
	}
	defIn, _ := pa.DefaultInputDevice()
	defOut, _ := pa.DefaultOutputDevice()
	infos := make([]Info, 0, len(devs))
	for _, d := range devs {
		in := Info{
			Index:             d.Index,
			Name:              d.Name,
			MaxInputChannels:  d.MaxInputChannels,
			MaxOutputChannels: d.MaxOutputChannels,
			DefaultSampleRate: d.DefaultSampleRate,
			DefaultInput:      defIn != nil && defIn.Index == d.Index,
			DefaultOutput:     defOut != nil && defOut.Index == d.Index,
		}
		if d.HostApi != nil {
			in.HostAPI = d.HostApi.Name // not Type.String(), which panics on unknown types
		}
		infos = append(infos, in)
	}
	return infos, nil
}

// Open opens the sound card as cfg says and starts its capture and
// playback loops. Close the Device when done. Errors are one readable
// sentence (for example "no audio output device found: …"), and those
// about a missing or unmatched device match ErrNoDevice.
func Open(cfg Config) (*Device, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if os.Getenv(PaceEnv) == "1" {
		cfg.Pace = true
	}
	switch {
	case cfg.Input == NoDevice && cfg.Output == NoDevice:
		return nil, errors.New(`audio input and output are both "none": nothing to open (use --audio null instead)`)
	case math.IsNaN(cfg.Rate) || cfg.Rate < 0 || (cfg.Rate > 0 && (cfg.Rate < 8000 || cfg.Rate > 384000)):
		return nil, fmt.Errorf("audio sample rate %g Hz is out of range (use 0 for automatic, or 8000 to 384000)", cfg.Rate)
	case cfg.FrameRate == 0:
		cfg.FrameRate = audio.SampleRate
	case cfg.FrameRate != 8000 && cfg.FrameRate != 16000 && cfg.FrameRate != 48000:
		return nil, fmt.Errorf("audio frame rate %d Hz: want 8000, 16000 or 48000", cfg.FrameRate)
	}

	paMu.Lock()
	defer paMu.Unlock()
	if err := acquireLocked(cfg.Logger); err != nil {
		return nil, err
	}
	d := newDevice(log, cfg.FrameRate)
	var in, out *stream
	fail := func(err error) (*Device, error) {
		d.echo.close()
		in.close()
		out.close()
		releaseLocked()
		return nil, err
	}
	outDev, err := pickDevice(cfg.Output, false)
	if err != nil {
		return fail(err)
	}
	inDev, err := pickDevice(cfg.Input, true)
	if err != nil {
		return fail(err)
	}
	if outDev != nil {
		if out, err = openStream(outDev, false, cfg); err != nil {
			return fail(err)
		}
	}
	if inDev != nil {
		if in, err = openStream(inDev, true, cfg); err != nil {
			return fail(err)
		}
	}

	var capConv *captureConv
	var playConv *playbackConv
	if in != nil {
		var capOut audio.Sink = d.capture
		if cfg.EchoCancel {
			d.echo = openEcho(cfg, in, out, d.capture, log)
			if d.echo != nil {
				capOut = d.echo
			}
		}
		if capConv, err = newCaptureConv(in.info.Rate, cfg.FrameRate, in.info.Channels, in.frames, capOut); err != nil {
			return fail(err)
		}
	}
	if out != nil {
		if playConv, err = newPlaybackConv(out.info.Rate, cfg.FrameRate, out.info.Channels, out.frames, d.mixer); err != nil {
			return fail(err)
		}
	}
	for _, s := range []*stream{out, in} {
		if s == nil {
			continue
		}
		if err := s.s.Start(); err != nil {
			return fail(fmt.Errorf("cannot start the audio %s stream on %q: %s", s.dir(), s.info.Device, errText(err)))
		}
		s.started = true
	}

	d.release = func() error {
		paMu.Lock()
		defer paMu.Unlock()
		return errors.Join(out.close(), in.close(), releaseLocked())
	}
	if out != nil {
		d.out = out.info
		d.wg.Add(1)
		l := out.loopIO(out.s.Write)
		l.frame = make([]int16, out.frames*out.info.Channels)
		l.room = newRoom(out.s.AvailableToWrite, out.keep, len(out.buf)/out.info.Channels, out.info.Rate)
		// Play each call's frame as soon as the engine has it (see room).
		l.room.follow(d.mixer.Nudges())
		l.echo = d.echo
		go d.runPlayback(l, playConv, newPacer(cfg.Pace, out.frames, out.info.Rate))
	}
	if in != nil {
		d.in = in.info
		d.wg.Add(1)
		l := in.loopIO(in.s.Read)
		l.echo = d.echo
		go d.runCapture(l, capConv, newPacer(cfg.Pace, in.frames, in.info.Rate))
	}
	log.Info("audio device opened",
		"input", d.in.Device, "input_rate", d.in.Rate, "input_latency", d.in.Latency,
		"output", d.out.Device, "output_rate", d.out.Rate, "output_latency", d.out.Latency,
		"paced", cfg.Pace, "echo_cancel", d.echo != nil)
	return d, nil
}

// openEcho returns the echo stage for the opened streams, or nil (logged)
// when there is no playback to cancel or the build cannot.
func openEcho(cfg Config, in, out *stream, next audio.Sink, log *slog.Logger) *echoStage {
	if out == nil {
		log.Info("echo cancellation off: no audio output")
		return nil
	}
	tail := cfg.EchoTail
	if tail == 0 {
		tail = DefaultEchoTail
	}
	e, err := newEchoStage(echoConfig{
		rate: cfg.FrameRate, frame: audio.FrameSamplesAt(cfg.FrameRate),
		tail: tail, noiseSuppress: cfg.NoiseSuppress,
		outRate: out.info.Rate, outCh: out.info.Channels, outChunk: len(out.buf) / out.info.Channels,
		outLatency: out.info.Latency, outAvail: out.s.AvailableToWrite,
		inRate: in.info.Rate, inAvail: in.s.AvailableToRead,
		next: next,
	})
	if err != nil {
		log.Warn("echo cancellation off", "err", err)
		return nil
	}
	return e
}

// stream is one opened half-duplex blocking stream.
type stream struct {
	s       *pa.Stream
	input   bool
	buf     []int16 // the buffer given to OpenStream: Read and Write use it (20 ms; playback 10 ms)
	frames  int     // frames per loop buffer (20 ms)
	keep    int     // playback: frames left queued when the loop writes (see room)
	info    StreamInfo
	started bool
}

func (s *stream) dir() string { return direction(s.input) }

func (s *stream) loopIO(io blockingIO) loopIO {
	return loopIO{io: io, buf: s.buf, isXrun: isXrun, errText: errText}
}

// close stops (draining playback) and closes the stream; nil is a no-op.
func (s *stream) close() error {
	if s == nil || s.s == nil {
		return nil
	}
	var errs []error
	if s.started {
		if err := s.s.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the audio %s stream: %s", s.dir(), errText(err)))
		}
		s.started = false
	}
	if err := s.s.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the audio %s stream: %s", s.dir(), errText(err)))
	}
	s.s = nil
	return errors.Join(errs...)
}

// pickDevice resolves Config.Input or Config.Output; nil for NoDevice.
func pickDevice(spec string, input bool) (*pa.DeviceInfo, error) {
	channels := func(d *pa.DeviceInfo) int {
		if input {
			return d.MaxInputChannels
		}
		return d.MaxOutputChannels
	}
	switch spec {
	case NoDevice:
		return nil, nil
	case "":
		var d *pa.DeviceInfo
		var err error
		if input {
			d, err = pa.DefaultInputDevice()
		} else {
			d, err = pa.DefaultOutputDevice()
		}
		switch {
		case errors.Is(err, pa.NoDefaultInputDevice), errors.Is(err, pa.NoDefaultOutputDevice):
			return nil, noDefaultDevice(input)
		case err != nil:
			return nil, fmt.Errorf("cannot find the default audio %s device: %s", direction(input), errText(err))
		case d == nil || channels(d) < 1:
			return nil, noDefaultDevice(input)
		}
		return d, nil
	}
	devs, err := pa.Devices()
	if err != nil {
		return nil, fmt.Errorf("listing audio devices: %s", errText(err))
	}
	if i, err := strconv.Atoi(spec); err == nil {
		if i >= 0 && i < len(devs) && channels(devs[i]) > 0 {
			return devs[i], nil
		}
		return nil, noMatchingDevice(input, spec)
	}
	for _, d := range devs {
		if d.Name == spec && channels(d) > 0 {
			return d, nil
		}
	}
	want := strings.ToLower(spec)
	for _, d := range devs {
		if strings.Contains(strings.ToLower(d.Name), want) && channels(d) > 0 {
			return d, nil
		}
	}
	return nil, noMatchingDevice(input, spec)
}

// openStream opens a mono (else stereo) int16 blocking stream on dev with
// 20 ms buffers at the configured rate, or 8 kHz if the device takes it,
// else the device's default rate.
func openStream(dev *pa.DeviceInfo, input bool, cfg Config) (*stream, error) {
	maxCh, lat := dev.MaxOutputChannels, dev.DefaultLowOutputLatency
	if input {
		maxCh, lat = dev.MaxInputChannels, dev.DefaultLowInputLatency
	}
	want := DefaultLatency
	if cfg.Latency > 0 {
		want = cfg.Latency
	}
	lat = max(lat, want)
	params := func(ch, rate int) pa.StreamParameters {
		// The loops read and write 20 ms at a time, but the host buffer
		// is made of 10 ms periods (see period).
		p := pa.StreamParameters{SampleRate: float64(rate), FramesPerBuffer: period(rate)}
		dp := pa.StreamDeviceParameters{Device: dev, Channels: ch, Latency: lat}
		if input {
			p.Input = dp
		} else {
			p.Output = dp
		}
		return p
	}
	channelChoices := []int{1}
	if maxCh >= 2 {
		channelChoices = append(channelChoices, 2)
	}

	rate := int(math.Round(cfg.Rate))
	if rate == 0 {
		rate = int(math.Round(dev.DefaultSampleRate))
		for _, ch := range channelChoices {
			fr := max(cfg.FrameRate, audio.SampleRate)
			if pa.IsFormatSupported(params(ch, fr), make([]int16, audio.FrameSamplesAt(fr)*ch)) == nil {
				rate = fr
				break
			}
		}
	}
	if rate <= 0 {
		return nil, fmt.Errorf("audio %s device %q reports no usable sample rate (set one with the audio rate option)", direction(input), dev.Name)
	}
	frames := framesPer20ms(rate)
	chunk := frames
	if !input && frames%2 == 0 {
		chunk = frames / 2 // playback writes 10 ms at a time (see room)
	}
	var err error
	for _, ch := range channelChoices {
		buf := make([]int16, chunk*ch)
		var s *pa.Stream
		s, err = pa.OpenStream(params(ch, rate), buf)
		if err == nil {
			// Playback keeps what the latency asks for minus the period
			// being played: one 10 ms period at the default latency (5 ms
			// made the ALSA pulse plugin underflow).
			keep := max(period(rate), int(lat.Seconds()*float64(rate))-period(rate))
			st := &stream{s: s, input: input, buf: buf, frames: frames, keep: keep, info: StreamInfo{
				Device: dev.Name, Rate: rate, Channels: ch, Paced: cfg.Pace,
			}}
			if info := s.Info(); info != nil {
				st.info.Latency = info.OutputLatency
				if input {
					st.info.Latency = info.InputLatency
				}
			}
			return st, nil
		}
		if !errors.Is(err, pa.InvalidChannelCount) {
			break
		}
	}
	return nil, fmt.Errorf("cannot open audio %s device %q at %d Hz: %s", direction(input), dev.Name, rate, errText(err))
}

func isXrun(err error) bool {
	return errors.Is(err, pa.InputOverflowed) || errors.Is(err, pa.OutputUnderflowed)
}

// errText renders a binding error safely: UnanticipatedHostError may have
// an empty text, and formatting its HostApiType with %v panics for
// unknown types.
func errText(err error) string {
	var he pa.UnanticipatedHostError
	if errors.As(err, &he) {
		text := he.Text
		if text == "" {
			text = "unspecified error"
		}
		return fmt.Sprintf("%s (host API %d, code %d)", text, int(he.HostApiType), he.Code)
	}
	if err == nil {
		return "no error"
	}
	if s := err.Error(); s != "" {
		return s
	}
	return fmt.Sprintf("error %T", err)
}

// initError explains a failed pa.Initialize.
func initError(err error) error {
	hint := "check the ALSA configuration"
	if p := os.Getenv("ALSA_CONFIG_PATH"); p != "" {
		hint = "check the ALSA configuration in ALSA_CONFIG_PATH=" + p
	}
	return fmt.Errorf("the audio system could not be initialised (%s; %s)", errText(err), hint)
}
