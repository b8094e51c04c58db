package phone

import (
	"math"
	"sync"
	"time"
)

// newCallLimiter bounds how fast one source address may open dialogs: a
// token bucket per address, holding at most burst tokens and gaining rate
// of them a second, each new INVITE taking one. RFC 3261 §21.5.4 lets a
// server that is "temporarily unable to process the request due to a
// temporary overloading" answer 503 with a Retry-After; RFC 5390 §4 asks
// overload control to keep working for other sources while one floods
// (REQ 5, 7), hence a bucket per address rather than one for all.
//
// Its memory is bounded: a bucket that has refilled is the same as no
// bucket, so it is dropped when a full table is swept; and when the table
// holds maxSources addresses that still count, further addresses share one
// bucket, so that a flood from many addresses is still limited.
//
// It is pure apart from its lock: the time is passed in.
type newCallLimiter struct {
	rate       float64 // tokens a second; 0 means no limit
	burst      float64
	maxSources int

	mu        sync.Mutex
	buckets   map[string]*bucket
	shared    bucket    // for the addresses the table has no room for
	lastSweep time.Time // a full table is swept at most once a second
}

type bucket struct {
	tokens float64
	last   time.Time
}

// defaultMaxSources caps the addresses a limiter remembers.
const defaultMaxSources = 4096

// newNewCallLimiter returns a limiter of rate INVITEs a second per source
// with bursts of burst (at least 1); rate 0 or less limits nothing.
func newNewCallLimiter(rate float64, burst, maxSources int) *newCallLimiter {
	if maxSources < 1 {
		maxSources = defaultMaxSources
	}
	return &newCallLimiter{
		rate: max(rate, 0), burst: float64(max(burst, 1)), maxSources: maxSources,
		buckets: map[string]*bucket{},
	}
}

// allow takes a token of source's bucket at now. When there is none it
// returns false and how long until there is one.
func (l *newCallLimiter) allow(source string, now time.Time) (ok bool, retry time.Duration) {
	if l == nil || l.rate == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[source]
	if b == nil {
		if len(l.buckets) >= l.maxSources && now.Sub(l.lastSweep) >= time.Second {
			l.sweep(now)
		}
		if len(l.buckets) >= l.maxSources {
			b = &l.shared
		} else {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[source] = b
		}
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// refill adds the tokens earned since b.last, up to burst.
func (l *newCallLimiter) refill(b *bucket, now time.Time) {
	if b.last.IsZero() {
		b.tokens, b.last = l.burst, now
		return
	}
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt.Seconds()*l.rate)
		b.last = now
	}
}

// sweep drops the buckets that are full again at now. It walks the whole
// table, so a flood from ever new addresses sweeps once a second, not once
// a packet.
func (l *newCallLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for src, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, src)
		}
	}
}

// size is the number of addresses remembered.
func (l *newCallLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// retryAfter is the Retry-After value (RFC 3261 §20.33: whole seconds) for a
// wait: rounded up, at least 1.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
