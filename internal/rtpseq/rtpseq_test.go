package rtpseq

import (
	"encoding/binary"
	"testing"
)

// TestSourceUpdate feeds each case's packets to a new source (Probe at the
// first one) and checks each Update verdict ('+' valid, '-' not) and the
// A.3 counts at the end.
func TestSourceUpdate(t *testing.T) {
	// run returns first, first+1, ..., last.
	run := func(first, last uint16) []uint16 {
		var s []uint16
		for q := first; ; q++ {
			s = append(s, q)
			if q == last {
				return s
			}
		}
	}
	cat := func(parts ...[]uint16) []uint16 {
		var s []uint16
		for _, p := range parts {
			s = append(s, p...)
		}
		return s
	}
	tests := []struct {
		name     string
		seqs     []uint16
		valid    string
		extMax   uint32
		received uint32
		lost     int64
	}{
		{"probation: the second in sequence is the first valid",
			[]uint16{100, 101, 102}, "-++", 102, 2, 0},
		{"a gap during probation starts it again",
			[]uint16{100, 105, 106}, "--+", 106, 1, 0},
		{"probation across the wrap",
			[]uint16{65535, 0, 1}, "-++", 1, 2, 0},
		{"wrap counts a cycle",
			run(65530, 3), "-+++++++++", 1<<16 | 3, 9, 0},
		{"a gap below MaxDropout is loss",
			[]uint16{10, 11, 11 + MaxDropout - 1}, "-++", 11 + MaxDropout - 1, 2, MaxDropout - 2},
		{"a jump of MaxDropout is dropped",
			[]uint16{10, 11, 11 + MaxDropout, 12}, "-+-+", 12, 2, 0},
		{"two in sequence after a jump restart the counts",
			[]uint16{10, 11, 5000, 5001, 5002}, "-+-++", 5002, 2, 0},
		{"bad_seq is remembered across valid packets (as in A.1)",
			[]uint16{10, 11, 5000, 12, 5001}, "-+-++", 5001, 1, 0},
		{"a duplicate is valid and counted",
			[]uint16{10, 11, 12, 12, 13}, "-++++", 13, 4, -1},
		{"reordered within MaxMisorder is valid",
			[]uint16{10, 11, 13, 12, 14}, "-++++", 14, 4, 0},
		{"MaxMisorder behind is a jump",
			cat(run(10, 11+MaxMisorder), []uint16{11}), "-" + rep('+', MaxMisorder+1) + "-", 11 + MaxMisorder, MaxMisorder + 1, 0},
		{"MaxMisorder-1 behind is reordering",
			cat(run(10, 11+MaxMisorder), []uint16{12}), "-" + rep('+', MaxMisorder+2), 11 + MaxMisorder, MaxMisorder + 2, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Source
			s.Probe(tt.seqs[0])
			got := make([]byte, len(tt.seqs))
			for i, q := range tt.seqs {
				got[i] = '-'
				if s.Update(q) {
					got[i] = '+'
				}
			}
			if string(got) != tt.valid {
				t.Errorf("verdicts %s, want %s", got, tt.valid)
			}
			if s.ExtendedMax() != tt.extMax || s.Received() != tt.received || s.Lost() != tt.lost {
				t.Errorf("extended max %#x received %d lost %d, want %#x %d %d",
					s.ExtendedMax(), s.Received(), s.Lost(), tt.extMax, tt.received, tt.lost)
			}
		})
	}
}

// TestProbeForgets: a Source reused for a new source keeps nothing of the
// old one, bad_seq included.
func TestProbeForgets(t *testing.T) {
	var s Source
	s.Probe(10)
	for _, q := range []uint16{10, 11, 12, 5000} { // 5000: a jump, 5001 remembered
		s.Update(q)
	}
	s.Probe(20)
	for _, q := range []uint16{20, 21} {
		s.Update(q)
	}
	if s.Update(5001) {
		t.Error("5001 restarted the new source: bad_seq survived Probe")
	}
	if s.ExtendedMax() != 21 || s.Received() != 1 || s.Lost() != 0 {
		t.Errorf("extended max %d received %d lost %d, want 21 1 0", s.ExtendedMax(), s.Received(), s.Lost())
	}
}

func rep(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// TestFractionLost checks the A.3 interval fraction over three intervals:
// 10 of 100 lost, nothing new, then more duplicates than losses.
func TestFractionLost(t *testing.T) {
	var s Source
	s.Probe(0)
	for q := uint16(0); q <= 100; q++ {
		if q%10 != 5 { // 5, 15, ..., 95 missing
			s.Update(q)
		}
	}
	// Valid from 1 (probation ended there): 100 expected, 90 received.
	tests := []struct {
		name string
		feed []uint16
		want uint8
	}{
		{"10 of 100 lost", nil, 10 * 256 / 100},
		{"nothing new", nil, 0},
		{"one lost, two duplicates", []uint16{102, 102, 102}, 0},
		{"3 of 4 lost", []uint16{106}, 3 * 256 / 4},
	}
	for _, tt := range tests {
		for _, q := range tt.feed {
			s.Update(q)
		}
		if got := s.FractionLost(); got != tt.want {
			t.Errorf("%s: fraction %d/256, want %d/256", tt.name, got, tt.want)
		}
	}
	if s.Lost() != 10+1-2+3 {
		t.Errorf("cumulative lost %d, want 12", s.Lost())
	}
}

func TestBadSeq(t *testing.T) {
	tests := []struct {
		name  string
		clear int // Clear before this call (-1: never)
		seqs  []uint16
		want  string
	}{
		{"the next number restarts", -1, []uint16{500, 501}, "-+"},
		{"anything else is remembered instead", -1, []uint16{500, 700, 701}, "--+"},
		{"across the wrap", -1, []uint16{65535, 0}, "-+"},
		{"restart forgets", -1, []uint16{500, 501, 502}, "-+-"},
		{"Clear forgets", 1, []uint16{500, 501}, "--"},
		{"the zero value remembers nothing", -1, []uint16{1}, "-"},
	}
	for _, tt := range tests {
		var b BadSeq
		got := make([]byte, len(tt.seqs))
		for i, q := range tt.seqs {
			if i == tt.clear {
				b.Clear()
			}
			got[i] = '-'
			if b.Restarted(q) {
				got[i] = '+'
			}
		}
		if string(got) != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// rfcSource is update_seq and init_seq of RFC 3550 A.1 transcribed
// statement by statement, with the RFC's types (bad_seq an unsigned 32-bit
// number that starts out of range), as the reference FuzzSource compares
// Source with.
type rfcSource struct {
	maxSeq    uint16
	cycles    uint32
	baseSeq   uint32
	badSeq    uint32
	probation uint32
	received  uint32
}

func (s *rfcSource) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1 // so seq == bad_seq is false
	s.cycles = 0
	s.received = 0
}

func (s *rfcSource) updateSeq(seq uint16) bool {
	udelta := seq - s.maxSeq
	if s.probation != 0 {
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.initSeq(seq)
				s.received++
				return true
			}
		} else {
			s.probation = MinSequential - 1
			s.maxSeq = seq
		}
		return false
	} else if udelta < MaxDropout {
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	} else if uint32(udelta) <= seqMod-MaxMisorder {
		if uint32(seq) == s.badSeq {
			s.initSeq(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	}
	s.received++
	return true
}

// FuzzSource drives Source and the RFC transcription with the same
// packets (each pair of input bytes is a sequence number offset from the
// previous packet, so jumps, wraps, duplicates and reordering all occur;
// every 32nd packet starts a new source) and requires the same verdict and
// counts after every packet.
func FuzzSource(f *testing.F) {
	f.Add(uint16(65530), []byte{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0})
	f.Add(uint16(10), []byte{1, 0, 1, 0, 0x10, 0x27, 1, 0, 1, 0})
	f.Add(uint16(0), []byte{1, 0, 1, 0, 0, 0, 0xff, 0xff, 2, 0, 0x9c, 0xff})
	f.Fuzz(func(t *testing.T, first uint16, steps []byte) {
		var s Source
		s.Probe(first)
		r := rfcSource{}
		r.initSeq(first)
		r.maxSeq, r.probation = first-1, MinSequential
		q := first
		for i := 0; ; i += 2 {
			got, want := s.Update(q), r.updateSeq(q)
			if got != want {
				t.Fatalf("packet %d (seq %d): valid %v, RFC %v", i/2, q, got, want)
			}
			if ext := r.cycles + uint32(r.maxSeq); s.ExtendedMax() != ext || s.Received() != r.received ||
				s.Expected() != ext-r.baseSeq+1 || s.Lost() != int64(ext-r.baseSeq+1)-int64(r.received) {
				t.Fatalf("packet %d (seq %d): extended max %d received %d expected %d, RFC %d %d %d",
					i/2, q, s.ExtendedMax(), s.Received(), s.Expected(), ext, r.received, ext-r.baseSeq+1)
			}
			if i+1 >= len(steps) {
				break
			}
			q += binary.LittleEndian.Uint16(steps[i:])
			switch i % 64 {
			case 14, 30, 46:
				s.FractionLost() // must not disturb the A.1 state
			case 62:
				// A new source on the same state, as a caller that reuses
				// a Source does.
				s.Probe(q)
				r.initSeq(q)
				r.maxSeq, r.probation = q-1, MinSequential
			}
		}
	})
}

// BenchmarkUpdate is one in-order packet: the receive path's cost.
func BenchmarkUpdate(b *testing.B) {
	var s Source
	s.Probe(0)
	q := uint16(0)
	b.ReportAllocs()
	for b.Loop() {
		s.Update(q)
		q++
	}
}
