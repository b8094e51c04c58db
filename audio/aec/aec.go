//go:build cgo && !nospeexdsp

package aec

/*
#cgo pkg-config: speexdsp
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"
)

// Available reports whether this build has echo cancellation (cgo,
// libspeexdsp, no nospeexdsp tag).
const Available = true

// Canceller removes the echo of the far end from the microphone signal and
// suppresses noise, one frame at a time. It is not safe for concurrent use.
type Canceller struct {
	echo  *C.SpeexEchoState
	pre   *C.SpeexPreprocessState // nil: linear echo filter only (tests)
	frame int
	buf   []int16 // the frame between the echo filter and the preprocessor
}

// New returns a canceller for rate Hz (8000 to 48000) and frames of
// frameSamples samples (20 ms: rate/50), whose adaptive filter covers echo
// paths up to tail long (100-200 ms for a room; the delay between playing a
// frame and capturing its echo counts too). Close it when done: its state
// lives in C memory.
func New(rate, frameSamples int, tail time.Duration) (*Canceller, error) {
	return newCanceller(rate, frameSamples, tail, true)
}

// newCanceller is New; without preprocess the output is that of the linear
// adaptive filter alone (no residual echo or noise suppression).
func newCanceller(rate, frameSamples int, tail time.Duration, preprocess bool) (*Canceller, error) {
	taps := int(tail * time.Duration(rate) / time.Second)
	switch {
	case rate < 8000 || rate > 48000:
		return nil, fmt.Errorf("echo canceller: rate %d Hz, want 8000 to 48000", rate)
	case frameSamples < rate/200 || frameSamples > rate/25:
		return nil, fmt.Errorf("echo canceller: %d-sample frames at %d Hz, want 5 to 40 ms", frameSamples, rate)
	case taps < frameSamples || tail > time.Second:
		return nil, fmt.Errorf("echo canceller: tail %v, want from one frame to 1s", tail)
	}
	c := &Canceller{frame: frameSamples, buf: make([]int16, frameSamples)}
	c.echo = C.speex_echo_state_init(C.int(frameSamples), C.int(taps))
	if c.echo == nil {
		return nil, fmt.Errorf("echo canceller: speex_echo_state_init(%d, %d) failed", frameSamples, taps)
	}
	r := C.int(rate)
	C.speex_echo_ctl(c.echo, C.SPEEX_ECHO_SET_SAMPLING_RATE, unsafe.Pointer(&r))
	if !preprocess {
		return c, nil
	}
	c.pre = C.speex_preprocess_state_init(C.int(frameSamples), r)
	if c.pre == nil {
		c.Close()
		return nil, fmt.Errorf("echo canceller: speex_preprocess_state_init(%d, %d) failed", frameSamples, rate)
	}
	// The preprocessor takes the echo state to estimate and suppress the
	// echo the linear filter leaves, then removes stationary noise.
	C.speex_preprocess_ctl(c.pre, C.SPEEX_PREPROCESS_SET_ECHO_STATE, unsafe.Pointer(c.echo))
	on := C.int(1)
	C.speex_preprocess_ctl(c.pre, C.SPEEX_PREPROCESS_SET_DENOISE, unsafe.Pointer(&on))
	return c, nil
}

// Process writes to out the microphone frame mic without the echo of
// farEnd, and with less noise. farEnd must be exactly the frame that was
// sent to the loudspeaker in the same period (mic's echo of it arrives
// within the tail). All three are one frame long; out may be mic. After
// Close, Process copies mic to out.
func (c *Canceller) Process(out, mic, farEnd []int16) {
	if len(out) != c.frame || len(mic) != c.frame || len(farEnd) != c.frame {
		panic(fmt.Sprintf("aec: Process with %d, %d, %d samples, want %d each", len(out), len(mic), len(farEnd), c.frame))
	}
	if c.echo == nil {
		copy(out, mic)
		return
	}
	C.speex_echo_cancellation(c.echo, (*C.spx_int16_t)(unsafe.Pointer(&mic[0])),
		(*C.spx_int16_t)(unsafe.Pointer(&farEnd[0])), (*C.spx_int16_t)(unsafe.Pointer(&c.buf[0])))
	if c.pre != nil {
		C.speex_preprocess_run(c.pre, (*C.spx_int16_t)(unsafe.Pointer(&c.buf[0])))
	}
	copy(out, c.buf)
}

// Close frees the canceller's C state. It may be called more than once.
func (c *Canceller) Close() {
	if c.pre != nil {
		C.speex_preprocess_state_destroy(c.pre)
		c.pre = nil
	}
	if c.echo != nil {
		C.speex_echo_state_destroy(c.echo)
		c.echo = nil
	}
}
