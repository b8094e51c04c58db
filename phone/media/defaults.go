package media

import (
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/jitter"
)

// playoutMinDelay is the jitter buffer's delay on a clean network: half a
// frame, so that a frame plays at the first tick after it arrives (0 to
// 20 ms later, 10 ms on average) rather than at the tick nearest to 20 ms
// after it (10 to 30 ms). Jitter raises the delay from there.
const playoutMinDelay = audio.FrameDuration / 2

// defaultPlayout is the adaptive jitter buffer of audio/jitter, on the
// codec's RTP clock and holding its largest packets.
func defaultPlayout(c CodecInfo) PlayoutBuffer {
	return jitterPlayout{jitter.New(jitter.WithMinDelay(playoutMinDelay),
		jitter.WithClockRate(c.ClockRate), jitter.WithPayloadSize(max(c.MaxPayload, jitter.DefaultPayloadSize)))}
}

// defaultConcealer is the G.711 Appendix I concealer of audio/jitter. On
// G.722's 16 kHz frames it runs as written for 8 kHz: its pitch search
// then spans 133-400 Hz instead of 67-200 Hz and its fade lasts 30 ms
// instead of 60 (a deliberate simplification: G.722 has no concealment of
// its own, and this one still repeats the last pitch period smoothly).
// Opus conceals in its decoder (LossConcealer).
var defaultConcealer = func() Concealer { return new(jitter.Concealer) }

// jitterPlayout adapts *jitter.Buffer to PlayoutBuffer.
type jitterPlayout struct{ b *jitter.Buffer }

func (p jitterPlayout) Push(seq uint16, ts uint32, ssrc uint32, marker bool, payload []byte, arrival time.Time) {
	p.b.Push(seq, ts, ssrc, marker, payload, arrival)
}

func (p jitterPlayout) Pop(now time.Time, dst []byte) (int, PlayoutStatus) {
	n, st := p.b.Pop(now, dst)
	switch st {
	case jitter.Frame:
		return n, PlayoutFrame
	case jitter.Lost:
		return 0, PlayoutLost
	case jitter.Buffering:
		return 0, PlayoutBuffering
	default:
		return 0, PlayoutEmpty
	}
}

func (p jitterPlayout) Delay() time.Duration { return p.b.Stats().CurrentDelay }

// LostNext implements lostNexter.
func (p jitterPlayout) LostNext(dst []byte) int { return p.b.LostNext(dst) }

// lostNexter is a PlayoutBuffer that can give, after a Pop that reported
// PlayoutLost, the payload of the packet following the lost frame if it is
// already buffered (for Opus FEC).
type lostNexter interface {
	LostNext(dst []byte) int
}
