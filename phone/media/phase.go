package media

import (
	"time"

	"github.com/teaphone/teaphone/audio"
)

// phase keeps the clock's ticks just after a capture device's frames (see
// FrameClock). It belongs to the clock goroutine.
type phase struct {
	aligned bool          // the phase has been set for the current device
	min     time.Duration // least lag in the window
	n       int           // lags in the window
	shifted bool          // the schedule just moved
}

// check looks at how long ago fc's device delivered its last frame, the
// tick being due now. It returns how far to move the schedule (0: keep
// it). The first time it sees a device's phase it moves at once, to the
// next frame: the streams that read the device then send their very first
// packets at the new phase, so the far end's playout never sees it move.
// After that it moves only when the least lag over phaseWindow ticks (a
// late tick says nothing about the device) leaves the margin, when the
// two clocks drift apart.
func (p *phase) check(fc FrameClock) time.Duration {
	if fc == nil {
		p.aligned, p.n = false, 0
		return 0
	}
	at, ok := fc.LastFrameAt()
	if !ok {
		return 0
	}
	lag := time.Since(at)
	if lag < 0 || lag >= phaseStale {
		p.aligned, p.n = false, 0 // the device stalled: align afresh when it is back
		return 0
	}
	lag %= audio.FrameDuration
	inBand := lag >= phaseMargin/2 && lag <= phaseMargin+phaseSlack
	if !p.aligned {
		p.aligned, p.n = true, 0
		if inBand {
			return 0
		}
		// Wait for the device's next frame (the last one is either too
		// fresh to trust or already waited for too long).
		if lag < phaseMargin/2 {
			return phaseMargin - lag
		}
		return audio.FrameDuration - lag + phaseMargin
	}
	if p.n == 0 || lag < p.min {
		p.min = lag
	}
	if p.n++; p.n < phaseWindow {
		return 0
	}
	p.n = 0
	if p.min >= phaseMargin/2 && p.min <= phaseMargin+phaseSlack {
		return 0
	}
	return phaseMargin - p.min // earlier (negative) when the lag grew
}
