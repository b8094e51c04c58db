package media

import (
	"log/slog"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// EngineOption configures an [Engine].
type EngineOption func(*Engine)

// WithLogger sets the logger (default: discard). The engine never logs per
// packet.
func WithLogger(l *slog.Logger) EngineOption {
	return func(e *Engine) {
		if l != nil {
			e.log = l
		}
	}
}

// WithNow sets the wall clock used for arrival times, NTP timestamps and
// statistics (tests). The 20 ms pacing itself always uses the monotonic
// clock.
func WithNow(now func() time.Time) EngineOption {
	return func(e *Engine) {
		if now != nil {
			e.now = now
		}
	}
}

// WithStatsInterval sets how often OnStats is called per stream (default
// 500 ms).
func WithStatsInterval(d time.Duration) EngineOption {
	return func(e *Engine) {
		if d > 0 {
			e.statsInterval = d
		}
	}
}

// WithRTCPInterval sets the base RTCP report interval (default 5 s,
// randomised ×[0.5, 1.5] per RFC 3550 §6.3.1). Tests use a short one.
func WithRTCPInterval(d time.Duration) EngineOption {
	return func(e *Engine) {
		if d > 0 {
			e.rtcpInterval = d
		}
	}
}

// WithWorkers sets how many goroutines share a tick when many streams are
// active (default GOMAXPROCS). Each handles a contiguous part of the
// streams; with few streams the clock goroutine does all the work.
func WithWorkers(n int) EngineOption {
	return func(e *Engine) {
		if n > 0 {
			e.workers = n
		}
	}
}

// WithCodec registers (or replaces) a stateless narrowband codec (8 kHz
// audio and RTP clock, 160-byte packets at most) by its SDP encoding name,
// e.g. "PCMU". G.711 µ-law and A-law, G.722 and (in builds with cgo) Opus
// are registered by default.
func WithCodec(name string, c Codec) EngineOption {
	return WithCodecInfo(CodecInfo{Name: name, AudioRate: audio.SampleRate, ClockRate: audio.SampleRate, MaxPayload: 160, New: stateless(c)})
}

// WithCodecInfo registers (or replaces) a codec by info.Name.
func WithCodecInfo(info CodecInfo) EngineOption {
	return func(e *Engine) {
		if info.New != nil && info.AudioRate > 0 && info.AudioRate <= audio.MaxRate && info.ClockRate > 0 {
			e.codecs[info.Name] = info
		}
	}
}

// withRTPReaders makes each started stream read its RTP socket on a
// goroutine, as on systems where the clock cannot drain it (recv.go): for
// the tests of that path on Linux.
func withRTPReaders() EngineOption {
	return func(e *Engine) { e.rtpReaders = true }
}

// WithPlayout sets the factory for each stream's jitter buffer.
func WithPlayout(f func() PlayoutBuffer) EngineOption {
	return func(e *Engine) {
		e.newPlayout = nil
		if f != nil {
			e.newPlayout = func(CodecInfo) PlayoutBuffer { return f() }
		}
	}
}

// WithConcealer sets the factory for each stream's loss concealer (nil
// factory or nil result: lost frames play as silence).
func WithConcealer(f func() Concealer) EngineOption {
	return func(e *Engine) { e.newConcealer = f }
}
