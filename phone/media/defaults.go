package media

import (
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/g711"
	"github.com/teaphone/teaphone/audio/jitter"
)

// defaultCodecs are the codecs every engine knows: G.711 µ-law and A-law
// (RFC 3551 §4.5.14), static payload types 0 and 8.
func defaultCodecs() map[string]Codec {
	return map[string]Codec{
		"PCMU": CodecFuncs{EncodeFunc: g711.EncodeUlaw, DecodeFunc: g711.DecodeUlaw},
		"PCMA": CodecFuncs{EncodeFunc: g711.EncodeAlaw, DecodeFunc: g711.DecodeAlaw},
	}
}

// playoutMinDelay is the jitter buffer's delay on a clean network: half a
// frame, so that a frame plays at the first tick after it arrives (0 to
// 20 ms later, 10 ms on average) rather than at the tick nearest to 20 ms
// after it (10 to 30 ms). Jitter raises the delay from there.
const playoutMinDelay = audio.FrameDuration / 2

// defaultPlayout is the adaptive jitter buffer of audio/jitter.
var defaultPlayout = func() PlayoutBuffer { return jitterPlayout{jitter.New(jitter.WithMinDelay(playoutMinDelay))} }

// defaultConcealer is the G.711 Appendix I concealer of audio/jitter.
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
