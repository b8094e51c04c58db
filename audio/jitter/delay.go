package jitter

import "time"

// observe feeds a packet's arrival into the estimators.
func (b *Buffer) observe(arrival time.Time, eTS int64) {
	now := b.rel(arrival)
	if now > b.lastNow {
		b.lastNow = now
	}
	// RFC 3550 §6.4.1: relative transit time = arrival - timestamp.
	transit := now - b.tsNS(eTS-b.baseTS)
	if b.haveTransit {
		// RFC 3550 A.8: J += (|D| - J) / 16, J kept scaled by 16.
		d := min(max(transit-b.lastTransit, b.lastTransit-transit), maxSample)
		b.jitter16 += d - (b.jitter16+8)>>4
	}
	b.lastTransit, b.haveTransit = transit, true

	// Fastest transit over the last two windows: the on-time reference.
	if now-b.minStart >= baseWindow || now < b.minStart {
		b.minPrev, b.minCur, b.minStart = b.minCur, transit, now
	} else if transit < b.minCur {
		b.minCur = transit
	}
	b.baseTransit = min(b.minPrev, b.minCur)

	dev := min(transit-b.baseTransit, maxSample)
	if dev > int64(b.st.MaxSeenJitter) {
		b.st.MaxSeenJitter = time.Duration(dev)
	}
	if dev >= 2*b.frameNS && (b.episodes == 0 || now-b.episodeAt >= episodeGap) {
		// A new spike episode. If spikes recur, hold peaks long enough
		// to cover the next one instead of paying for it with a stall.
		if b.episodes > 0 && now-b.episodeAt < peakMemory {
			b.hold = min(max(2*(now-b.episodeAt), minHold), maxHold)
		} else {
			b.hold = minHold
		}
		b.episodeAt = now
		b.episodes = min(b.episodes+1, 2)
	}
	if dev >= b.effPeak(now) {
		b.peak, b.peakAt = dev, now
	}
}

// effPeak is the peak transit deviation at t: held, then decaying linearly.
func (b *Buffer) effPeak(t int64) int64 {
	age := t - b.peakAt - b.hold
	if age <= 0 {
		return b.peak
	}
	if age > int64(time.Hour) {
		return 0
	}
	return max(b.peak-age*peakDecayPerMille/1000, 0)
}

// target is the target delay at t: half a frame plus the jitter peak (plus
// headroom as the peak grows), so that a frame scheduled at the tick
// nearest to its on-time arrival plus the target comes no earlier than the
// peak after it (see the package documentation). target - frame/2 is the
// least delay playout starts at: the floor the delay shrinks back to.
func (b *Buffer) target(t int64) int64 {
	p := b.effPeak(t)
	// Headroom: none for a peak up to a quarter frame, half a frame from
	// half a frame on.
	head := min(max(2*(p-b.frameNS/4), 0), b.frameNS/2)
	return min(max(b.frameNS/2+p+head, b.minNS), b.maxNS)
}

// onTime is when a frame with extended timestamp ts would arrive with the
// fastest recent transit, relative to the stream start.
func (b *Buffer) onTime(ts int64) int64 {
	return b.tsNS(ts-b.baseTS) + b.baseTransit
}

// rel is t relative to the stream start, in ns, clamped.
func (b *Buffer) rel(t time.Time) int64 {
	return min(max(int64(t.Sub(b.base)), -relLimit), relLimit)
}

// tsNS converts a timestamp difference to ns without overflow.
func (b *Buffer) tsNS(d int64) int64 {
	q, r := d/b.rate, d%b.rate
	const lim = 1 << 30 // seconds
	q = min(max(q, -lim), lim)
	return q*int64(time.Second) + r*int64(time.Second)/b.rate
}
