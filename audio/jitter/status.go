package jitter

// PushResult tells what Push did with a packet.
type PushResult int

// Push results. The zero value is PushUnknown; Push never returns it.
const (
	PushUnknown PushResult = iota
	// Accepted: the packet was copied into the buffer.
	Accepted
	// Duplicate: a packet with this sequence number is buffered or was played.
	Duplicate
	// TooLate: the packet's playout slot has passed (or it is a stray from
	// far behind the stream, the RFC 3550 A.1 bad_seq rule); it was dropped.
	TooLate
	// Reset: the stream restarted (SSRC change, RFC 3550 §8.2, or a jump of
	// more than the maximum jump); buffered packets were flushed and this
	// packet was accepted as the first of the new stream.
	Reset
	// Invalid: empty payload, payload larger than the payload size, or a
	// packet time other than the frame duration. The packet was dropped.
	Invalid
)

var pushResultNames = [...]string{"unknown", "accepted", "duplicate", "too-late", "reset", "invalid"}

// String returns a lower-case name such as "too-late".
func (r PushResult) String() string {
	if r < 0 || int(r) >= len(pushResultNames) {
		return "unknown"
	}
	return pushResultNames[r]
}

// PopStatus tells what Pop wrote and what the caller should play.
type PopStatus int

// Pop statuses. The zero value is PopUnknown; Pop never returns it.
const (
	PopUnknown PopStatus = iota
	// Frame: dst holds the payload of the next frame (n bytes).
	Frame
	// Lost: a frame was due but is missing (lost, or not here yet while the
	// buffer grows); the caller conceals it (see Concealer).
	Lost
	// Empty: nothing to play (not started, or silence after a talkspurt);
	// the caller plays silence or comfort noise.
	Empty
	// Buffering: packets are held until their playout time (start of the
	// stream or of a talkspurt); the caller plays silence or comfort noise.
	Buffering
)

var popStatusNames = [...]string{"unknown", "frame", "lost", "empty", "buffering"}

// String returns a lower-case name such as "buffering".
func (s PopStatus) String() string {
	if s < 0 || int(s) >= len(popStatusNames) {
		return "unknown"
	}
	return popStatusNames[s]
}
