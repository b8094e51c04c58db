package load

import (
	"math"
	"time"
)

// pacer spaces call starts by interval: a call starts at its turn or, when
// it was not ready then (every call slot was busy), as soon as it is ready.
// A late call moves the schedule: the calls after it are spaced from it, so
// the rate never goes above 1/interval to catch up.
//
// With a ramp the rate rises linearly from 0 at start to rate at
// start+ramp: the calls of an on-time schedule are where the expected
// count ∫rate(t)dt = rate·t²/(2·ramp) reaches 1, 2, 3 … (the k-th at
// sqrt(2k·ramp/rate)); a late call moves the schedule as above, never
// faster than the rate at its time.
type pacer struct {
	rate  float64
	ramp  time.Duration
	start time.Time
	next  time.Time // zero: the first call starts when ready
}

func newPacer(rate float64, ramp time.Duration, start time.Time) *pacer {
	return &pacer{rate: rate, ramp: ramp, start: start}
}

// interval is the time from a call started at t to the next: where the
// expected count grows by one.
func (p *pacer) interval(t time.Time) time.Duration {
	full := float64(time.Second) / p.rate
	tau, ramp := t.Sub(p.start).Seconds(), p.ramp.Seconds()
	if p.ramp <= 0 || tau >= ramp {
		return time.Duration(full)
	}
	tau = max(tau, 0)
	next := math.Sqrt(tau*tau + 2*ramp/p.rate)
	if next <= ramp {
		return time.Duration((next - tau) * float64(time.Second))
	}
	// The ramp ends first: the rest of the count at the full rate.
	left := 1 - p.rate*(ramp*ramp-tau*tau)/(2*ramp)
	return time.Duration((ramp-tau)*float64(time.Second) + left*full)
}

// take returns when the call that is ready at ready may start, and books
// the turn of the next one.
func (p *pacer) take(ready time.Time) time.Time {
	at := ready
	if !p.next.IsZero() && p.next.After(ready) {
		at = p.next
	}
	p.next = at.Add(p.interval(at))
	return at
}

// more reports whether call n (counted from 0), due at at, is still to be
// placed: fewer than calls placed (calls 0: no limit) and at before end
// (end zero: no limit).
func more(n, calls int, at, end time.Time) bool {
	if calls > 0 && n >= calls {
		return false
	}
	return end.IsZero() || at.Before(end)
}
