package device

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
)

const (
	// bufferTarget is the backlog (in frames) a Buffer from NewBuffer lets
	// its reader keep for good: enough for scheduling jitter between the
	// two clocks, and for a writer that keeps a few frames queued.
	bufferTarget = 2
	// bufferDriftReads is how many consecutive reads must leave more than
	// bufferTarget frames queued before one frame is dropped: the writer's
	// clock runs faster than the reader's.
	bufferDriftReads = 50
	// bufferTrimReads is the window, in reads, over which a Buffer from
	// NewLowLatencyBuffer watches its backlog: when every read of a window found at least two frames
	// queued, the frames that were never needed are dropped, so the
	// reader takes each frame within one period of its arrival. 10 reads
	// are 200 ms of the media clock.
	bufferTrimReads = 10
	// bufferRaceHoldMin and bufferRaceHoldMax bound how many reads (1 s to
	// 30 s) a Buffer from NewLowLatencyBuffer keeps one frame of margin
	// after its writer came late (a read found nothing, the next two
	// frames): a writer whose phase is within its jitter of the reader's
	// would otherwise be trimmed back and miss a read (a gap heard) every
	// few hundred ms.
	bufferRaceHoldMin = 50
	bufferRaceHoldMax = 1500
	// bufferIdleGap is the pause in reading after which queued frames are
	// stale: the next read skips to the newest frame.
	bufferIdleGap = 200 * time.Millisecond
	// minBufferCapacity is the least capacity of a Buffer, in frames.
	minBufferCapacity = 3
)

// Buffer is a frame queue between two clocks (the sound card and the 20 ms
// media clock) that keeps the latency it adds low. It is an audio.Sink for
// the writer and an audio.Source for the reader (silence on underrun), and
// neither side ever blocks. Frames are audio.FrameSamples long unless made
// with NewBufferAt or NewLowLatencyBufferAt.
//
// A plain ring keeps whatever backlog it once built up: a microphone ring
// that filled while no call was reading would delay every later call by
// its whole capacity, and a burst at start-up would delay the rest of the
// call. A Buffer therefore
//   - drops all but the newest frame when its reader comes back after a
//     pause of more than 200 ms (or first reads that long after NewBuffer),
//   - drops one frame when more than two stay queued for a second of
//     reads (the writer's clock is faster than the reader's) or, for a
//     Buffer from NewLowLatencyBuffer, drops the frames that are never
//     needed: when every read for 200 ms found at least two frames queued
//     (the fewest it found being k), it drops k-1 of the oldest, so that
//     a read finds one frame and leaves none behind. A writer whose phase
//     or clock jitters against the reader's keeps the extra frame it
//     needs, since its reads sometimes find just one;
//   - overwrites the oldest frame when full.
//
// It is safe for concurrent use by one writer and one reader; it does not
// allocate after NewBuffer.
type Buffer struct {
	ring *mix.Ring

	mu        sync.Mutex // guards the reader's state
	last      time.Time  // previous read (creation before the first)
	tight     bool       // NewLowLatencyBuffer: trim to what the reader needs
	high      int        // consecutive reads that left more than bufferTarget frames
	reads     int        // reads in the current trim window
	fewest    int        // fewest frames a read of the window found
	starved   bool       // the last read found no frame, the one before did
	flowing   bool       // the last read found a frame
	hold      int        // reads left without trimming (see bufferRaceHoldMin)
	raceHold  int        // the last hold given
	sinceRace int        // reads since the last late writer
	trimmed   uint64
	now       func() time.Time

	written atomic.Int64 // when the last frame was written: time since epoch, 0 for never
}

// NewBuffer returns a Buffer holding up to capacity frames (at least 3)
// that lets its reader keep a backlog of up to two frames: for a writer
// that keeps a few frames queued on purpose (such as Device.Sink's).
func NewBuffer(capacity int) *Buffer { return NewBufferAt(capacity, audio.FrameSamples) }

// NewBufferAt is NewBuffer for frames of frameSamples samples.
func NewBufferAt(capacity, frameSamples int) *Buffer {
	return &Buffer{
		ring: mix.NewRing(max(capacity, minBufferCapacity), frameSamples, mix.OverwriteOldest),
		last: time.Now(), // a first read long after creation finds stale frames
		now:  time.Now,
	}
}

// NewLowLatencyBuffer returns a Buffer holding up to capacity frames (at
// least 3) that keeps no more queued than its reader needs: between a
// device and the media clock, each writing and reading one frame per
// 20 ms, a frame waits less than one period (plus what the two clocks'
// jitter needs).
func NewLowLatencyBuffer(capacity int) *Buffer {
	return NewLowLatencyBufferAt(capacity, audio.FrameSamples)
}

// NewLowLatencyBufferAt is NewLowLatencyBuffer for frames of frameSamples
// samples.
func NewLowLatencyBufferAt(capacity, frameSamples int) *Buffer {
	b := NewBufferAt(capacity, frameSamples)
	b.tight = true
	return b
}

// WriteFrame implements audio.Sink: it queues a copy of src, overwriting
// the oldest frame when the Buffer is full.
func (b *Buffer) WriteFrame(src []int16) error {
	b.ring.Write(src)
	b.written.Store(max(int64(time.Since(epoch)), 1))
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
		b.high, b.reads = 0, 0
	}
	b.last = now
	if b.tight {
		b.trimLocked(dst)
	} else if b.ring.Len() > bufferTarget+1 {
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

// trimLocked drops, at the end of each window of bufferTrimReads reads,
// the frames every read of the window found queued beyond the one it took.
func (b *Buffer) trimLocked(scratch []int16) {
	n := b.ring.Len()
	b.sinceRace++
	if b.starved && n >= 2 {
		// The last read found nothing amid a flow of frames, and this one
		// two frames: the writer was late, not gone. Keep that frame of
		// margin for a while rather than trim it and be late again: 1 s
		// the first time (a start-up transient), twice as long each time
		// it happens again (the writer's phase is too close to the
		// reader's), back to 1 s after a quiet bufferRaceHoldMax.
		if b.raceHold == 0 || b.sinceRace > b.raceHold+bufferRaceHoldMax {
			b.raceHold = bufferRaceHoldMin
		} else {
			b.raceHold = min(2*b.raceHold, bufferRaceHoldMax)
		}
		b.hold, b.sinceRace = b.raceHold, 0
	}
	b.starved = n == 0 && b.flowing // a gap in a flow, not before it
	b.flowing = n > 0
	if b.hold > 0 {
		b.hold--
		b.reads = 0
		return
	}
	if b.reads == 0 || n < b.fewest {
		b.fewest = n
	}
	if b.reads++; b.reads >= bufferTrimReads {
		for k := b.fewest; k > 1; k-- { // never needed: drop the oldest
			b.ring.Read(scratch[:0])
			b.trimmed++
		}
		b.reads = 0
	}
}

// epoch is the base of Buffer.written (monotonic).
var epoch = time.Now()

// LastFrameAt returns when the last frame was written, and false before
// the first. For a Buffer filled by a device, that is the phase of the
// device's clock: the media engine ticks just after it (see
// media.FrameClock), so captured frames are sent as soon as they exist.
func (b *Buffer) LastFrameAt() (time.Time, bool) {
	w := b.written.Load()
	if w == 0 {
		return time.Time{}, false
	}
	return epoch.Add(time.Duration(w)), true
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
