package portaudio

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/mix"
)

const (
	// captureBufferFrames bounds the microphone latency the capture buffer can
	// add (100 ms).
	captureBufferFrames = 5
	// sinkBufferFrames is the capacity of the buffer behind Device.Sink.
	sinkBufferFrames = 6
	// errorBackoff is how long a loop waits after a failed read or write,
	// so a broken device does not make it spin.
	errorBackoff = audio.FrameDuration
	// closeTimeout is how long Close waits for the loops to return from a
	// blocking read or write.
	closeTimeout = 5 * time.Second
)

var _ device.Device = (*Device)(nil)

// Device is an opened sound card: capture and playback streams, each
// served by one goroutine it owns. It implements device.Device; its
// methods are safe for concurrent use.
type Device struct {
	frameRate int
	log       *slog.Logger
	capture   *device.Buffer // filled by the capture loop, read by Source's user
	mixer     *mix.Mixer     // read by the playback loop
	sink      *device.Buffer // the mixer input behind Sink
	in, out   StreamInfo

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	release   func() error // stops and closes the streams, releases PortAudio
	echo      *echoStage   // nil: no echo cancellation

	captured, played, overflows, underflows atomic.Uint64
	followed, dropped, padded               atomic.Uint64
	captureErrs, playbackErrs               atomic.Uint64
	lastErr                                 atomic.Pointer[error]
	autoPaced                               atomic.Bool
}

func newDevice(log *slog.Logger, frameRate int) *Device {
	frame := audio.FrameSamplesAt(frameRate)
	d := &Device{
		log:       log,
		frameRate: frameRate,
		capture:   device.NewLowLatencyBufferAt(captureBufferFrames, frame),
		mixer:     mix.NewMixer(frame),
		sink:      device.NewBufferAt(sinkBufferFrames, frame),
		done:      make(chan struct{}),
	}
	d.mixer.Add(d.sink)
	return d
}

// SampleRate implements audio.Rated: the rate of the device's frames
// (Config.FrameRate).
func (d *Device) SampleRate() int { return d.frameRate }

// Source returns the captured audio as frames at SampleRate from a device.Buffer
// filled by the capture loop (silence on underrun, or without an input
// device). It has one reader; use a device.Hub to share it between calls.
func (d *Device) Source() audio.Source { return d.capture }

// Sink returns one input of the playback mixer: frames written to it play
// through a device.Buffer of a few frames. Without an output device it
// discards them.
func (d *Device) Sink() audio.Sink {
	if d.out.Rate == 0 { // no output stream
		return device.Discard
	}
	return d.sink
}

// Playback returns the mixer the playback loop pulls from every 20 ms of
// device time, or nil without an output device (nothing would read it, so
// a tone added to it would never end).
func (d *Device) Playback() *mix.Mixer {
	if d.out.Rate == 0 { // no output stream
		return nil
	}
	return d.mixer
}

// Input describes the capture stream (zero without one).
func (d *Device) Input() StreamInfo { return d.in }

// Output describes the playback stream (zero without one).
func (d *Device) Output() StreamInfo { return d.out }

// Stats returns the loops' counters so far.
func (d *Device) Stats() Stats {
	s := Stats{
		CaptureFrames:  d.captured.Load(),
		PlaybackFrames: d.played.Load(),
		FollowedFrames: d.followed.Load(),
		DroppedChunks:  d.dropped.Load(),
		PaddedChunks:   d.padded.Load(),
		Overflows:      d.overflows.Load(),
		Underflows:     d.underflows.Load(),
		Errors:         d.captureErrs.Load() + d.playbackErrs.Load(),
		AutoPaced:      d.autoPaced.Load(),
	}
	if d.echo != nil {
		s.EchoCancel = true
		s.EchoDelay = time.Duration(d.echo.delay.Load())
		s.EchoClamped = d.echo.clamped.Load()
	}
	if p := d.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	return s
}

// Close stops both loops, waits for them, then stops and closes the
// streams (playback drains its last buffer) and releases PortAudio. It is
// idempotent and returns the first call's result. If a loop stays blocked
// in the device for more than 5 s, Close leaves the streams open and
// returns an error rather than pull them from under it.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		close(d.done)
		stopped := make(chan struct{})
		go func() { // ends when the loops do
			d.wg.Wait()
			close(stopped)
		}()
		t := time.NewTimer(closeTimeout)
		defer t.Stop()
		select {
		case <-stopped:
		case <-t.C:
			d.closeErr = fmt.Errorf("the audio device did not stop within %v; its streams were left open", closeTimeout)
			return
		}
		if d.release != nil {
			d.closeErr = d.release()
		}
		d.echo.close()
		d.capture.Reset()
		st := d.Stats()
		d.log.Info("audio device closed", "captured_frames", st.CaptureFrames, "played_frames", st.PlaybackFrames,
			"followed_frames", st.FollowedFrames, "dropped_chunks", st.DroppedChunks, "padded_chunks", st.PaddedChunks,
			"overflows", st.Overflows, "underflows", st.Underflows, "errors", st.Errors,
			"echo_cancel", st.EchoCancel, "echo_delay", st.EchoDelay, "echo_clamped", st.EchoClamped)
	})
	return d.closeErr
}

// blockingIO reads or writes one buffer of a blocking stream.
type blockingIO func() error

// loopIO is what a loop needs from the backend.
type loopIO struct {
	io      blockingIO
	buf     []int16          // the stream's buffer (interleaved)
	frame   []int16          // playback: one 20 ms buffer, written len(buf) at a time (nil: len(buf) long)
	isXrun  func(error) bool // an overflow or underflow report, not a failure
	errText func(error) string
	room    *room      // playback only: when to write (nil: as soon as the stream takes it)
	echo    *echoStage // told of every buffer read and written (nil: no echo cancellation)
}

// runCapture is the capture goroutine: read a buffer, convert, queue.
func (d *Device) runCapture(l loopIO, conv *captureConv, p *pacer) {
	defer d.wg.Done()
	for p.wait(d.done) {
		err := l.io()
		if err != nil {
			if !l.isXrun(err) {
				d.fail("capture", err, l.errText, &d.captureErrs)
				if !p.sleep(errorBackoff, d.done) {
					return
				}
				continue
			}
			d.xrun("capture overflow (audio lost)", &d.overflows)
		}
		d.captured.Add(uint64(conv.push(l.buf)))
		l.echo.captured(conv.n, err != nil)
		if p.advance() {
			d.autoPaced.Store(true)
			d.log.Warn("audio capture runs far ahead of real time (device without a clock?); pacing it with the wall clock")
		}
	}
}

// runPlayback is the playback goroutine: wait for room or for a writer's
// fresh frame (see room), mix, convert, write a buffer.
func (d *Device) runPlayback(l loopIO, conv *playbackConv, p *pacer) {
	defer d.wg.Done()
	frame := l.frame
	if frame == nil {
		frame = make([]int16, len(l.buf))
	}
	for p.wait(d.done) {
		if !l.room.wait(d.done) {
			return
		}
		d.played.Add(uint64(conv.fill(frame)))
		queued := l.room.queued()
		pad, drop := l.room.plan()
		if l.room.onNudge() {
			d.followed.Add(1)
		}
		d.padded.Add(uint64(pad))
		d.dropped.Add(uint64(drop))
		xrun, err := l.write(frame, pad, drop)
		l.room.wrote(queued, xrun)
		l.echo.wrote(xrun)
		if xrun {
			d.xrun("playback underflow (a gap was played)", &d.underflows)
		}
		if err != nil {
			d.fail("playback", err, l.errText, &d.playbackErrs)
			if !p.sleep(errorBackoff, d.done) {
				return
			}
			continue
		}
		if p.advance() {
			d.autoPaced.Store(true)
			d.log.Warn("audio playback runs far ahead of real time (device without a clock?); pacing it with the wall clock")
		}
	}
}

// write plays frame through buf (which PortAudio writes from), a chunk of
// len(buf) samples at a time: first pad chunks of silence, then frame
// without its first drop chunks.
// It reports whether a write found an underflow, and stops at the first
// other error.
func (l loopIO) write(frame []int16, pad, drop int) (xrun bool, err error) {
	io := func() error {
		err := l.io()
		if err != nil {
			if !l.isXrun(err) {
				return err
			}
			xrun = true
		}
		l.echo.played(l.buf) // the far-end reference: exactly what was written
		return nil
	}
	for range pad {
		clear(l.buf)
		if err := io(); err != nil {
			return xrun, err
		}
	}
	for off := drop * len(l.buf); off+len(l.buf) <= len(frame); off += len(l.buf) {
		copy(l.buf, frame[off:])
		if err := io(); err != nil {
			return xrun, err
		}
	}
	return xrun, nil
}

// fail counts and logs (sparingly) a failed read or write.
func (d *Device) fail(what string, err error, text func(error) string, counter *atomic.Uint64) {
	e := errors.New(what + ": " + text(err))
	d.lastErr.Store(&e)
	if n := counter.Add(1); logWorthy(n) {
		d.log.Warn("audio device error", "op", what, "err", e, "count", n)
	}
}

// xrun counts and logs (sparingly) an overflow or underflow.
func (d *Device) xrun(what string, counter *atomic.Uint64) {
	if n := counter.Add(1); logWorthy(n) {
		d.log.Warn("audio "+what+" (raise the audio latency, media.audio_latency, if this repeats)", "count", n)
	}
}

// logWorthy limits repeated reports to the 1st, 10th, 100th, … occurrence.
func logWorthy(n uint64) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}
