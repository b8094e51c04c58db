package media

import (
	"log/slog"
	"time"
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

// WithCodec registers (or replaces) a codec by its SDP encoding name, e.g.
// "PCMU". G.711 µ-law and A-law are registered by default when available.
func WithCodec(name string, c Codec) EngineOption {
	return func(e *Engine) { e.codecs[name] = c }
}

// withRTPReaders makes each started stream read its RTP socket on a
// goroutine, as on systems where the clock cannot drain it (recv.go): for
// the tests of that path on Linux.
func withRTPReaders() EngineOption {
	return func(e *Engine) { e.rtpReaders = true }
}

// WithPlayout sets the factory for each stream's jitter buffer.
func WithPlayout(f func() PlayoutBuffer) EngineOption {
	return func(e *Engine) { e.newPlayout = f }
}

// WithConcealer sets the factory for each stream's loss concealer (nil
// factory or nil result: lost frames play as silence).
func WithConcealer(f func() Concealer) EngineOption {
	return func(e *Engine) { e.newConcealer = f }
}
