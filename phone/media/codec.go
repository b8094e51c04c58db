package media

import (
	"time"
)

// Codec converts between 16-bit linear PCM and one payload format. Encode
// returns the number of bytes written to dst, Decode the number of samples
// written to dst. Both must not allocate.
type Codec interface {
	Encode(dst []byte, src []int16) int
	Decode(dst []int16, src []byte) int
}

// CodecFuncs adapts a pair of stateless codec functions (such as
// g711.EncodeUlaw and g711.DecodeUlaw) to [Codec].
type CodecFuncs struct {
	EncodeFunc func(dst []byte, src []int16) int // PCM to payload
	DecodeFunc func(dst []int16, src []byte) int // payload to PCM
}

// Encode implements [Codec].
func (c CodecFuncs) Encode(dst []byte, src []int16) int { return c.EncodeFunc(dst, src) }

// Decode implements [Codec].
func (c CodecFuncs) Decode(dst []int16, src []byte) int { return c.DecodeFunc(dst, src) }

// PlayoutStatus is the outcome of [PlayoutBuffer.Pop].
type PlayoutStatus int

// Playout outcomes.
const (
	// PlayoutEmpty: nothing to play (underrun, or no packets yet).
	PlayoutEmpty PlayoutStatus = iota
	// PlayoutFrame: dst holds the payload of the next frame.
	PlayoutFrame
	// PlayoutLost: the next frame is missing; conceal it.
	PlayoutLost
	// PlayoutBuffering: the buffer is filling up to its target delay.
	PlayoutBuffering
)

// String returns the status name.
func (s PlayoutStatus) String() string {
	switch s {
	case PlayoutFrame:
		return "frame"
	case PlayoutLost:
		return "lost"
	case PlayoutBuffering:
		return "buffering"
	default:
		return "empty"
	}
}

// PlayoutBuffer is the jitter buffer a stream feeds from its receive
// goroutine and drains on every clock tick. Calls are serialised by the
// stream; Push must copy payload.
type PlayoutBuffer interface {
	Push(seq uint16, ts uint32, ssrc uint32, marker bool, payload []byte, arrival time.Time)
	Pop(now time.Time, dst []byte) (n int, st PlayoutStatus)
	// Delay is the current playout delay (for statistics).
	Delay() time.Duration
}

// Concealer fills lost frames (packet-loss concealment). Good is called with
// every decoded frame, Conceal fills dst for a lost one.
type Concealer interface {
	Good(frame []int16)
	Conceal(dst []int16)
}
