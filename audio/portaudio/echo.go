package portaudio

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/aec"
	"github.com/teaphone/teaphone/audio/resample"
)

const (
	// DefaultEchoTail is the echo canceller's tail when Config.EchoTail is
	// 0: how long an echo it follows beyond the delay the alignment takes
	// out (room reverberation, latency the device does not report, and
	// echoLead).
	DefaultEchoTail = 200 * time.Millisecond
	// echoLead is how much earlier than the estimate the far-end reference
	// is taken: the canceller follows an echo that comes later than its
	// reference (within the tail), never one that comes earlier, so an
	// estimate that errs must err this way. It covers the jitter the
	// alignment does not filter out (the ALSA pulse plugin reports the
	// free space of its buffer a period late).
	echoLead = 10 * time.Millisecond
	// echoRing is how much far-end reference the echo stage keeps: more
	// than the longest delay between playing a frame and capturing its
	// echo (media.audio_latency is at most 500 ms, on each side).
	echoRing = 2 * time.Second
	// alignWindow is how many timing reports each side of the alignment
	// takes the earliest of.
	alignWindow = 64
	// echoReportEvery is how many frames pass between the timing reports
	// each loop gives the alignment (64 reports then span 5 s).
	echoReportEvery = 4
	// slackBlock and slackBlocks: the slack's floor is the smallest of
	// the last slackBlocks blocks of slackBlock frames (32 s).
	slackBlock, slackBlocks = 100, 16
)

// aligner works out which far-end reference sample a microphone sample's
// echo comes from, in samples at the echo stage's rate on a common time
// line (wall clock × rate):
//
//   - reference sample i (counted since the device opened, in the order
//     the playback loop wrote them) reaches the speaker at P + i, where P
//     follows from each write: the time of the write plus how long the
//     device still has queued ahead of its last sample;
//   - microphone sample j (counted the same way) was captured at C + j,
//     where C follows from each read: the time of the read minus how
//     long the device has held captured audio not yet read.
//
// So microphone sample j holds the echo of reference sample j + C − P and
// of those a little before it (the room's reverberation, latency the
// devices do not report): the stage gives the canceller reference from
// lead samples later still, so that the whole echo lies within the tail.
//
// Each report is late by however long the goroutine waited to run, and a
// device may report its buffer a period late: errors that make P and C
// later than they are. So each of P and C is the earliest of its last
// alignWindow reports. Device clocks cannot run backwards, so a true
// change only ever moves them later (an underflow plays a gap, an overflow
// loses captured audio); the window follows it within alignWindow reports,
// with the reference early meanwhile, which the canceller tolerates.
//
// Except when the device says it lost audio: an overflow (captured audio
// lost) makes later microphone samples later than C + j, by as much as
// was lost, which the window would follow only after alignWindow reports,
// with the reference late meanwhile: so an overflow empties the capture
// side's window (and the slack's, see below), and an underflow the
// playback side's.
//
// The reference cannot lead further than what has been written: when the
// stage takes a frame, the playback loop has written only so far ahead of
// it (slack). A mic sample can only hold the echo of a reference sample
// written before it was captured, so the true offset never exceeds any
// frame's slack: the applied offset is kept within the slack's floor, the
// smallest of the last 32 s (at once when a smaller one comes). Otherwise
// every frame whose reference is not written yet would take it from a
// different place (wherever the playback loop was), which the canceller
// cannot follow; and a limit that followed the slack up again would
// swing the offset as the two loops' phases drift.
//
// The applied offset changes with hysteresis: up when the reference would
// lead the estimate by less than a quarter of the lead (hystLate; the
// canceller cannot cancel an echo that precedes its reference), as far as
// the lead and the slack allow; down past hystEarly (an early reference
// only uses some of the tail), or at once when the slack is short. Each
// change makes the canceller adapt again, so jitter must not move it.
//
// aligner is pure (times are given, not read) and not safe for concurrent
// use.
type aligner struct {
	rate                float64 // samples per second
	lead                int64   // samples
	hystLate, hystEarly int64   // samples
	play, capt          minWindow
	slack               floorWindow // reference written beyond each frame's end, when it was taken
	offset              int64       // applied: microphone sample j ↔ reference sample j + offset
	ready               bool        // offset is set
}

func newAligner(rate int, lead time.Duration) aligner {
	s := func(d time.Duration) int64 { return int64(math.Round(d.Seconds() * float64(rate))) }
	return aligner{rate: float64(rate), lead: s(lead), hystLate: s(lead / 4), hystEarly: s(20 * time.Millisecond)}
}

// played records a playback write at now: written reference samples so
// far, the last of which reaches the speaker after ahead; xrun when the
// device reported an underflow (it played a gap).
func (a *aligner) played(now time.Duration, written int64, ahead time.Duration, xrun bool) {
	if xrun {
		a.play.n = 0
	}
	a.play.add((now+ahead).Seconds()*a.rate - float64(written-1))
	a.update()
}

// captured records a capture read at now: converted microphone samples so
// far, the last of which was captured age ago; xrun when the device
// reported an overflow (it lost captured audio).
func (a *aligner) captured(now time.Duration, converted int64, age time.Duration, xrun bool) {
	if xrun {
		a.capt.n = 0
		a.slack.reset()
	}
	a.capt.add((now-age).Seconds()*a.rate - float64(converted-1))
	a.update()
}

// took records that the stage took a frame whose reference would end
// slack samples before the last one written (with an offset of 0).
func (a *aligner) took(slack int64) {
	a.slack.add(slack)
	if a.ready && a.offset > a.slack.floor() {
		a.offset = a.slack.floor()
	}
}

func (a *aligner) update() {
	if a.play.n == 0 || a.capt.n == 0 {
		return
	}
	est := int64(math.Round(a.capt.min()-a.play.min())) + a.lead
	lim := a.slack.floor()
	switch {
	case !a.ready:
		a.offset, a.ready = min(est, lim), true
	case a.offset > lim, est < a.offset-a.hystEarly:
		a.offset = min(est, lim)
	case est-a.lead+a.hystLate > a.offset && min(est, lim) > a.offset:
		// Less than hystLate of the lead is left: take all there is.
		a.offset = min(est, lim)
	}
}

// refStart returns the reference sample to give the canceller with
// microphone sample j, and false while either side has not reported yet.
func (a *aligner) refStart(j int64) (int64, bool) { return j + a.offset, a.ready }

// delay returns the estimated delay from playing a reference sample to
// capturing it (the applied offset without the lead).
func (a *aligner) delay() time.Duration {
	if !a.ready {
		return 0
	}
	return time.Duration(float64(a.offset-a.lead) / a.rate * float64(time.Second))
}

// minWindow keeps the last alignWindow values, for their smallest.
type minWindow struct {
	v [alignWindow]float64
	n int // values added (the window holds min(n, alignWindow))
}

// floorWindow keeps the smallest value of each of the last slackBlocks
// blocks of slackBlock values, for the smallest of them all.
type floorWindow struct {
	block [slackBlocks]int64
	n     int // values added since the last reset
}

func (w *floorWindow) add(x int64) {
	b := w.n / slackBlock % slackBlocks
	if w.n%slackBlock == 0 {
		w.block[b] = x
	} else {
		w.block[b] = min(w.block[b], x)
	}
	w.n++
}

// floor returns the smallest value held, or math.MaxInt64 for none.
func (w *floorWindow) floor() int64 {
	m := int64(math.MaxInt64)
	for _, x := range w.block[:min((w.n+slackBlock-1)/slackBlock, slackBlocks)] {
		m = min(m, x)
	}
	return m
}

func (w *floorWindow) reset() { w.n = 0 }

func (w *minWindow) add(x float64) {
	w.v[w.n%alignWindow] = x
	w.n++
}

func (w *minWindow) min() float64 {
	m := math.Inf(1)
	for _, x := range w.v[:min(w.n, alignWindow)] {
		m = math.Min(m, x)
	}
	return m
}

// echoStage cancels the speaker's echo in the captured frames. It sits
// between the capture conversion (whose frames it takes as an audio.Sink)
// and the capture buffer, and the playback loop gives it every chunk it
// writes to the device (played), and says when a frame's writes are done
// (wrote): that, resampled to the stage's rate, is
// the far-end reference, exactly what the speaker played (the mixer's
// frames after any chunk dropped, with the silence padded). It works at
// whatever rate and frame length it is made for.
//
// played and wrote run on the playback goroutine, captured and WriteFrame on the
// capture goroutine; they share the reference ring and the aligner under
// mu, held for a copy. Nothing allocates after construction.
type echoStage struct {
	frame int
	sub   int // the canceller's frame: frame, or half of it (see subFrame)
	canc  *aec.Canceller
	next  audio.Sink           // the capture buffer
	clock func() time.Duration // monotonic

	// Playback goroutine.
	outRate, outCh int
	outAvail       func() (int, error) // frames the stream can take (nil: unknown)
	outSize        int                 // the most outAvail reported: the host buffer
	outLatency     time.Duration       // what the stream reports: used when outAvail fails
	outRes         *resample.Resampler
	mono, res      []int16
	wrotes         int // calls of wrote

	// Capture goroutine.
	inRate  int
	inAvail func() (int, error) // captured frames not read yet (nil: unknown)
	capIdx  int64               // microphone samples put out so far
	reads   int                 // calls of captured
	ref     []int16
	out     []int16

	mu      sync.Mutex
	ring    []int16 // reference sample i is ring[i % len(ring)]
	written int64   // reference samples so far
	al      aligner

	delay   atomic.Int64  // the aligner's delay, ns
	clamped atomic.Uint64 // frames whose aligned reference was not all written yet (the rest went in as silence)
}

// echoConfig is what newEchoStage needs to know of the device.
type echoConfig struct {
	rate, frame    int           // the stage's (the capture frames') rate and frame length
	tail           time.Duration // the canceller's
	noiseSuppress  bool
	outRate, outCh int
	outChunk       int // samples per channel in one playback write
	outLatency     time.Duration
	outAvail       func() (int, error)
	inRate         int
	inAvail        func() (int, error)
	next           audio.Sink
	clock          func() time.Duration
}

func newEchoStage(c echoConfig) (*echoStage, error) {
	sub := subFrame(c.rate, c.frame)
	canc, err := aec.New(c.rate, sub, c.tail)
	if err != nil {
		return nil, err
	}
	canc.SuppressNoise(c.noiseSuppress)
	res, err := resample.New(c.outRate, c.rate)
	if err != nil {
		canc.Close()
		return nil, fmt.Errorf("echo canceller: cannot resample %d Hz audio to %d Hz: %w", c.outRate, c.rate, err)
	}
	clock := c.clock
	if clock == nil {
		t0 := time.Now()
		clock = func() time.Duration { return time.Since(t0) }
	}
	chunk := max(c.outChunk, 1)
	return &echoStage{
		frame: c.frame, sub: sub, canc: canc, next: c.next, clock: clock,
		outRate: c.outRate, outCh: max(c.outCh, 1), outAvail: c.outAvail, outLatency: c.outLatency, outRes: res,
		mono: make([]int16, chunk), res: make([]int16, chunk*c.rate/c.outRate+8),
		inRate: c.inRate, inAvail: c.inAvail, ref: make([]int16, c.frame), out: make([]int16, c.frame),
		ring: make([]int16, int(echoRing.Seconds()*float64(c.rate))),
		al:   newAligner(c.rate, echoLead),
	}, nil
}

// played takes one chunk (interleaved, at the output rate) the playback
// loop has just written. nil-safe.
func (e *echoStage) played(buf []int16) {
	if e == nil {
		return
	}
	frames := min(len(buf)/e.outCh, len(e.mono))
	mono := e.mono[:frames]
	downmix(mono, buf[:frames*e.outCh], e.outCh)
	k := 0
	if e.outRes.MaxOut(frames) <= len(e.res) { // always, with the sizes of newEchoStage
		k, _ = e.outRes.Process(e.res, mono)
	}
	e.mu.Lock()
	for _, s := range e.res[:k] {
		e.ring[e.written%int64(len(e.ring))] = s
		e.written++
	}
	e.mu.Unlock()
}

// wrote reports that the playback loop has written a frame's chunks;
// xrun when a write reported an underflow. Every echoReportEvery-th call
// (and on an underflow) it asks the device how much it has queued, for
// the alignment: after the frame, not between its chunks, where the
// question (a round trip to the sound server for the ALSA pulse plugin)
// would hold up the frame. nil-safe.
func (e *echoStage) wrote(xrun bool) {
	if e == nil {
		return
	}
	e.wrotes++
	if !xrun && (e.wrotes-1)%echoReportEvery != 0 {
		return
	}
	now := e.clock()
	ahead := e.outLatency
	if e.outAvail != nil {
		if n, err := e.outAvail(); err == nil {
			e.outSize = max(e.outSize, n)
			ahead = samplesDuration(e.outSize-n, e.outRate)
		}
	}
	e.mu.Lock()
	e.al.played(now, e.written, ahead, xrun)
	e.mu.Unlock()
}

// captured reports that the capture loop has just read and converted a
// buffer, pending microphone samples of which are not yet put out as a
// frame; xrun when the read reported an overflow. Every
// echoReportEvery-th call (and on an overflow) it asks the device how
// much it holds captured, for the alignment. nil-safe.
func (e *echoStage) captured(pending int, xrun bool) {
	if e == nil {
		return
	}
	e.reads++
	if !xrun && (e.reads-1)%echoReportEvery != 0 {
		return
	}
	now := e.clock()
	var age time.Duration
	if e.inAvail != nil {
		if n, err := e.inAvail(); err == nil {
			age = samplesDuration(n, e.inRate)
		}
	}
	e.mu.Lock()
	e.al.captured(now, e.capIdx+int64(pending), age, xrun)
	e.delay.Store(int64(e.al.delay()))
	e.mu.Unlock()
}

// WriteFrame cancels the echo in one captured frame and passes it on.
func (e *echoStage) WriteFrame(frame []int16) error {
	if len(frame) != e.frame {
		return e.next.WriteFrame(frame)
	}
	e.mu.Lock()
	e.al.took(e.written - e.capIdx - int64(e.frame))
	start, ok := e.al.refStart(e.capIdx)
	if ok && start+int64(e.frame) > e.written {
		// The playback loop is late: the end of this frame's reference is
		// not written yet. It goes in as silence; taking the whole frame
		// from earlier instead would misalign all of it.
		e.clamped.Add(1)
	}
	oldest := e.written - int64(len(e.ring))
	for i := range e.ref {
		if k := start + int64(i); ok && k >= max(oldest, 0) && k < e.written {
			e.ref[i] = e.ring[k%int64(len(e.ring))]
		} else {
			e.ref[i] = 0
		}
	}
	e.mu.Unlock()
	e.capIdx += int64(e.frame)
	for off := 0; off < e.frame; off += e.sub {
		e.canc.Process(e.out[off:off+e.sub], frame[off:off+e.sub], e.ref[off:off+e.sub])
	}
	return e.next.WriteFrame(e.out)
}

// close frees the canceller; call it once both loops have stopped.
func (e *echoStage) close() {
	if e != nil {
		e.canc.Close()
	}
}

// subFrame returns the canceller's frame length for the stage's frames of
// frame samples at rate: half of it when that is a whole 10 ms or more.
// The canceller's post-filter (residual echo and noise suppression) delays
// its output by one of its frames (its overlap-add), so 10 ms frames cost
// the microphone path 10 ms where 20 ms frames would cost 20.
func subFrame(rate, frame int) int {
	if frame%2 == 0 && frame/2 >= rate/100 {
		return frame / 2
	}
	return frame
}

func samplesDuration(n, rate int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / int64(max(rate, 1)))
}
