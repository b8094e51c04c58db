// Package portaudio is teaphone's sound-card backend: a device.Device on
// top of PortAudio (github.com/gordonklaus/portaudio, cgo). It is the only
// package that imports the binding, and only main imports it, so everything
// else builds and tests without libportaudio.
//
// [Open] opens the capture and playback streams (blocking I/O, 20 ms
// buffers, low latency) and runs one owned goroutine per direction: the
// capture loop reads the stream, resamples to 8 kHz and fills a
// device.Buffer (the device's Source); the playback loop pulls 20 ms from
// the playback mixer, resamples to the stream rate and writes the stream
// (10 ms at a time). During a call it does so as soon as the media engine
// nudges the mixer (mix.Mixer.Nudge: every call's frame for the period is
// there), so a frame waits for nothing but the host buffer; it drops a
// chunk when the buffer stays full and pads one after an underflow.
// Otherwise (tones only) it writes when at most one 10 ms period is still
// queued for the speaker.
// [Device.Close] stops both and waits for them.
//
// Echo cancellation ([Config.EchoCancel]): between the capture conversion
// and the capture buffer, an echo stage (echo.go) runs audio/aec's
// canceller on every captured frame, at the frames' rate. Its far-end
// reference is exactly what the playback loop wrote to the device, chunk
// by chunk (silence padded after an underflow included, chunks dropped
// left out), resampled to that rate into a ring indexed by sample count.
// Which reference sample a microphone sample's echo comes from follows
// from the devices' own reports: every fourth frame, the playback loop
// asks how long the device still has queued ahead of what it wrote
// (AvailableToWrite, after the frame's writes), and the capture loop how
// long the device has held captured audio not yet read
// (AvailableToRead); each side's timing is the earliest of its last 64
// reports, which removes scheduling jitter and stale reports, and starts
// afresh after an xrun.
// The canceller is given the reference 10 ms earlier than the estimate
// (never later than written), because it can cancel an echo that comes
// after its reference, within its tail, but never one that comes before;
// the tail (Config.EchoTail) covers the acoustic path and the latency the
// devices do not report (a sound server's own buffers). Stats.EchoDelay
// is the aligned delay.
//
// The noise suppressor ([Config.NoiseSuppress]) is the canceller's
// post-filter with its noise floor on; it learns any steady sound as
// noise (a test tone included). The headless sources (null, tone, file)
// have no sound card and never run either. [Devices] lists what
// PortAudio sees, for `teaphone devices`.
//
// Builds: with cgo this package needs portaudio19-dev (pkg-config
// portaudio-2.0). With CGO_ENABLED=0 or -tags noportaudio it compiles to a
// stub whose Open and Devices return [ErrUnavailable]; [Available] tells
// which build this is.
//
// Headless use: an ALSA "file" device (testdata/asound-test.conf, selected
// with ALSA_CONFIG_PATH) is not clocked and runs about 1000× faster than
// real time. Set [Config.Pace] or TEAPHONE_AUDIO_PACE=1 to pace the loops
// with the wall clock. Without either, a loop that runs more than two
// seconds ahead of the wall clock starts pacing by itself (and logs it).
//
// Tests: they use that ALSA file device and set process-wide environment
// variables, so they never run in parallel. The binding passes an integer
// as a pointer, which checkptr (enabled by -race) rejects, so run them as
//
//	go test -race -gcflags=github.com/gordonklaus/portaudio=-d=checkptr=0 ./audio/portaudio/
//
// They skip in a build without PortAudio support unless CI=true, where they
// fail instead.
package portaudio
