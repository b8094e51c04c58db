// Package rtpseq validates the sequence numbers of one RTP source as
// RFC 3550 Appendix A.1 does, and counts its losses as Appendix A.3 does.
//
// Two packages need this: phone/media, whose receive statistics and RTCP
// reports follow A.1 and A.3 exactly (Source), and audio/jitter, whose
// playout buffer decides by itself what counts as a jump (it measures
// jumps in time, from both the sequence number and the timestamp) but
// applies A.1's rule for what happens after one (BadSeq). audio must not
// import phone, and this is RTP header logic rather than audio, so it
// lives here, under internal/, importing only the standard library.
//
// Nothing here allocates or locks; the callers hold their own locks.
package rtpseq

// RFC 3550 A.1 constants.
const (
	// MaxDropout is the largest forward jump that is still the same
	// sequence (packets lost in between).
	MaxDropout = 3000
	// MaxMisorder is how far behind the highest number a packet may be and
	// still count as reordered or duplicated rather than as a jump.
	MaxMisorder = 100
	// MinSequential is how many packets in sequence end probation.
	MinSequential = 2

	seqMod = 1 << 16
)

// BadSeq is RFC 3550 A.1's bad_seq: after a packet whose sequence number
// made a very large jump, it remembers the number that would follow it.
// When that number comes next, the sender has restarted its numbering
// without telling us.
//
// The zero value remembers nothing.
type BadSeq struct {
	next uint16
	set  bool
}

// Restarted is called for a packet whose sequence number made a very large
// jump. It reports true when seq follows the previous such packet: the
// source restarted, and the caller re-initialises from seq. Otherwise it
// remembers seq+1 and the caller drops the packet.
func (b *BadSeq) Restarted(seq uint16) bool {
	if b.set && seq == b.next {
		b.set = false
		return true
	}
	b.next, b.set = seq+1, true
	return false
}

// Clear forgets the remembered number.
func (b *BadSeq) Clear() { b.set = false }

// Source is the sequence state of one RTP source: the fields of the source
// structure of RFC 3550 A.1 plus the previous-interval counts of A.3.
//
// The zero value is not meaningful: call Init for a source already known
// to be valid, or Probe to put a new one on probation.
type Source struct {
	maxSeq        uint16 // highest sequence number seen
	cycles        uint32 // count of sequence number cycles, shifted left 16
	baseSeq       uint32
	bad           BadSeq
	probation     int // packets in sequence still needed before the source is valid
	received      uint32
	expectedPrior uint32
	receivedPrior uint32
}

// Init is A.1's init_seq: the source restarts its counts at seq.
func (s *Source) Init(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.bad.Clear()
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
}

// Probe starts a new source on probation at its first packet, seq (A.1:
// init_seq, then max_seq = seq - 1 and probation = MIN_SEQUENTIAL). Pass
// that packet to Update next.
func (s *Source) Probe(seq uint16) {
	s.Init(seq)
	s.maxSeq = seq - 1
	s.probation = MinSequential
}

// Update is A.1's update_seq for a received packet with sequence number
// seq. It reports whether the packet is valid; an invalid one is either
// part of probation or a very large jump the caller drops (if the next
// packet follows it, that one restarts the counts and is valid).
// Duplicates and reordered packets are valid and counted as received, as
// in the RFC.
func (s *Source) Update(seq uint16) bool {
	udelta := seq - s.maxSeq
	if s.probation > 0 {
		// Source is not valid until MinSequential packets with
		// sequential numbers have been received.
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.Init(seq)
				s.received++
				return true
			}
		} else {
			s.probation = MinSequential - 1
			s.maxSeq = seq
		}
		return false
	}
	switch {
	case udelta < MaxDropout:
		// In order, with a permissible gap.
		if seq < s.maxSeq {
			s.cycles += seqMod // wrapped around
		}
		s.maxSeq = seq
	case uint32(udelta) <= seqMod-MaxMisorder:
		// The sequence number made a very large jump.
		if !s.bad.Restarted(seq) {
			return false
		}
		// Two sequential packets: assume the other side restarted
		// without telling us, so just re-sync.
		s.Init(seq)
	default:
		// Duplicate or reordered packet.
	}
	s.received++
	return true
}

// Received is the number of valid packets since the last Init.
func (s *Source) Received() uint32 { return s.received }

// ExtendedMax is the extended highest sequence number received: the
// number of cycles in the high 16 bits (A.3).
func (s *Source) ExtendedMax() uint32 { return s.cycles + uint32(s.maxSeq) }

// Expected is the number of packets expected since the last Init (A.3).
func (s *Source) Expected() uint32 { return s.ExtendedMax() - s.baseSeq + 1 }

// Lost is the cumulative number of packets lost (A.3): expected minus
// received, negative when duplicates outnumber the losses.
func (s *Source) Lost() int64 { return int64(s.Expected()) - int64(s.received) }

// FractionLost returns the fraction of packets lost since the previous
// call, in 1/256 (A.3), 0 when none were lost or duplicates made up for
// them, and starts the next interval.
func (s *Source) FractionLost() uint8 {
	exp := s.Expected()
	expInt := exp - s.expectedPrior
	s.expectedPrior = exp
	recInt := s.received - s.receivedPrior
	s.receivedPrior = s.received
	lostInt := int64(expInt) - int64(recInt)
	if expInt == 0 || lostInt <= 0 {
		return 0
	}
	return uint8(min((lostInt<<8)/int64(expInt), 255))
}
