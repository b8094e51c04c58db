package jitter

import "time"

// next decides what to play at t; the playout point is anchored.
func (b *Buffer) next(t, delay, target int64, dst []byte) (int, PopStatus) {
	floor := target - b.frameNS/2 // the least delay playout starts at
	b.passSkipped()
	var e *slot
	if b.count > 0 {
		e = b.earliest()
	}
	if e == nil {
		// Underrun. The frame may be late (jitter) or the talkspurt over
		// (DTX): hold the playout point, which grows the delay by a frame,
		// unless that would pass the maximum delay.
		b.underrun++
		b.lostSeq = b.curSeq
		if delay+b.frameNS <= b.maxNS {
			b.stalled++
		} else {
			b.curTS += b.frameTS
		}
		if b.underrun <= b.conceal {
			b.st.Concealed++
			return 0, Lost
		}
		return 0, Empty
	}

	if e.seq > b.curSeq {
		missing := b.missing(e.seq)
		if gap := e.ts - b.curTS; gap > 0 && gap <= missing*b.frameTS && b.stalled > 0 {
			// The underrun was loss, not delay: the held frames already
			// covered missing ones. Give that time back.
			k := min(b.stalled, missing)
			b.st.Lost += uint64(k)
			for range k {
				b.curSeq++
				b.passSkipped()
			}
			b.curTS += k * b.frameTS
			b.stalled -= k
			delay -= k * b.frameNS
			missing -= k
		}
		if missing > 0 {
			gap := e.ts - b.curTS
			switch {
			case gap <= 0:
				// The missing frames' slots have passed; play e now.
				b.st.Lost += uint64(missing)
				b.curSeq = e.seq
			case gap <= missing*b.frameTS:
				// A frame is missing at the playout point.
				b.st.Concealed++
				b.lostSeq = b.curSeq
				if delay+b.frameNS <= target {
					// Below target: wait for it (it may be reordered)
					// and so grow the delay by one frame.
					b.stalled++
					return 0, Lost
				}
				b.st.Lost++
				b.curSeq++
				b.passSkipped()
				b.curTS += b.frameTS
				return 0, Lost
			default:
				// More time than the missing packets explain: they were
				// the end of a talkspurt before a silence (DTX) gap.
				b.st.Lost += uint64(missing)
				b.curSeq = e.seq
			}
		}
	}

	// e is at the playout point.
	if e.ts > b.curTS || e.marker {
		// A talkspurt starts (RFC 3551 §4.1 marker bit, or a timestamp
		// gap: DTX). Schedule it afresh at the target delay: this is where
		// the delay shrinks or grows without cutting speech.
		if t < b.onTime(e.ts)+target-b.frameNS/2 {
			return 0, Buffering
		}
		b.curTS = max(b.curTS, e.ts)
	} else if delay-b.frameNS >= floor && t-b.lastShrink >= shrinkEvery {
		// Too much delay in a talkspurt: drop this frame if the next one is
		// here and contiguous, at most one per shrinkEvery.
		nx := &b.slots[(e.seq+1)&b.mask]
		if nx.state == slotFull && nx.seq == e.seq+1 && nx.ts == e.ts+b.frameTS && !nx.marker {
			b.discard(e)
			b.st.Dropped++
			b.curSeq, b.curTS = nx.seq, nx.ts
			b.lastShrink = t
			e = nx
		}
	}
	return b.play(e, t, dst)
}

// play copies e to dst and advances the playout point past it.
func (b *Buffer) play(e *slot, t int64, dst []byte) (int, PopStatus) {
	i := int(e.seq & b.mask)
	n := copy(dst, b.data[i*b.psize:i*b.psize+e.n])
	if e.ts > b.curTS {
		b.curTS = e.ts
	}
	b.st.CurrentDelay = time.Duration(t - b.onTime(b.curTS))
	b.curTS += b.frameTS
	b.curSeq = e.seq + 1
	b.discard(e)
	b.underrun, b.stalled = 0, 0
	b.st.Played++
	return n, Frame
}

// skip advances the playout point by one frame, discarding the frame due.
func (b *Buffer) skip() {
	b.passSkipped()
	if b.count > 0 {
		if e := b.earliest(); e != nil {
			switch {
			case e.seq == b.curSeq && e.ts <= b.curTS:
				b.discard(e)
				b.st.Dropped++
				b.curSeq++
			case e.seq > b.curSeq && e.ts-b.curTS <= b.missing(e.seq)*b.frameTS:
				b.st.Lost++
				b.curSeq++
				b.passSkipped()
			}
		}
	}
	b.curTS += b.frameTS
	b.stalled = 0
}

// earliest returns the buffered packet with the lowest sequence number, or
// nil. All buffered packets lie in [curSeq, curSeq+capacity).
func (b *Buffer) earliest() *slot {
	end := min(b.maxSeq, b.curSeq+b.mask)
	for s := b.curSeq; s <= end; s++ {
		sl := &b.slots[s&b.mask]
		if sl.state == slotFull && sl.seq == s {
			return sl
		}
	}
	b.count = 0 // unreachable while the window invariant holds
	return nil
}

// passSkipped moves the playout point past sequence numbers marked by Skip.
func (b *Buffer) passSkipped() {
	for range len(b.slots) {
		sl := &b.slots[b.curSeq&b.mask]
		if sl.state != slotSkip || sl.seq != b.curSeq {
			return
		}
		sl.state = slotDone
		b.curSeq++
	}
}

// missing counts the sequence numbers in [curSeq, to) without a packet and
// not marked by Skip.
func (b *Buffer) missing(to int64) int64 {
	n := to - b.curSeq
	for s := b.curSeq; s < to && s < b.curSeq+int64(len(b.slots)); s++ {
		if sl := &b.slots[s&b.mask]; sl.state == slotSkip && sl.seq == s {
			n--
		}
	}
	return n
}

func (b *Buffer) store(eSeq, eTS int64, marker bool, payload []byte) {
	i := eSeq & b.mask
	b.slots[i] = slot{seq: eSeq, ts: eTS, n: len(payload), state: slotFull, marker: marker}
	copy(b.data[int(i)*b.psize:], payload)
	b.count++
	b.st.Accepted++
}

func (b *Buffer) discard(s *slot) {
	s.state = slotDone
	b.count--
}

// advanceFloor moves the window floor to f, dropping older packets: the
// buffer is full because nobody Pops, or Pops lag far behind.
func (b *Buffer) advanceFloor(f int64) {
	end := min(f, b.curSeq+int64(len(b.slots)))
	present := int64(0)
	for s := b.curSeq; s < end; s++ {
		sl := &b.slots[s&b.mask]
		if sl.state == slotFull && sl.seq == s {
			b.discard(sl)
			b.st.Dropped++
			present++
		} else if sl.state == slotSkip && sl.seq == s {
			sl.state = slotDone
			present++
		}
	}
	if b.started {
		b.st.Lost += uint64(f - b.curSeq - present)
	}
	b.curSeq = f
}

// rejectOld answers a packet below the window floor.
func (b *Buffer) rejectOld(eSeq, eTS int64, arrival time.Time) PushResult {
	if s := &b.slots[eSeq&b.mask]; s.state != slotEmpty && s.seq == eSeq {
		b.st.Duplicates++
		return Duplicate
	}
	b.st.Late++
	b.observe(arrival, eTS)
	return TooLate
}
