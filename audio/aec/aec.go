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
	rate  int
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
	c := &Canceller{frame: frameSamples, rate: rate, buf: make([]int16, frameSamples)}
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

// noiseSuppressDB is the most the preprocessor takes off stationary noise
// with the noise suppressor on (speex's default).
const noiseSuppressDB = -15

// SuppressNoise turns the noise suppressor on (the default) or off. Off,
// the preprocessor still removes the echo the linear filter leaves, but
// takes nothing off stationary sound: noise, a hum, a steady tone (which
// the suppressor would learn as noise within about 2 s). Call it before
// Process, not concurrently with it.
func (c *Canceller) SuppressNoise(on bool) {
	if c.pre == nil {
		return
	}
	db := C.spx_int32_t(noiseSuppressDB)
	if !on {
		db = 0 // a noise floor of 0 dB: the suppressor's gain stays at 1
	}
	C.speex_preprocess_ctl(c.pre, C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, unsafe.Pointer(&db))
}

// EchoDelay returns where the adaptive filter has put the echo path: the
// delay of its largest tap from the far-end reference to the microphone,
// and that tap's share of the filter's energy (0..1; near 0 before the
// filter has converged, or when the echo is diffuse). It allocates (the
// filter's taps): use it for diagnostics, not per frame.
func (c *Canceller) EchoDelay() (time.Duration, float64) {
	if c.echo == nil {
		return 0, 0
	}
	var n C.spx_int32_t
	C.speex_echo_ctl(c.echo, C.SPEEX_ECHO_GET_IMPULSE_RESPONSE_SIZE, unsafe.Pointer(&n))
	if n <= 0 {
		return 0, 0
	}
	h := make([]C.spx_int32_t, n)
	C.speex_echo_ctl(c.echo, C.SPEEX_ECHO_GET_IMPULSE_RESPONSE, unsafe.Pointer(&h[0]))
	best, at := 0.0, 0
	var sum float64
	for i, v := range h {
		e := float64(v) * float64(v)
		sum += e
		if e > best {
			best, at = e, i
		}
	}
	if sum == 0 {
		return 0, 0
	}
	return time.Duration(at) * time.Second / time.Duration(c.rate), best / sum
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
