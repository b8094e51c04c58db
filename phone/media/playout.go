package media

import (
	"slices"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// DeviceSink is implemented by an audio.Sink whose frames play on a
// device with a clock of its own (a sound card), where every millisecond a
// frame waits before it is played is heard as delay.
//
// The engine's tick follows the capture device (see FrameClock), so a
// packet from the far end usually arrives somewhere between two ticks and
// would wait for the next one before it is played: up to a whole frame.
// When an active stream's sink is on a device, the engine therefore plays
// out on a second schedule of its own, a little after that stream's
// packets arrive, and sends on the first (see playPhase).
//
// Played is called after every tick that played out (wrote each stream's
// frame to its sink), once all its streams have written: the device may
// take the tick's frames now rather than on its own next period, and finds
// every call's frame there.
type DeviceSink interface {
	OnDevice() bool
	Played()
}

const (
	// playGuard is how long after a packet's arrival the play tick aims
	// to come: room for the arrival's own jitter and for the tick's
	// timer.
	playGuard = 3 * time.Millisecond
	// playSlackEarly and playSlackLate are how far the play tick may drift
	// from playGuard after the arrivals (toward them, or away) before the
	// schedule moves.
	playSlackEarly = 500 * time.Microsecond
	playSlackLate  = 2 * time.Millisecond
	// playWindow is how many arrivals the schedule watches before it
	// moves; the latest but one counts, so one late packet does not move
	// it (the jitter buffer is there for those).
	playWindow = 10
	// playStale is the silence of the stream after which its arrivals say
	// nothing about its phase any more.
	playStale = 5 * audio.FrameDuration
	// playSpreadMax is the widest spread of a window's arrival phases
	// (around the 20 ms circle) the schedule still follows. Arrivals
	// jittered more than that have no phase to follow: moving after the
	// earliest ones only finds others "too close" next time, the schedule
	// walks later window after window (about 2 % slower than the frame
	// rate under 20-60 ms of jitter), the device starves and the jitter
	// buffer drops frames to catch up. It stays put instead, and the
	// jitter buffer takes the jitter.
	playSpreadMax = 8 * time.Millisecond
)

// playPhase keeps a play schedule (at + k·20 ms) just after a stream's
// packets arrive. It belongs to the clock goroutine.
type playPhase struct {
	on   bool      // the schedule is set
	at   time.Time // a tick of the schedule
	last time.Time // the last arrival seen
	errs [playWindow]time.Duration
	n    int
}

// observe looks at the stream's latest packet arrival at time now and
// returns whether the schedule was (re)set. A zero arrival, or one older
// than playStale, turns the schedule off.
func (p *playPhase) observe(arrival, now time.Time) (moved bool) {
	if arrival.IsZero() || now.Sub(arrival) > playStale {
		p.on, p.n = false, 0
		return false
	}
	if arrival.Equal(p.last) {
		return false
	}
	p.last = arrival
	if !p.on {
		p.on, p.n = true, 0
		p.at = arrival.Add(playGuard)
		return true
	}
	// How much later than playGuard after the arrival the schedule's next
	// tick comes, in [-10 ms, 10 ms): negative means too close to the
	// arrival (or before it).
	d := p.at.Sub(arrival) % audio.FrameDuration
	if d < 0 {
		d += audio.FrameDuration
	}
	e := (d-playGuard+audio.FrameDuration/2)%audio.FrameDuration - audio.FrameDuration/2
	p.errs[p.n] = e
	if p.n++; p.n < playWindow {
		return false
	}
	p.n = 0
	if phaseSpread(p.errs[:]) > playSpreadMax {
		return false
	}
	// The second least: the latest arrival but one.
	lo, lo2 := p.errs[0], time.Duration(1<<62)
	for _, x := range p.errs[1:] {
		switch {
		case x < lo:
			lo, lo2 = x, lo
		case x < lo2:
			lo2 = x
		}
	}
	if lo2 >= -playSlackEarly && lo2 <= playSlackLate {
		return false
	}
	p.at = p.at.Add(-lo2)
	return true
}

// next returns the schedule's first tick more than half a frame after
// last, the last tick that played: right after the schedule moved later by
// a little, its first tick after last is in the period last just played,
// and one frame would be played twice as fast. Ticks are therefore 10 to
// 30 ms apart while the schedule moves.
func (p *playPhase) next(last time.Time) time.Time {
	return p.after(last.Add(audio.FrameDuration / 2))
}

// after returns the schedule's first tick after t.
func (p *playPhase) after(t time.Time) time.Time {
	k := t.Sub(p.at) / audio.FrameDuration
	n := p.at.Add(k * audio.FrameDuration)
	for !n.After(t) {
		n = n.Add(audio.FrameDuration)
	}
	for n.Sub(t) > audio.FrameDuration {
		n = n.Add(-audio.FrameDuration)
	}
	return n
}

// phaseSpread is how much of the frame circle errs (each in [-10 ms,
// 10 ms)) cover: a frame less the widest gap between neighbours, the gap
// across the wrap included.
func phaseSpread(errs []time.Duration) time.Duration {
	var sorted [playWindow]time.Duration
	n := copy(sorted[:], errs)
	s := sorted[:n]
	slices.Sort(s)
	if n < 2 {
		return 0
	}
	gap := s[0] + audio.FrameDuration - s[n-1]
	for i := 1; i < n; i++ {
		gap = max(gap, s[i]-s[i-1])
	}
	return audio.FrameDuration - gap
}
