package jitter

import (
	"sync"
	"time"

	"github.com/teaphone/teaphone/internal/rtpseq"
)

// Tuning of the delay estimator (see the package documentation).
const (
	// A transit-deviation peak keeps the target up for the hold time, then
	// decays by peakDecayPerMille ms per second. The hold is minHold, or,
	// when peaks recur (two spike episodes less than peakMemory apart),
	// twice their interval, at most maxHold.
	minHold           = int64(time.Second)
	maxHold           = int64(5 * time.Second)
	peakMemory        = int64(10 * time.Second)
	peakDecayPerMille = 60
	// A spike episode starts with a deviation of at least two frames, at
	// least episodeGap after the previous episode started.
	episodeGap = int64(500 * time.Millisecond)
	// shrinkEvery is the minimum time between two frames dropped in a
	// talkspurt to reduce the delay.
	shrinkEvery = int64(200 * time.Millisecond)
	// baseWindow is the length of each of the two windows over which the
	// fastest transit time is tracked.
	baseWindow = int64(2 * time.Second)
	// maxSample caps a single jitter sample (D in RFC 3550 A.8, a transit
	// deviation) so that absurd clocks cannot overflow the estimators.
	maxSample = int64(10 * time.Second)
	// relLimit caps times relative to the stream start (about 9 years).
	relLimit = int64(1) << 58
)

type slotState uint8

const (
	slotEmpty slotState = iota
	slotFull            // buffered, not played
	slotDone            // played or discarded; kept to recognise duplicates
	slotSkip            // a sequence number without audio (see Skip)
)

type slot struct {
	seq    int64 // extended sequence number (RFC 3550 A.1)
	ts     int64 // extended RTP timestamp
	n      int   // payload length
	state  slotState
	marker bool
}

// Buffer is an adaptive RTP playout (jitter) buffer for one received stream.
//
// Push, Skip, Pop, Stats and Reset are safe for concurrent use: the media engine may
// Push from the receive goroutine while the playout clock Pops. A mutex guards
// the state; nothing under it blocks, allocates or calls out.
//
// The zero value is not usable; call New.
type Buffer struct {
	mu sync.Mutex

	// configuration
	frameNS, minNS, maxNS int64
	frameTS               int64 // RTP timestamp units per frame
	rate                  int64
	psize                 int
	mask                  int64
	conceal               int   // underrun ticks reported as Lost
	jumpSeq, jumpTS       int64 // re-sync thresholds
	slots                 []slot
	data                  []byte

	// current source (RFC 3550 §5.1 SSRC, sequence number, timestamp)
	active bool
	ssrc   uint32
	maxSeq int64         // highest extended sequence number seen
	maxTS  int64         // its extended timestamp
	badSeq rtpseq.BadSeq // after a packet far behind: the number that would follow it
	base   time.Time
	baseTS int64
	count  int

	// playout point
	anchored   bool  // curTS is meaningful: a talkspurt is being played
	started    bool  // a frame of this stream was played: the floor is fixed
	curSeq     int64 // next sequence number to play (floor of the window)
	curTS      int64 // timestamp of the frame due at the next Pop
	underrun   int   // consecutive Pops with nothing buffered
	stalled    int64 // frames the playout point was held in this underrun
	lastShrink int64
	lastNow    int64
	lostSeq    int64 // the frame the last Pop reported Lost; -1 after any other outcome

	// estimators
	haveTransit bool
	lastTransit int64
	jitter16    int64 // RFC 3550 A.8 jitter, ns, scaled by 16
	minCur      int64 // fastest transit in the current window
	minPrev     int64 // fastest transit in the previous window
	minStart    int64
	baseTransit int64 // min(minCur, minPrev)
	peak        int64
	peakAt      int64
	hold        int64 // current peak hold
	episodeAt   int64 // start of the last spike episode
	episodes    int   // spike episodes seen (capped at 2)

	st Stats
}

// New returns an empty Buffer. Its memory (capacity × payload size bytes) is
// allocated here; Push and Pop do not allocate.
func New(opts ...Option) *Buffer {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	b := &Buffer{
		frameNS: int64(c.frame),
		minNS:   int64(c.minDelay),
		maxNS:   int64(c.maxDelay),
		rate:    int64(c.rate),
		psize:   c.payloadSize,
		lostSeq: -1,
	}
	b.frameTS = b.rate * b.frameNS / int64(time.Second)
	if b.frameTS < 1 {
		b.frameTS = 1
	}
	if b.maxNS < b.minNS {
		b.maxNS = b.minNS
	}
	b.conceal = int((int64(c.concealLimit) + b.frameNS - 1) / b.frameNS)
	b.jumpTS = b.rate * int64(c.maxJump) / int64(time.Second)
	b.jumpSeq = int64(c.maxJump) / b.frameNS
	if b.jumpSeq < 1 {
		b.jumpSeq = 1
	}
	if b.jumpSeq > 1<<14 {
		b.jumpSeq = 1 << 14 // well inside the ±2^15 the 16-bit delta can express
	}
	need := c.capacity
	if m := int(b.maxNS/b.frameNS) + 2; need < m {
		need = m
	}
	n := 4
	for n < need && n < 1<<16 {
		n <<= 1
	}
	b.mask = int64(n - 1)
	b.slots = make([]slot, n)
	b.data = make([]byte, n*b.psize)
	return b
}

// Push stores a received RTP packet. seq, ts, ssrc and marker are the RTP
// header fields (RFC 3550 §5.1); payload is copied, so the caller may reuse
// it; arrival is the receive time (monotonic clock preferred).
func (b *Buffer) Push(seq uint16, ts uint32, ssrc uint32, marker bool, payload []byte, arrival time.Time) PushResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Pushed++
	if len(payload) == 0 || len(payload) > b.psize {
		b.st.Invalid++
		return Invalid
	}
	if !b.active {
		b.start(seq, ts, ssrc, marker, payload, arrival)
		return Accepted
	}
	if ssrc != b.ssrc {
		// RFC 3550 §8.2: a new SSRC is a new source; start afresh.
		return b.resync(seq, ts, ssrc, marker, payload, arrival)
	}

	// RFC 3550 A.1: extend the 16-bit sequence number and the 32-bit
	// timestamp against the highest seen, so wrap-around is just +1.
	dSeq := int64(int16(seq - uint16(b.maxSeq)))
	dTS := int64(int32(ts - uint32(b.maxTS)))
	eSeq, eTS := b.maxSeq+dSeq, b.maxTS+dTS

	if skew := dTS - dSeq*b.frameTS; dSeq > b.jumpSeq || dSeq < -b.jumpSeq || skew > b.jumpTS || skew < -b.jumpTS {
		if dSeq > 0 || b.badSeq.Restarted(seq) {
			// A jump ahead (or a second packet continuing a jump behind):
			// the sender restarted its numbering. Re-sync.
			return b.resync(seq, ts, ssrc, marker, payload, arrival)
		}
		// RFC 3550 A.1 bad_seq: one stray packet far behind is dropped;
		// if the next one continues from it, the source restarted.
		b.st.Late++
		return TooLate
	}
	b.badSeq.Clear()

	if dSeq == 1 && !marker && dTS >= 0 && dTS < b.frameTS {
		// The next packet starts less than a frame later: a packet time
		// shorter than the frame duration (RFC 3551 §4.5), which this
		// buffer does not join.
		b.maxSeq, b.maxTS = eSeq, eTS
		b.st.Invalid++
		return Invalid
	}

	if eSeq < b.curSeq {
		if b.started || b.maxSeq-eSeq >= int64(len(b.slots)) {
			return b.rejectOld(eSeq, eTS, arrival)
		}
		b.curSeq = eSeq // reordered before playout started: lower the floor
	}
	if b.anchored && eTS < b.curTS {
		b.st.Late++
		b.observe(arrival, eTS)
		return TooLate
	}
	s := &b.slots[eSeq&b.mask]
	if (s.state == slotFull || s.state == slotSkip) && s.seq == eSeq {
		b.st.Duplicates++
		return Duplicate
	}
	if eSeq >= b.curSeq+int64(len(b.slots)) {
		b.advanceFloor(eSeq - int64(len(b.slots)) + 1)
	}
	b.store(eSeq, eTS, marker, payload)
	if dSeq < 0 {
		b.st.Reordered++
	} else {
		b.maxSeq, b.maxTS = eSeq, eTS
	}
	b.observe(arrival, eTS)
	return Accepted
}

// Skip records that sequence number seq of source ssrc was used by a packet
// that carries no audio for this buffer: comfort noise (RFC 3389) or a
// telephone-event (RFC 4733) sharing the audio's SSRC and numbering. Such
// numbers are then neither counted nor concealed as lost, and a silence
// signalled by comfort noise is a DTX gap like any other. These packets do
// not move the playout clock. Skip returns Accepted, Duplicate, TooLate
// (behind the playout point) or Invalid (no stream yet, another SSRC, or
// beyond the window); it never restarts the stream.
func (b *Buffer) Skip(seq uint16, ssrc uint32) PushResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.active || ssrc != b.ssrc {
		return Invalid
	}
	dSeq := int64(int16(seq - uint16(b.maxSeq)))
	eSeq := b.maxSeq + dSeq
	if dSeq > b.jumpSeq || eSeq >= b.curSeq+int64(len(b.slots)) {
		return Invalid
	}
	s := &b.slots[eSeq&b.mask]
	if s.state != slotEmpty && s.seq == eSeq {
		return Duplicate
	}
	if eSeq < b.curSeq {
		return TooLate
	}
	*s = slot{seq: eSeq, state: slotSkip}
	if dSeq > 0 {
		b.maxSeq = eSeq // not maxTS: these timestamps are not on the audio grid
	}
	b.st.NonAudio++
	return Accepted
}

// Pop returns the frame due at now. The playout clock calls it once per frame
// duration. On Frame, dst[:n] holds the payload (dst should have room for the
// payload size; a longer payload is truncated). See PopStatus for the rest.
func (b *Buffer) Pop(now time.Time, dst []byte) (n int, st PopStatus) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lostSeq = -1
	if !b.active {
		return 0, Empty
	}
	t := b.rel(now)
	if t > b.lastNow {
		b.lastNow = t
	}
	target := b.target(t)
	b.st.TargetDelay = time.Duration(target)

	if !b.anchored {
		if b.count == 0 {
			return 0, Empty
		}
		e := b.earliest()
		if e == nil {
			return 0, Empty
		}
		// The first packet plays at the tick nearest to the target delay
		// after its on-time arrival.
		if t < b.onTime(e.ts)+target-b.frameNS/2 {
			return 0, Buffering
		}
		b.anchored, b.started = true, true
		b.curSeq, b.curTS = e.seq, e.ts
		b.underrun, b.stalled = 0, 0
	}

	delay := t - b.onTime(b.curTS)
	if delay > b.maxNS {
		// Never play later than the maximum delay: skip whole frames.
		k := (delay - b.maxNS + b.frameNS - 1) / b.frameNS
		if k > 2*int64(len(b.slots)) {
			// The clock jumped (a stalled caller): start over.
			b.restart()
			return 0, Empty
		}
		for ; k > 0; k-- {
			b.skip()
		}
		delay = t - b.onTime(b.curTS)
	}
	return b.next(t, delay, target, dst)
}

// start begins a new stream with its first packet.
func (b *Buffer) start(seq uint16, ts uint32, ssrc uint32, marker bool, payload []byte, arrival time.Time) {
	b.active, b.ssrc = true, ssrc
	b.maxSeq, b.maxTS = int64(seq), int64(ts)
	b.badSeq.Clear()
	b.base, b.baseTS = arrival, int64(ts)
	b.anchored, b.started = false, false
	b.curSeq, b.curTS = b.maxSeq, b.maxTS
	b.underrun, b.stalled = 0, 0
	b.lastShrink, b.lastNow = 0, 0
	b.haveTransit, b.lastTransit, b.jitter16 = false, 0, 0
	b.minCur, b.minPrev, b.minStart, b.baseTransit = 0, 0, 0, 0
	b.peak, b.peakAt = 0, 0
	b.hold, b.episodeAt, b.episodes = minHold, 0, 0
	b.store(b.maxSeq, b.maxTS, marker, payload)
	b.observe(arrival, b.maxTS)
}

func (b *Buffer) resync(seq uint16, ts uint32, ssrc uint32, marker bool, payload []byte, arrival time.Time) PushResult {
	b.st.Resets++
	b.flush()
	b.start(seq, ts, ssrc, marker, payload, arrival)
	return Reset
}

func (b *Buffer) flush() {
	for i := range b.slots {
		if b.slots[i].state == slotFull {
			b.st.Flushed++
		}
		b.slots[i] = slot{}
	}
	b.count = 0
}

// restart drops everything buffered and waits for the next packet to
// schedule playout afresh, keeping the stream's numbering.
func (b *Buffer) restart() {
	for i := range b.slots {
		switch b.slots[i].state {
		case slotFull:
			b.slots[i].state = slotDone
			b.st.Dropped++
		case slotSkip:
			b.slots[i].state = slotDone
		}
	}
	b.count = 0
	b.anchored = false
	b.curSeq = b.maxSeq + 1
	b.underrun, b.stalled = 0, 0
}

// Stats returns a snapshot of the counters and timing figures.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	s.Buffered = b.count
	j := b.jitter16 >> 4
	s.Jitter = time.Duration(j)
	s.JitterRTP = uint32(j * b.rate / int64(time.Second))
	if b.active {
		s.PeakJitter = time.Duration(b.effPeak(b.lastNow))
		s.TargetDelay = time.Duration(b.target(b.lastNow))
	} else {
		s.PeakJitter = 0
		s.TargetDelay = time.Duration(min(max(b.frameNS, b.minNS), b.maxNS))
	}
	return s
}

// Reset empties the buffer and zeroes the statistics, keeping the options
// and memory, so a Buffer can be reused for another call.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.slots {
		b.slots[i] = slot{}
	}
	b.count = 0
	b.active = false
	b.anchored, b.started = false, false
	b.st = Stats{}
}
