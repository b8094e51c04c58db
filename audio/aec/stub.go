//go:build !cgo || nospeexdsp

package aec

import "time"

// Available reports whether this build has echo cancellation (cgo,
// libspeexdsp, no nospeexdsp tag).
const Available = false

// Canceller is the echo canceller; this build has none (see ErrUnavailable).
type Canceller struct{}

// New returns ErrUnavailable: this build has no echo cancellation.
func New(rate, frameSamples int, tail time.Duration) (*Canceller, error) {
	return nil, ErrUnavailable
}

// newCanceller is New.
func newCanceller(rate, frameSamples int, tail time.Duration, preprocess bool) (*Canceller, error) {
	return nil, ErrUnavailable
}

// Process copies mic to out.
func (*Canceller) Process(out, mic, farEnd []int16) { copy(out, mic) }

// Close does nothing.
func (*Canceller) Close() {}

// SuppressNoise does nothing.
func (*Canceller) SuppressNoise(bool) {}

// EchoDelay returns 0, 0.
func (*Canceller) EchoDelay() (time.Duration, float64) { return 0, 0 }
