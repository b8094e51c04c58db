package portaudio

import (
	"fmt"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/resample"
)

// framesPer20ms is the device buffer size: 20 ms at rate, rounded.
func framesPer20ms(rate int) int { return max(1, (rate+25)/50) }

// period is the host buffer's period: 10 ms at rate. PortAudio's ALSA
// backend keeps at least two periods, so 20 ms periods would mean 40 ms
// queued.
func period(rate int) int { return max(framesPer20ms(rate)/2, 1) }

// captureConv turns device buffers (interleaved int16 at the stream rate)
// into mono 20 ms frames at the frame rate. It never allocates after
// construction.
type captureConv struct {
	channels int
	frame    int // samples per output frame
	res      *resample.Resampler
	mono     []int16 // one device buffer, downmixed
	acc      []int16 // 8 kHz samples not yet put out as a frame
	n        int     // samples in acc
	out      audio.Sink
}

func newCaptureConv(rate, frameRate, channels, bufFrames int, out audio.Sink) (*captureConv, error) {
	res, err := resample.New(rate, frameRate)
	if err != nil {
		return nil, fmt.Errorf("cannot resample %d Hz audio to %d Hz: %w", rate, frameRate, err)
	}
	frame := audio.FrameSamplesAt(frameRate)
	return &captureConv{
		channels: max(channels, 1),
		frame:    frame,
		res:      res,
		mono:     make([]int16, bufFrames),
		acc:      make([]int16, frame+bufFrames*frameRate/rate+8),
		out:      out,
	}, nil
}

// push converts one device buffer and queues every complete frame. It
// returns how many frames it queued.
func (c *captureConv) push(buf []int16) int {
	mono := c.mono[:len(buf)/c.channels]
	downmix(mono, buf, c.channels)
	if c.n+c.res.MaxOut(len(mono)) > len(c.acc) { // cannot happen with the sizes above
		c.n = 0
	}
	k, err := c.res.Process(c.acc[c.n:], mono)
	if err != nil {
		return 0
	}
	c.n += k
	frames := 0
	for c.n >= c.frame {
		c.out.WriteFrame(c.acc[:c.frame])
		c.n = copy(c.acc, c.acc[c.frame:c.n])
		frames++
	}
	return frames
}

// playbackConv pulls frames at the frame rate from a source and fills device buffers
// (interleaved int16 at the stream rate). It never allocates after
// construction.
type playbackConv struct {
	channels int
	src      audio.Source
	res      *resample.Resampler
	frame    []int16 // one frame at the frame rate
	pend     []int16 // stream-rate mono samples not yet written
	n        int     // samples in pend
}

func newPlaybackConv(rate, frameRate, channels, bufFrames int, src audio.Source) (*playbackConv, error) {
	res, err := resample.New(frameRate, rate)
	if err != nil {
		return nil, fmt.Errorf("cannot resample %d Hz audio to %d Hz: %w", frameRate, rate, err)
	}
	frame := audio.FrameSamplesAt(frameRate)
	return &playbackConv{
		channels: max(channels, 1),
		src:      src,
		res:      res,
		frame:    make([]int16, frame),
		pend:     make([]int16, bufFrames+frame*rate/frameRate+8),
	}, nil
}

// fill writes one device buffer, pulling as many frames as that
// takes; it returns how many it pulled.
func (p *playbackConv) fill(buf []int16) int {
	frames := len(buf) / p.channels
	pulled := 0
	for p.n < frames {
		if err := p.src.ReadFrame(p.frame); err != nil {
			clear(p.frame)
		}
		pulled++
		if p.n+p.res.MaxOut(len(p.frame)) > len(p.pend) { // cannot happen with the sizes above
			break
		}
		k, err := p.res.Process(p.pend[p.n:], p.frame)
		if err != nil {
			break
		}
		p.n += k
	}
	m := min(frames, p.n)
	upmix(buf, p.pend[:m], p.channels)
	clear(buf[m*p.channels:])
	p.n = copy(p.pend, p.pend[m:p.n])
	return pulled
}

// downmix averages the interleaved channels of src into dst.
func downmix(dst, src []int16, channels int) {
	if channels == 1 {
		copy(dst, src)
		return
	}
	for i := range dst {
		var sum int32
		for _, s := range src[i*channels : (i+1)*channels] {
			sum += int32(s)
		}
		dst[i] = int16(sum / int32(channels))
	}
}

// upmix copies mono src into every channel of the interleaved dst.
func upmix(dst, src []int16, channels int) {
	if channels == 1 {
		copy(dst, src)
		return
	}
	for i, s := range src {
		for c := range channels {
			dst[i*channels+c] = s
		}
	}
}

const (
	// autoPaceAhead is how far an unpaced loop may run ahead of the wall
	// clock before it decides the device has no clock and paces itself.
	// Real devices buffer far less than this.
	autoPaceAhead = 2 * time.Second
	// maxPaceBehind is how far a paced loop may fall behind (a device or
	// scheduling stall) before it stops trying to catch up.
	maxPaceBehind = 200 * time.Millisecond
)

// pacer keeps a blocking loop at real time: buffer n is not started before
// start + n buffer durations. Unpaced, it watches for a device that runs
// far ahead of the wall clock and then turns pacing on.
type pacer struct {
	on        bool
	bufFrames int64
	rate      int64
	start     time.Time
	n         int64 // buffers done
	timer     *time.Timer
}

func newPacer(on bool, bufFrames, rate int) *pacer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &pacer{on: on, bufFrames: int64(bufFrames), rate: int64(rate), start: time.Now(), timer: t}
}

// audioTime returns the duration of n buffers.
func (p *pacer) audioTime(n int64) time.Duration {
	return time.Duration(n * p.bufFrames * int64(time.Second) / p.rate)
}

// wait blocks until the next buffer is due (when pacing). It returns
// false as soon as done is closed.
func (p *pacer) wait(done <-chan struct{}) bool {
	if p.on {
		d := time.Until(p.start.Add(p.audioTime(p.n)))
		switch {
		case d > 0:
			p.timer.Reset(d)
			select {
			case <-done:
				p.timer.Stop()
				return false
			case <-p.timer.C:
			}
		case d < -maxPaceBehind:
			p.start = time.Now().Add(-p.audioTime(p.n)) // don't rush to catch up
		}
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// advance counts one finished buffer. It reports true when it has just
// turned pacing on because the device ran too far ahead of real time.
func (p *pacer) advance() bool {
	p.n++
	if p.on {
		return false
	}
	if p.audioTime(p.n)-time.Since(p.start) > autoPaceAhead {
		p.on = true
		p.start = time.Now().Add(-p.audioTime(p.n))
		return true
	}
	return false
}

// sleep waits for d or until done is closed (false).
func (p *pacer) sleep(d time.Duration, done <-chan struct{}) bool {
	p.timer.Reset(d)
	select {
	case <-done:
		p.timer.Stop()
		return false
	case <-p.timer.C:
		return true
	}
}
