package load

import "time"

// pacer spaces call starts by interval: a call starts at its turn or, when
// it was not ready then (every call slot was busy), as soon as it is ready.
// A late call moves the schedule: the calls after it are spaced from it, so
// the rate never goes above 1/interval to catch up.
type pacer struct {
	interval time.Duration
	next     time.Time // zero: the first call starts when ready
}

func newPacer(rate float64) *pacer {
	return &pacer{interval: time.Duration(float64(time.Second) / rate)}
}

// take returns when the call that is ready at ready may start, and books
// the turn of the next one.
func (p *pacer) take(ready time.Time) time.Time {
	at := ready
	if !p.next.IsZero() && p.next.After(ready) {
		at = p.next
	}
	p.next = at.Add(p.interval)
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
