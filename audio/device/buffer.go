package device

import (
	"sync"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
)

const (
	// bufferTarget is the backlog (in frames) a Buffer lets its reader
	// keep for good: enough for scheduling jitter between the two clocks.
	bufferTarget = 2
	// bufferDriftReads is how many consecutive reads must leave more than
	// bufferTarget frames queued before one frame is dropped: the writer's
	// clock runs faster than the reader's.
	bufferDriftReads = 50
	// bufferIdleGap is the pause in reading after which queued frames are
	// stale: the next read skips to the newest frame.
	bufferIdleGap = 200 * time.Millisecond
)

// Buffer is a frame queue between two clocks (the sound card and the 20 ms
// media clock) that keeps the latency it adds low. It is an audio.Sink for
// the writer and an audio.Source for the reader (silence on underrun), and
// neither side ever blocks. Frames are audio.FrameSamples long.
//
// A plain ring keeps whatever backlog it once built up: a microphone ring
// that filled while no call was reading would delay every later call by
// its whole capacity. A Buffer therefore
//   - drops all but the newest frame when its reader comes back after a
//     pause of more than 200 ms (or first reads that long after NewBuffer),
//   - drops one frame when more than two stay queued for a second of
//     reads (the writer's clock is faster than the reader's), and
//   - overwrites the oldest frame when full.
//
// It is safe for concurrent use by one writer and one reader; it does not
// allocate after NewBuffer.
type Buffer struct {
	ring *mix.Ring

	mu      sync.Mutex // guards the reader's state
	last    time.Time  // previous read (creation before the first)
	high    int        // consecutive reads that left more than bufferTarget frames
	trimmed uint64
	now     func() time.Time
}

// NewBuffer returns a Buffer holding up to capacity frames (at least
// bufferTarget+1).
func NewBuffer(capacity int) *Buffer {
	return &Buffer{
		ring: mix.NewRing(max(capacity, bufferTarget+1), audio.FrameSamples, mix.OverwriteOldest),
		last: time.Now(), // a first read long after creation finds stale frames
		now:  time.Now,
	}
}

// WriteFrame implements audio.Sink: it queues a copy of src, overwriting
// the oldest frame when the Buffer is full.
func (b *Buffer) WriteFrame(src []int16) error {
	b.ring.Write(src)
	return nil
}

// ReadFrame implements audio.Source: it moves the oldest queued frame into
// dst, or fills dst with silence when none is queued.
func (b *Buffer) ReadFrame(dst []int16) error {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.last) > bufferIdleGap {
		for b.ring.Len() > 1 { // stale: keep only the newest
			b.ring.Read(dst[:0])
			b.trimmed++
		}
		b.high = 0
	}
	b.last = now
	if b.ring.Len() > bufferTarget+1 {
		if b.high++; b.high >= bufferDriftReads {
			b.ring.Read(dst[:0])
			b.trimmed++
			b.high = 0
		}
	} else {
		b.high = 0
	}
	return b.ring.ReadFrame(dst)
}

// Len returns the number of queued frames.
func (b *Buffer) Len() int { return b.ring.Len() }

// Dropped returns how many frames were discarded: overwritten because the
// Buffer was full, or skipped to keep the latency low.
func (b *Buffer) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ring.Dropped() + b.trimmed
}

// Underruns returns how many reads found the Buffer empty.
func (b *Buffer) Underruns() uint64 { return b.ring.Underruns() }

// Reset discards all queued frames.
func (b *Buffer) Reset() { b.ring.Reset() }
