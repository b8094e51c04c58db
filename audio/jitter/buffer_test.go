package jitter

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

const ms = time.Millisecond

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// pkt is one packet of a scripted stream: sent as seq/ts, arriving at at.
type pkt struct {
	seq    uint16
	ts     uint32
	ssrc   uint32
	marker bool
	at     time.Duration
	size   int
	skip   bool // a comfort-noise or telephone-event packet: Skip, not Push
}

// stream returns n packets of 20 ms starting at seq0/ts0, each arriving at
// its send time (i*20 ms after start) with no jitter.
func stream(n int, seq0 uint16, ts0 uint32, start time.Duration) []pkt {
	out := make([]pkt, n)
	for i := range out {
		out[i] = pkt{seq: seq0 + uint16(i), ts: ts0 + uint32(i)*160, ssrc: 0x1234, at: start + time.Duration(i)*20*ms}
	}
	out[0].marker = true
	return out
}

// pop is one Pop result.
type pop struct {
	at    time.Duration
	st    PopStatus
	id    uint32 // ssrc<<16 | seq from the payload, on Frame
	delay time.Duration
}

// sim pushes packets in slice order once their arrival time has come and
// Pops every 20 ms (at phase, phase+20 ms …) until end.
type sim struct {
	t      *testing.T
	b      *Buffer
	order  []pkt // by arrival time
	next   int   // next packet to push
	pushes []PushResult
	pops   []pop
	check  func(p pop, s Stats) // called after every Pop
}

func newSim(t *testing.T, b *Buffer, pkts []pkt) *sim {
	order := slices.Clone(pkts)
	slices.SortStableFunc(order, func(a, b pkt) int { return int(a.at - b.at) })
	return &sim{t: t, b: b, order: order}
}

func run(t *testing.T, b *Buffer, pkts []pkt, phase, end time.Duration) *sim {
	t.Helper()
	s := newSim(t, b, pkts)
	s.run(phase, end)
	return s
}

func (s *sim) run(phase, end time.Duration) {
	s.t.Helper()
	payload := make([]byte, 400)
	dst := make([]byte, 400)
	for now := phase; now <= end; now += 20 * ms {
		for ; s.next < len(s.order) && s.order[s.next].at <= now; s.next++ {
			p := s.order[s.next]
			size := p.size
			if size == 0 {
				size = 160
			}
			binary.BigEndian.PutUint16(payload, p.seq)
			binary.BigEndian.PutUint16(payload[2:], uint16(p.ssrc))
			if p.skip {
				if r := s.b.Skip(p.seq, p.ssrc); r != Accepted {
					s.t.Errorf("Skip(%d) = %v", p.seq, r)
				}
				continue
			}
			s.pushes = append(s.pushes, s.b.Push(p.seq, p.ts, p.ssrc, p.marker, payload[:size], t0.Add(p.at)))
		}
		n, st := s.b.Pop(t0.Add(now), dst)
		if n > len(dst) || (st == Frame) != (n > 0) {
			s.t.Fatalf("Pop at %v = %d, %v", now, n, st)
		}
		p := pop{at: now, st: st}
		if st == Frame {
			p.id = uint32(binary.BigEndian.Uint16(dst[2:]))<<16 | uint32(binary.BigEndian.Uint16(dst))
		}
		stats := s.b.Stats()
		p.delay = stats.CurrentDelay
		s.pops = append(s.pops, p)
		checkInvariants(s.t, s.b, stats)
		if s.check != nil {
			s.check(p, stats)
		}
	}
}

// played lists the sequence numbers played, in order.
func (s *sim) played() []uint16 {
	var out []uint16
	for _, p := range s.pops {
		if p.st == Frame {
			out = append(out, uint16(p.id))
		}
	}
	return out
}

// count counts Pops with status st between the first and last Frame.
func (s *sim) count(st PopStatus) int {
	first, last := -1, -1
	for i, p := range s.pops {
		if p.st == Frame {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	n := 0
	for i := first; i >= 0 && i <= last; i++ {
		if s.pops[i].st == st {
			n++
		}
	}
	return n
}

func (s *sim) results(r PushResult) int {
	n := 0
	for _, x := range s.pushes {
		if x == r {
			n++
		}
	}
	return n
}

func checkInvariants(t *testing.T, b *Buffer, s Stats) {
	t.Helper()
	if s.Pushed != s.Accepted+s.Duplicates+s.Late+s.Invalid {
		t.Fatalf("Pushed %d != Accepted %d + Duplicates %d + Late %d + Invalid %d", s.Pushed, s.Accepted, s.Duplicates, s.Late, s.Invalid)
	}
	if s.Accepted != s.Played+s.Dropped+s.Flushed+uint64(s.Buffered) {
		t.Fatalf("Accepted %d != Played %d + Dropped %d + Flushed %d + Buffered %d", s.Accepted, s.Played, s.Dropped, s.Flushed, s.Buffered)
	}
	if s.Buffered < 0 || s.Buffered > len(b.slots) {
		t.Fatalf("Buffered %d out of [0, %d]", s.Buffered, len(b.slots))
	}
	if s.TargetDelay < time.Duration(b.minNS) || s.TargetDelay > time.Duration(b.maxNS) {
		t.Fatalf("TargetDelay %v out of [%v, %v]", s.TargetDelay, time.Duration(b.minNS), time.Duration(b.maxNS))
	}
	if s.CurrentDelay > time.Duration(b.maxNS) {
		t.Fatalf("CurrentDelay %v > max %v", s.CurrentDelay, time.Duration(b.maxNS))
	}
}

func seqs(from uint16, n int, skip ...uint16) []uint16 {
	var out []uint16
	for i := range n {
		s := from + uint16(i)
		if !slices.Contains(skip, s) {
			out = append(out, s)
		}
	}
	return out
}

func drop(p []pkt, seq ...uint16) []pkt {
	return slices.DeleteFunc(p, func(x pkt) bool { return slices.Contains(seq, x.seq) })
}

func TestBuffer(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		pkts  func() []pkt
		phase time.Duration
		end   time.Duration
		check func(t *testing.T, s *sim, st Stats)
	}{
		{
			name: "clean stream: 20 ms delay, no loss",
			pkts: func() []pkt { return stream(100, 1000, 5000, 0) },
			end:  2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(1000, 100)) {
					t.Errorf("played %v", got)
				}
				if s.pops[0].st != Buffering || s.pops[1].st != Frame {
					t.Errorf("first Pops %v, %v; want buffering, frame (arrival + 20 ms)", s.pops[0].st, s.pops[1].st)
				}
				for _, p := range s.pops[1:101] {
					if p.st != Frame || p.delay != 20*ms {
						t.Fatalf("at %v: %v delay %v, want frame at 20ms", p.at, p.st, p.delay)
					}
				}
				if st.Lost != 0 || s.count(Lost) != 0 || st.Dropped != 0 || st.TargetDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "clean stream, 10 ms minimum delay: played at the first tick after arrival",
			pkts: func() []pkt { return stream(100, 1000, 5000, 0) },
			opts: []Option{WithMinDelay(10 * ms)},
			end:  2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(1000, 100)) {
					t.Errorf("played %v", got)
				}
				for _, p := range s.pops[:100] {
					if p.st != Frame || p.delay != 0 {
						t.Fatalf("at %v: %v delay %v, want frame at 0 ms", p.at, p.st, p.delay)
					}
				}
				if st.Lost != 0 || st.Dropped != 0 || st.TargetDelay != 10*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "clean stream, 10 ms minimum delay, clock 7 ms out of phase",
			pkts:  func() []pkt { return stream(100, 1, 0, 0) },
			opts:  []Option{WithMinDelay(10 * ms)},
			phase: 7 * ms,
			end:   2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(1, 100)) {
					t.Errorf("played %v", got)
				}
				if st.CurrentDelay != 7*ms || st.Lost != 0 || s.count(Lost) != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:  "clean stream, clock 7 ms out of phase",
			pkts:  func() []pkt { return stream(100, 1, 0, 0) },
			phase: 7 * ms,
			end:   2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(1, 100)) {
					t.Errorf("played %v", got)
				}
				if st.CurrentDelay != 27*ms || st.Lost != 0 || s.count(Lost) != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "two swapped",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				p[10], p[11] = p[11], p[10] // 110 arrives just after 111
				p[11].at = p[10].at
				return p
			},
			end: 1100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 50)) {
					t.Errorf("played %v", got)
				}
				if st.Reordered != 1 || st.Lost != 0 || s.count(Lost) != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "three-deep shuffle",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				// 120, 121, 122 all arrive when 122 is due, in reverse.
				at := p[22].at
				p[20], p[22] = p[22], p[20]
				p[20].at, p[21].at, p[22].at = at, at, at
				return p
			},
			end: 1200 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 50)) {
					t.Errorf("played %v", got)
				}
				if st.Reordered != 2 || st.Lost != 0 || st.Late != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "single loss: Lost once",
			pkts: func() []pkt { return drop(stream(50, 100, 0, 0), 130) },
			end:  1100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 50, 130)) {
					t.Errorf("played %v", got)
				}
				if n := s.count(Lost); n != 1 || st.Lost != 1 {
					t.Errorf("Lost pops %d, stats %+v", n, st)
				}
				if st.CurrentDelay != 20*ms {
					t.Errorf("delay %v, want 20ms", st.CurrentDelay)
				}
			},
		},
		{
			name: "burst loss of 5",
			pkts: func() []pkt { return drop(stream(60, 100, 0, 0), 130, 131, 132, 133, 134) },
			end:  1300 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 60, 130, 131, 132, 133, 134)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 5 {
					t.Errorf("Lost %d, want 5", st.Lost)
				}
				if gaps := s.count(Lost) + s.count(Empty); gaps != 5 {
					t.Errorf("%d non-frame Pops in the stream, want 5", gaps)
				}
				if st.CurrentDelay != 20*ms {
					t.Errorf("delay %v, want 20ms", st.CurrentDelay)
				}
			},
		},
		{
			name: "duplicates",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				d := p[10] // 110 again right away, and 105 again after it played
				d2 := p[5]
				d2.at = p[12].at
				return append(p, d, d2)
			},
			end: 1100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 50)) {
					t.Errorf("played %v", got)
				}
				if st.Duplicates != 2 || s.results(Duplicate) != 2 || st.Late != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "too late",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				p[20].at += 200 * ms
				return p
			},
			end: 1100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 50, 120)) {
					t.Errorf("played %v", got)
				}
				if st.Late != 1 || s.results(TooLate) != 1 || st.Lost != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "sequence wrap",
			pkts: func() []pkt { return stream(100, 65500, 0, 0) },
			end:  2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(65500, 100)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 0 || st.Resets != 0 || st.CurrentDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "sequence wrap with loss and reorder at the wrap",
			pkts: func() []pkt {
				p := drop(stream(100, 65500, 0, 0), 65535)
				i := slices.IndexFunc(p, func(x pkt) bool { return x.seq == 0 })
				p[i], p[i+1] = p[i+1], p[i]
				p[i+1].at = p[i].at
				return p
			},
			end: 2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				// The late packet raised the target by a frame; once the
				// peak has decayed (after 1 s) one frame may be dropped
				// to bring the delay back down.
				want := seqs(65500, 100, 65535)
				if got := s.played(); len(got) != len(want)-int(st.Dropped) || st.Dropped > 1 {
					t.Errorf("played %v (dropped %d)", got, st.Dropped)
				} else if got[len(got)-1] != want[len(want)-1] || !slices.Equal(got[:60], want[:60]) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 1 || st.Resets != 0 || st.Reordered != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "timestamp wrap",
			pkts: func() []pkt { return stream(100, 7, 1<<32-160*40, 0) },
			end:  2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(7, 100)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 0 || st.Resets != 0 || st.CurrentDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "SSRC change mid-stream: reset without a long gap",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				q := stream(50, 40000, 123456789, 1000*ms)
				for i := range q {
					q[i].ssrc = 0x9999
				}
				return append(p, q...)
			},
			end: 2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				// 149, not yet played, is flushed with the old stream.
				want := append(seqs(100, 49), seqs(40000, 50)...)
				if got := s.played(); !slices.Equal(got, want) {
					t.Errorf("played %v", got)
				}
				if st.Resets != 1 || s.results(Reset) != 1 || st.Lost != 0 || st.Flushed != 1 {
					t.Errorf("stats %+v", st)
				}
				if gaps := s.count(Lost) + s.count(Empty) + s.count(Buffering); gaps > 1 {
					t.Errorf("%d Pops without a frame across the change", gaps)
				}
			},
		},
		{
			name: "big jump re-syncs",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				q := stream(50, 30000, 999, 1000*ms) // seq and ts jump
				q[0].marker = false
				return append(p, q...)
			},
			end: 2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				want := append(seqs(100, 49), seqs(30000, 50)...)
				if got := s.played(); !slices.Equal(got, want) {
					t.Errorf("played %v", got)
				}
				if st.Resets != 1 || s.results(Reset) != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "timestamp jump of 1 hour re-syncs",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				q := stream(50, 150, 8000*3600, 1000*ms) // sequence continues
				q[0].marker = false
				return append(p, q...)
			},
			end: 2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 100, 149)) {
					t.Errorf("played %v", got)
				}
				if st.Resets != 1 || st.Lost != 0 || st.Flushed != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "stray old packet dropped, restart behind re-syncs",
			pkts: func() []pkt {
				p := stream(100, 20000, 0, 0)
				stray := pkt{seq: 5000, ts: 77, ssrc: 0x1234, at: 300 * ms}
				q := stream(40, 10000, 160*200, 1200*ms) // sender restarts lower
				q[0].marker = false
				return append(append(p[:60], stray), q...)
			},
			end: 2100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				want := append(seqs(20000, 60), seqs(10001, 39)...)
				if got := s.played(); !slices.Equal(got, want) {
					t.Errorf("played %v", got)
				}
				if st.Resets != 1 || st.Late != 2 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "DTX gap with marker is not loss",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				q := stream(50, 150, 160*100, 2000*ms) // 1 s of silence
				return append(p, q...)
			},
			end: 3100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 100)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 0 || st.Resets != 0 {
					t.Errorf("stats %+v", st)
				}
				// The second talkspurt starts 20 ms after its first packet.
				i := slices.IndexFunc(s.pops, func(p pop) bool { return p.st == Frame && uint16(p.id) == 150 })
				if s.pops[i].at != 2020*ms || st.CurrentDelay != 20*ms {
					t.Errorf("150 played at %v, delay %v", s.pops[i].at, st.CurrentDelay)
				}
			},
		},
		{
			name: "DTX gap without marker is not loss",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				q := stream(50, 150, 160*70, 1400*ms) // 400 ms of silence
				q[0].marker = false
				return append(p, q...)
			},
			end: 2500 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 100)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 0 || st.CurrentDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "lost end of talkspurt before DTX gap",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				q := stream(50, 150, 160*100, 2000*ms)
				return drop(append(p, q...), 148, 149)
			},
			end: 3100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, seqs(100, 100, 148, 149)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 2 || st.CurrentDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "DTX signalled by comfort noise (Skip) is not loss",
			pkts: func() []pkt {
				p := stream(50, 100, 0, 0)
				cn := pkt{seq: 150, ts: 160 * 50, ssrc: 0x1234, at: 1000 * ms, skip: true}
				cn2 := pkt{seq: 151, ts: 160 * 75, ssrc: 0x1234, at: 1500 * ms, skip: true} // SID update
				q := stream(50, 152, 160*100, 2000*ms)
				return append(append(p, cn, cn2), q...)
			},
			end: 3100 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, append(seqs(100, 50), seqs(152, 50)...)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 0 || st.NonAudio != 2 || st.CurrentDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "telephone-event instead of audio (Skip) is not loss",
			pkts: func() []pkt {
				p := stream(30, 100, 0, 0)
				for i := range 7 { // 7 RFC 4733 packets, one event timestamp
					p = append(p, pkt{seq: 130 + uint16(i), ts: 160 * 30, ssrc: 0x1234, at: time.Duration(600+20*i) * ms, skip: true})
				}
				q := stream(30, 137, 160*38, 760*ms) // audio resumes, no marker
				q[0].marker = false
				return append(p, q...)
			},
			end: 1500 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := s.played(); !slices.Equal(got, append(seqs(100, 30), seqs(137, 30)...)) {
					t.Errorf("played %v", got)
				}
				if st.Lost != 0 || st.NonAudio != 7 || st.CurrentDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "telephone-events interleaved with audio (Skip)",
			pkts: func() []pkt {
				var p []pkt
				seq := uint16(65530) // and across the wrap
				for i := range 60 {
					at := time.Duration(i) * 20 * ms
					if i >= 10 && i < 30 {
						p = append(p, pkt{seq: seq, ts: 160 * 10, ssrc: 0x1234, at: at, skip: true})
						seq++
					}
					p = append(p, pkt{seq: seq, ts: uint32(i) * 160, ssrc: 0x1234, at: at})
					seq++
				}
				return p
			},
			end: 1300 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if got := len(s.played()); got != 60 {
					t.Errorf("played %d frames, want 60", got)
				}
				if st.Lost != 0 || s.count(Lost) != 0 || st.NonAudio != 20 || st.CurrentDelay != 20*ms {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "payload checks",
			pkts: func() []pkt {
				p := stream(30, 100, 0, 0)
				p[5].size = 161 // oversized
				p[6].size = 80  // smaller is fine (another codec)
				return p
			},
			end: 700 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if s.pushes[5] != Invalid || s.pushes[6] != Accepted || st.Invalid != 1 || st.Lost != 1 {
					t.Errorf("pushes %v stats %+v", s.pushes, st)
				}
			},
		},
		{
			name: "10 ms packets are Invalid",
			pkts: func() []pkt {
				p := stream(40, 100, 0, 0)
				for i := range p {
					p[i].ts = uint32(i) * 80
					p[i].at = time.Duration(i) * 10 * ms
					p[i].size = 80
				}
				return p
			},
			end: 500 * ms,
			check: func(t *testing.T, s *sim, st Stats) {
				if st.Invalid != 39 || st.Played != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "nobody pops: capacity holds, oldest dropped",
			opts: []Option{WithCapacity(16)},
			pkts: func() []pkt { return stream(100, 0, 0, 0) },
			end:  -1, // no Pops
			check: func(t *testing.T, s *sim, st Stats) {
				if st.Buffered != 16 || st.Dropped != 84 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "sender clock 0.5% fast",
			pkts: func() []pkt {
				p := stream(1500, 0, 0, 0)
				for i := range p {
					p[i].at = p[i].at * 995 / 1000
				}
				return p
			},
			end: 30 * time.Second,
			check: func(t *testing.T, s *sim, st Stats) {
				if st.Played+st.Dropped != 1500 || st.Lost != 0 || st.Dropped < 5 || st.Dropped > 10 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "sender clock 0.5% slow",
			pkts: func() []pkt {
				p := stream(1500, 0, 0, 0)
				for i := range p {
					p[i].at = p[i].at * 1005 / 1000
				}
				return p
			},
			end: 31 * time.Second,
			check: func(t *testing.T, s *sim, st Stats) {
				if st.Played != 1500 || st.Lost != 0 || st.Dropped != 0 || st.Concealed > 10 {
					t.Errorf("stats %+v", st)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New(tc.opts...)
			p := tc.pkts()
			s := newSim(t, b, p)
			if tc.end < 0 {
				for _, x := range p {
					s.pushes = append(s.pushes, b.Push(x.seq, x.ts, x.ssrc, x.marker, make([]byte, 160), t0.Add(x.at)))
					checkInvariants(t, b, b.Stats())
				}
			} else {
				s.run(tc.phase, tc.end)
			}
			tc.check(t, s, b.Stats())
		})
	}
}

// spiky returns a stream in which the network freezes for spike every
// period during [from, to): packets sent then arrive together at its end.
func spiky(n int, spike, period, from, to time.Duration) []pkt {
	p := stream(n, 0, 0, 0)
	for i := range p {
		sent := p[i].at
		if sent < from || sent >= to {
			continue
		}
		if off := (sent - from) % period; off < spike {
			p[i].at = sent - off + spike
		}
	}
	return p
}

func TestBufferAdaptsToJitter(t *testing.T) {
	// 100 ms freezes every second for 5 s, then 10 s of calm.
	b := New()
	var maxTarget, maxDelay time.Duration
	var firstSpike time.Duration = -1
	s := newSim(t, b, spiky(800, 100*ms, time.Second, time.Second, 6*time.Second))
	s.check = func(p pop, st Stats) {
		maxTarget = max(maxTarget, st.TargetDelay)
		maxDelay = max(maxDelay, st.CurrentDelay)
		if firstSpike < 0 && st.TargetDelay >= 100*ms {
			firstSpike = p.at
		}
	}
	s.run(0, 6*time.Second)
	st := b.Stats()
	t.Logf("after jitter: %+v", st)
	// The first freeze starts at 1 s; its packets arrive at 1.1 s.
	if firstSpike < 0 || firstSpike > 1160*ms {
		t.Errorf("target reached 100 ms at %v; want within a few packets of 1.1 s", firstSpike)
	}
	if st.TargetDelay < 100*ms || st.CurrentDelay < 100*ms {
		t.Errorf("target %v, delay %v under 100 ms spikes", st.TargetDelay, st.CurrentDelay)
	}
	if st.Lost != 0 || st.Late != 0 {
		t.Errorf("lost %d, late %d: spikes must be absorbed", st.Lost, st.Late)
	}
	if maxDelay > 200*ms || maxTarget > 200*ms {
		t.Errorf("max delay %v, max target %v", maxDelay, maxTarget)
	}

	var calmAt time.Duration = -1
	s.check = func(p pop, st Stats) {
		if calmAt < 0 && st.CurrentDelay <= 40*ms && st.TargetDelay <= 40*ms {
			calmAt = p.at
		}
	}
	s.pops = nil
	s.run(6*time.Second+20*ms, 16*time.Second)
	st = b.Stats()
	t.Logf("after calm: %+v; ≤ 40 ms at %v", st, calmAt)
	if st.CurrentDelay > 40*ms || st.TargetDelay > 40*ms {
		t.Errorf("after 10 s calm: delay %v, target %v; want ≤ 40 ms", st.CurrentDelay, st.TargetDelay)
	}
	if calmAt < 0 || calmAt > 11*time.Second {
		t.Errorf("delay back to ≤ 40 ms at %v; want within 5 s", calmAt)
	}
	if st.Lost != 0 || st.Played+st.Dropped != 800 {
		t.Errorf("stats %+v", st)
	}
}

// TestBufferLossUnderJitterCostsOneFrame: under steady jitter the target
// rises above the delay the buffer plays at without an underrun (the peak
// is learnt from packets that were still on time). A loss that then empties
// the buffer must cost its own frame only: the held frame is given back as
// soon as the next packet shows it was loss, even below that target's
// floor; keeping it grew the delay by a frame that the shrink rule later
// cut out of the speech (two more damaged frames and two delay steps per
// loss: 105 concealed and 11 dropped frames for 93 losses at 20 ms).
func TestBufferLossUnderJitterCostsOneFrame(t *testing.T) {
	for _, jitter := range []time.Duration{0, 20 * ms, 60 * ms} {
		t.Run(jitter.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var pkts []pkt
			for _, p := range stream(3000, 100, 1000, 0) {
				lose := r.Float64() < 0.03
				p.at += time.Duration(r.Float64() * float64(jitter))
				if !lose {
					pkts = append(pkts, p)
				}
			}
			b := New(WithMinDelay(10 * ms)) // the media engine's setting
			s := run(t, b, pkts, 3*ms, 61*time.Second)
			st := b.Stats()
			if st.Lost != 3000-uint64(len(pkts)) || st.Played != uint64(len(pkts)) {
				t.Fatalf("%+v: want %d lost, %d played", st, 3000-len(pkts), len(pkts))
			}
			// At 60 ms a packet can come more than a frame after the next
			// one: the odd underrun from reordering is the jitter's.
			// (Lost Pops between the first and the last frame: the end of
			// the stream is an underrun of its own.)
			if extra := s.count(Lost) - int(st.Lost); st.Dropped != 0 || extra > 2 {
				t.Errorf("%d frames concealed for %d lost (%d more), %d dropped: a loss cost more than its frame", s.count(Lost), st.Lost, extra, st.Dropped)
			}
		})
	}
}

func TestBufferPeriodicSpikes(t *testing.T) {
	// A 100 ms freeze every 3 s (a Wi-Fi scan, say) for 30 s, then calm. The
	// first two freezes stall playout; later ones are covered by the delay.
	b := New()
	s := newSim(t, b, spiky(2500, 100*ms, 3*time.Second, time.Second, 31*time.Second))
	stalls := map[int]int{} // non-frame Pops per 3 s period
	s.check = func(p pop, st Stats) {
		if p.st != Frame && p.at > 20*ms && p.at < 31*time.Second {
			stalls[int((p.at-time.Second)/(3*time.Second))]++
		}
	}
	s.run(0, 31*time.Second)
	st := b.Stats()
	t.Logf("stalls per period %v, %+v", stalls, st)
	if st.Lost != 0 || st.Late != 0 {
		t.Errorf("lost %d late %d", st.Lost, st.Late)
	}
	for period, n := range stalls {
		if period >= 2 && n > 0 {
			t.Errorf("%d stalled Pops in period %d: recurring spikes not covered", n, period)
		}
	}
	var calmAt time.Duration = -1
	s.check = func(p pop, st Stats) {
		if calmAt < 0 && st.CurrentDelay <= 40*ms && st.TargetDelay <= 40*ms {
			calmAt = p.at
		}
	}
	s.run(31*time.Second+20*ms, 50*time.Second)
	if calmAt < 0 || calmAt > 41*time.Second {
		t.Errorf("back to ≤ 40 ms at %v; want within 10 s of calm", calmAt)
	}
}

func TestBufferExtremeJitter(t *testing.T) {
	for _, tc := range []struct {
		spread, minDelay time.Duration
	}{
		{50 * ms, DefaultMinDelay}, {150 * ms, DefaultMinDelay}, {400 * ms, DefaultMinDelay}, {2 * time.Second, DefaultMinDelay},
		{50 * ms, 10 * ms}, {150 * ms, 10 * ms}, // the media engine's setting
	} {
		spread := tc.spread
		t.Run(fmt.Sprintf("%v/min%v", spread, tc.minDelay), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(spread)))
			p := stream(1500, 60000, 4e9, 0)
			for i := range p {
				p[i].at += time.Duration(r.Int64N(int64(spread)))
			}
			b := New(WithMinDelay(tc.minDelay))
			arrived := make(map[uint16]time.Duration, len(p))
			for _, x := range p {
				arrived[x.seq] = x.at
			}
			var worst time.Duration
			s := newSim(t, b, p)
			s.check = func(pp pop, st Stats) {
				if pp.st == Frame {
					worst = max(worst, pp.at-arrived[uint16(pp.id)])
				}
			}
			s.run(3*ms, 33*time.Second)
			st := b.Stats()
			t.Logf("%v: played %d lost %d late %d dropped %d, worst wait %v, %+v", spread, st.Played, st.Lost, st.Late, st.Dropped, worst, st)
			if worst > 200*ms {
				t.Errorf("a frame waited %v in the buffer", worst)
			}
			if got := s.played(); !slices.IsSortedFunc(got, func(a, b uint16) int { return int(int16(a - b)) }) {
				t.Errorf("played out of order")
			}
			if spread <= 150*ms && st.Lost > 15 {
				t.Errorf("lost %d of 1500 with %v jitter", st.Lost, spread)
			}
		})
	}
}

func TestBufferGrowsOnReorder(t *testing.T) {
	// Every 10th packet is 30 ms late: after the first one is lost, the
	// buffer waits for the rest.
	p := stream(500, 0, 0, 0)
	for i := 5; i < len(p); i += 10 {
		p[i].at += 30 * ms
	}
	b := New()
	s := run(t, b, p, 0, 10100*ms)
	st := b.Stats()
	if st.Lost > 1 || st.Played+st.Dropped+st.Late != 500 {
		t.Errorf("stats %+v", st)
	}
	if got := s.played(); !slices.IsSorted(got) {
		t.Errorf("played out of order")
	}
}

func TestBufferReset(t *testing.T) {
	b := New()
	s := run(t, b, stream(20, 0, 0, 0), 0, 200*ms)
	if len(s.played()) == 0 {
		t.Fatal("nothing played")
	}
	b.Reset()
	if st := b.Stats(); st != (Stats{TargetDelay: 20 * ms}) {
		t.Errorf("after Reset: %+v", st)
	}
	if n, st := b.Pop(t0, make([]byte, 160)); n != 0 || st != Empty {
		t.Errorf("Pop after Reset = %d, %v", n, st)
	}
	// Reusable: a new stream with the same numbers plays from the start.
	s = run(t, b, stream(20, 0, 0, time.Hour), time.Hour, time.Hour+500*ms)
	if got := s.played(); !slices.Equal(got, seqs(0, 20)) {
		t.Errorf("played %v", got)
	}
}

func TestBufferSkipResults(t *testing.T) {
	b := New()
	p := make([]byte, 160)
	if r := b.Skip(1, 7); r != Invalid {
		t.Errorf("Skip before a stream = %v", r)
	}
	b.Push(10, 1600, 7, true, p, t0)
	for _, tc := range []struct {
		seq  uint16
		ssrc uint32
		want PushResult
	}{
		{11, 8, Invalid},    // another source
		{11, 7, Accepted},   //
		{11, 7, Duplicate},  //
		{10, 7, Duplicate},  // the audio packet's number
		{9, 7, TooLate},     // before the first packet: nothing to skip
		{9000, 7, Invalid},  // far ahead
		{100, 7, Invalid},   // beyond the window
		{60000, 7, TooLate}, // far behind
	} {
		if r := b.Skip(tc.seq, tc.ssrc); r != tc.want {
			t.Errorf("Skip(%d, ssrc %d) = %v, want %v", tc.seq, tc.ssrc, r, tc.want)
		}
	}
	if r := b.Push(11, 1760, 7, false, p, t0); r != Duplicate {
		t.Errorf("Push of a skipped number = %v", r)
	}
	dst := make([]byte, 160)
	b.Pop(t0.Add(20*ms), dst)
	if r := b.Skip(10, 7); r != Duplicate {
		t.Errorf("Skip of a played number = %v", r)
	}
	if r := b.Skip(5, 7); r != TooLate {
		t.Errorf("Skip behind the playout point = %v", r)
	}
	if st := b.Stats(); st.NonAudio != 1 {
		t.Errorf("NonAudio %d", st.NonAudio)
	}
}

func TestBufferOptions(t *testing.T) {
	b := New(WithFrameDuration(30*ms), WithClockRate(16000), WithMinDelay(60*ms), WithMaxDelay(40*ms),
		WithCapacity(5), WithPayloadSize(480), WithConcealLimit(0), WithMaxJump(time.Second),
		WithCapacity(-1), WithClockRate(0), WithFrameDuration(0))
	if b.frameTS != 480 || b.minNS != int64(60*ms) || b.maxNS != int64(60*ms) || len(b.slots) != 8 ||
		b.psize != 480 || b.conceal != 0 || b.jumpSeq != 33 || b.jumpTS != 16000 {
		t.Errorf("config frameTS %d min %d max %d slots %d psize %d conceal %d jump %d/%d",
			b.frameTS, b.minNS, b.maxNS, len(b.slots), b.psize, b.conceal, b.jumpSeq, b.jumpTS)
	}
	if d := New().Stats().TargetDelay; d != DefaultMinDelay {
		t.Errorf("default target %v", d)
	}
}

func TestStatusStrings(t *testing.T) {
	for _, tc := range []struct {
		v    interface{ String() string }
		want string
	}{
		{PushUnknown, "unknown"}, {Accepted, "accepted"}, {Duplicate, "duplicate"}, {TooLate, "too-late"},
		{Reset, "reset"}, {Invalid, "invalid"}, {PushResult(99), "unknown"}, {PushResult(-1), "unknown"},
		{PopUnknown, "unknown"}, {Frame, "frame"}, {Lost, "lost"}, {Empty, "empty"}, {Buffering, "buffering"},
		{PopStatus(99), "unknown"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestBufferConcurrent(t *testing.T) {
	b := New()
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(3)
	go func() {
		defer wg.Done()
		payload := make([]byte, 160)
		for i := range 2000 {
			b.Push(uint16(i), uint32(i*160), 1, i == 0, payload, start.Add(time.Duration(i)*20*ms))
		}
	}()
	go func() {
		defer wg.Done()
		dst := make([]byte, 160)
		for i := range 2000 {
			b.Pop(start.Add(time.Duration(i)*20*ms), dst)
		}
	}()
	go func() {
		defer wg.Done()
		for range 500 {
			_ = b.Stats()
		}
	}()
	wg.Wait()
	checkInvariants(t, b, b.Stats())
}

func TestBufferNoAllocs(t *testing.T) {
	b := New()
	payload := make([]byte, 160)
	dst := make([]byte, 160)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		now := t0.Add(time.Duration(i) * 20 * ms)
		b.Push(uint16(i), uint32(i*160), 1, false, payload, now)
		if i%50 == 7 { // and a loss, a late and a duplicate now and then
			i++
		}
		b.Push(uint16(i-3), uint32((i-3)*160), 1, false, payload, now)
		b.Pop(now, dst)
		_ = b.Stats()
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocs per Push/Pop", allocs)
	}
}

func BenchmarkPushPop(b *testing.B) {
	jb := New()
	payload := make([]byte, 160)
	dst := make([]byte, 160)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := t0.Add(time.Duration(i) * 20 * ms)
		jb.Push(uint16(i), uint32(i*160), 1, false, payload, now)
		jb.Pop(now, dst)
		i++
	}
}

func BenchmarkPushPopJitter(b *testing.B) {
	const n = 1 << 14
	r := rand.New(rand.NewPCG(7, 7))
	p := stream(n, 0, 0, 0)
	for i := range p {
		p[i].at += time.Duration(r.Int64N(int64(60 * ms)))
	}
	slices.SortStableFunc(p, func(a, b pkt) int { return int(a.at - b.at) })
	jb := New()
	payload := make([]byte, 160)
	dst := make([]byte, 160)
	b.ReportAllocs()
	i, k := 0, 0
	for b.Loop() {
		// One Push and one Pop per op, in time order.
		x, c := p[k%n], k/n
		cycle := time.Duration(c) * n * 20 * ms
		jb.Push(x.seq+uint16(c*n), x.ts+uint32(c*n*160), 1, false, payload, t0.Add(cycle+x.at))
		k++
		jb.Pop(t0.Add(time.Duration(i)*20*ms+60*ms), dst)
		i++
	}
}
