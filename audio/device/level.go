package device

import (
	"math"
	"time"
)

// SilentDBFS is the level reported for digital silence: the floor of the
// input level meter.
const SilentDBFS = -90.0

// levelMeter keeps the loudest captured frame since the meter was last
// read, as its mean square (the capture path adds a frame with sums only;
// the logarithm is taken when a person looks). It is guarded by the Hub's
// mutex.
type levelMeter struct {
	peak float64   // greatest mean square since the last read
	at   time.Time // when a frame was last captured; zero: never
}

// add takes one captured frame.
func (l *levelMeter) add(frame []int16, now time.Time) {
	l.peak = max(l.peak, meanSquare(frame))
	l.at = now
}

// read returns the loudest level since the last read in dBFS and resets
// it; ok is false when no frame was captured within stale (no call reads
// the microphone, or the device stalled).
func (l *levelMeter) read(now time.Time, stale time.Duration) (dbfs float64, ok bool) {
	if l.at.IsZero() || now.Sub(l.at) > stale {
		return SilentDBFS, false
	}
	dbfs = msDBFS(l.peak)
	l.peak = 0
	return dbfs, true
}

// meanSquare is the mean of a frame's squared samples (0 for none).
func meanSquare(frame []int16) float64 {
	if len(frame) == 0 {
		return 0
	}
	var sum float64
	for _, s := range frame {
		v := float64(s)
		sum += v * v
	}
	return sum / float64(len(frame))
}

// msDBFS is the RMS level of a mean square in dBFS (0 dBFS: a full-scale
// square wave), SilentDBFS at the least.
func msDBFS(ms float64) float64 {
	if ms <= 0 {
		return SilentDBFS
	}
	return max(10*math.Log10(ms/(32768*32768)), SilentDBFS)
}

// levelStale is how long after the last captured frame the meter still
// has something to say.
const levelStale = 500 * time.Millisecond

// InputLevel returns the microphone's level: the RMS of the loudest 20 ms
// frame captured since the last call, in dBFS (about -9 for a sine at half
// of full scale, SilentDBFS for silence). ok is false while no call reads
// the microphone. It is meant for a level meter that a person watches to
// see that the microphone works; it does not allocate.
func (h *Hub) InputLevel() (dbfs float64, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.level.read(time.Now(), levelStale)
}
