package jitter

import "time"

// Stats are cumulative counters since New or Reset plus the current timing
// figures. Counters survive stream restarts (SSRC change, re-sync).
//
// The counters obey, at any time:
//
//	Pushed   == Accepted + Duplicates + Late + Invalid
//	Accepted == Played + Dropped + Flushed + Buffered
type Stats struct {
	Pushed     uint64 // Push calls
	Accepted   uint64 // packets stored (PushResult Accepted or Reset)
	Duplicates uint64 // PushResult Duplicate
	Late       uint64 // PushResult TooLate
	Invalid    uint64 // PushResult Invalid
	Reordered  uint64 // accepted packets that arrived after a higher sequence number
	Resets     uint64 // stream restarts: SSRC change or re-sync after a big jump
	NonAudio   uint64 // sequence numbers recorded by Skip (comfort noise, telephone-events)

	Played    uint64 // Pop returned Frame
	Concealed uint64 // Pop returned Lost
	Lost      uint64 // sequence numbers passed at playout without a packet (a late packet counts here and in Late)
	Dropped   uint64 // packets discarded unplayed to cut the delay (shrink, max delay, capacity)
	Flushed   uint64 // packets discarded by a stream restart
	Buffered  int    // packets held now

	// CurrentDelay is the playout delay of the last frame played: how long
	// after its on-time arrival (the arrival it would have had with the
	// fastest transit seen recently) it was played.
	CurrentDelay time.Duration
	// TargetDelay is the delay the buffer steers to: frame duration plus
	// the peak transit deviation, clamped to [min delay, max delay].
	TargetDelay time.Duration
	// Jitter is the RFC 3550 §6.4.1 / A.8 interarrival jitter.
	Jitter time.Duration
	// JitterRTP is Jitter in RTP timestamp units, as RTCP reports it
	// (RFC 3550 §6.4.1).
	JitterRTP uint32
	// PeakJitter is the transit deviation the target delay currently covers
	// (held for 1–5 s depending on how often spikes recur, then decaying).
	PeakJitter time.Duration
	// MaxSeenJitter is the largest transit deviation seen: how much later than
	// the fastest packet of the last few seconds a packet arrived.
	MaxSeenJitter time.Duration
}
