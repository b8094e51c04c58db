package jitter

import "time"

// Defaults, for G.711 at 8 kHz with 20 ms packets.
const (
	DefaultFrameDuration = 20 * time.Millisecond
	DefaultClockRate     = 8000
	DefaultMinDelay      = 20 * time.Millisecond
	DefaultMaxDelay      = 200 * time.Millisecond
	DefaultCapacity      = 64
	DefaultPayloadSize   = 160
	DefaultConcealLimit  = 60 * time.Millisecond
	DefaultMaxJump       = 3 * time.Second
)

type config struct {
	frame        time.Duration
	rate         int
	minDelay     time.Duration
	maxDelay     time.Duration
	capacity     int
	payloadSize  int
	concealLimit time.Duration
	maxJump      time.Duration
}

func defaultConfig() config {
	return config{
		frame:        DefaultFrameDuration,
		rate:         DefaultClockRate,
		minDelay:     DefaultMinDelay,
		maxDelay:     DefaultMaxDelay,
		capacity:     DefaultCapacity,
		payloadSize:  DefaultPayloadSize,
		concealLimit: DefaultConcealLimit,
		maxJump:      DefaultMaxJump,
	}
}

// Option configures a Buffer. Out-of-range values are ignored.
type Option func(*config)

// WithFrameDuration sets the duration of one packet and of one Pop tick
// (the packet time, ptime). Every packet must carry exactly one frame.
func WithFrameDuration(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.frame = d
		}
	}
}

// WithClockRate sets the RTP clock rate in Hz (8000 for G.711).
func WithClockRate(hz int) Option {
	return func(c *config) {
		if hz > 0 && hz <= 1_000_000 {
			c.rate = hz
		}
	}
}

// WithMinDelay sets the lowest target delay: the added delay on a clean
// network. Playout of a stream or talkspurt starts this long after arrival
// (at the Pop tick nearest to that instant).
func WithMinDelay(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.minDelay = d
		}
	}
}

// WithMaxDelay sets the highest playout delay; packets later than this are
// dropped as too late. A value below the minimum delay is raised to it.
func WithMaxDelay(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxDelay = d
		}
	}
}

// WithCapacity sets the number of packet slots. It is rounded up to a power
// of two and to at least max delay / frame duration + 2.
func WithCapacity(packets int) Option {
	return func(c *config) {
		if packets > 0 && packets <= 1<<16 {
			c.capacity = packets
		}
	}
}

// WithPayloadSize sets the largest payload in bytes (160 for 20 ms of G.711);
// larger payloads are Invalid.
func WithPayloadSize(n int) Option {
	return func(c *config) {
		if n > 0 && n <= 1<<16 {
			c.payloadSize = n
		}
	}
}

// WithConcealLimit sets how long an underrun (nothing buffered) is reported
// as Lost before Pop reports Empty: after that the talkspurt is assumed to
// have ended (DTX). It matches the Concealer's fade-out of 60 ms by default.
func WithConcealLimit(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.concealLimit = d
		}
	}
}

// WithMaxJump sets the sequence-number or timestamp jump beyond which the
// stream is re-synchronised (RFC 3550 A.1 MAX_DROPOUT, expressed as time).
func WithMaxJump(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxJump = d
		}
	}
}
