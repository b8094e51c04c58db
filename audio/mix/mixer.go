package mix

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/teaphone/teaphone/audio"
)

// Mixer sums the frames of any number of input sources into one output.
// It is itself an audio.Source: each ReadFrame pulls one frame from every
// input, sums them in 32 bits and saturates once. It never ends; with no
// inputs it produces silence.
//
// For a conference each participant must hear everyone but themselves:
// after ReadFrame, Input.MixMinus gives that mix for one input.
//
// Methods are safe for concurrent use. ReadFrame holds the Mixer's lock
// while it calls the inputs' ReadFrame, which by the audio.Source contract
// does not block.
type Mixer struct {
	mu     sync.Mutex
	size   int // largest frame, in samples
	inputs []*Input
	acc    []int32
	n      int    // samples in acc from the last ReadFrame
	round  uint64 // ReadFrame calls so far
	nudges chan struct{}
}

// Input is one source attached to a Mixer.
type Input struct {
	m     *Mixer
	src   audio.Source
	buf   []int16 // this input's last frame (after gain)
	round uint64  // the Mixer round buf belongs to
	gain  int32   // Q16
	muted bool
	done  bool // returned io.EOF, or removed
	err   error
}

// NewMixer returns a Mixer for frames of up to frameSamples samples
// (audio.FrameSamples for the 8 kHz media path).
func NewMixer(frameSamples int) *Mixer {
	frameSamples = max(frameSamples, 1)
	return &Mixer{size: frameSamples, acc: make([]int32, frameSamples), nudges: make(chan struct{}, 1)}
}

// Nudge tells the Mixer's reader that an input has a fresh frame queued
// (see Nudges). It never blocks, and nudges not yet received merge into
// one.
func (m *Mixer) Nudge() {
	select {
	case m.nudges <- struct{}{}:
	default:
	}
}

// Nudges receives after Nudge: a reader on a clock of its own (a sound
// card's playback) may read at once rather than on its next period, so a
// frame written just after a read does not wait a whole period.
func (m *Mixer) Nudges() <-chan struct{} { return m.nudges }

// Add attaches src with unity gain and returns its handle. An input whose
// source returns io.EOF is detached automatically (Done reports true); any
// other error makes that input silent for that frame and is kept for Err.
func (m *Mixer) Add(src audio.Source) *Input {
	in := &Input{m: m, src: src, buf: make([]int16, m.size), gain: unity}
	m.mu.Lock()
	m.inputs = append(m.inputs, in)
	m.mu.Unlock()
	return in
}

// Len returns the number of attached inputs.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.inputs)
}

// errFrameSize is returned for a dst longer than the Mixer's frame size.
var errFrameSize = errors.New("mix: frame larger than the mixer's frame size")

// ReadFrame implements audio.Source: it fills dst with the saturated sum of
// one frame from each input. len(dst) must not exceed the frame size given
// to NewMixer.
func (m *Mixer) ReadFrame(dst []int16) error {
	if len(dst) > m.size {
		clear(dst)
		return fmt.Errorf("%w: %d > %d", errFrameSize, len(dst), m.size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(dst)
	acc := m.acc[:n]
	clear(acc)
	m.n = n
	m.round++
	for i := 0; i < len(m.inputs); {
		in := m.inputs[i]
		in.round = m.round
		buf := in.buf[:n]
		err := in.src.ReadFrame(buf)
		switch {
		case errors.Is(err, io.EOF):
			clear(buf)
			in.done = true
			m.removeLocked(i)
			continue // the last input moved into slot i
		case err != nil:
			clear(buf)
			in.err = err
		case in.muted || in.gain == 0:
			clear(buf)
		case in.gain != unity:
			for j, s := range buf {
				buf[j] = sat(mulQ(int32(s), in.gain))
			}
		}
		for j, s := range buf {
			acc[j] += int32(s)
		}
		i++
	}
	for j, v := range acc {
		dst[j] = sat(v)
	}
	return nil
}

// removeLocked detaches inputs[i] without preserving order.
func (m *Mixer) removeLocked(i int) {
	last := len(m.inputs) - 1
	m.inputs[i] = m.inputs[last]
	m.inputs[last] = nil
	m.inputs = m.inputs[:last]
}

// Remove detaches the input; it is a no-op if already detached.
func (in *Input) Remove() {
	m := in.m
	m.mu.Lock()
	defer m.mu.Unlock()
	in.done = true
	for i, x := range m.inputs {
		if x == in {
			m.removeLocked(i)
			return
		}
	}
}

// SetGain sets the input's linear gain (1 = unchanged, 0.5 ≈ -6 dB).
func (in *Input) SetGain(g float64) {
	q := gainQ(g)
	in.m.mu.Lock()
	in.gain = q
	in.m.mu.Unlock()
}

// SetMuted mutes or unmutes the input; a muted source is still read, so
// it keeps its place in time.
func (in *Input) SetMuted(muted bool) {
	in.m.mu.Lock()
	in.muted = muted
	in.m.mu.Unlock()
}

// Done reports whether the input was detached (its source ended or Remove
// was called).
func (in *Input) Done() bool {
	in.m.mu.Lock()
	defer in.m.mu.Unlock()
	return in.done
}

// Err returns the last non-EOF error the input's source returned, if any.
func (in *Input) Err() error {
	in.m.mu.Lock()
	defer in.m.mu.Unlock()
	return in.err
}

// MixMinus writes into dst the last ReadFrame's mix without this input's
// own contribution: what a conference participant should hear. It writes
// min(len(dst), last frame length) samples and zeroes the rest of dst.
func (in *Input) MixMinus(dst []int16) {
	m := in.m
	m.mu.Lock()
	defer m.mu.Unlock()
	n := min(len(dst), m.n)
	own := in.buf[:n]
	if in.round != m.round { // not part of the last mix
		own = own[:0]
	}
	for j, v := range m.acc[:n] {
		if j < len(own) {
			v -= int32(own[j])
		}
		dst[j] = sat(v)
	}
	clear(dst[n:])
}
