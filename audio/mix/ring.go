package mix

import (
	"sync"
)

// Policy says what Ring.Write does when the ring is full.
type Policy int

const (
	// DropNewest refuses the incoming frame and keeps the queued ones; use
	// it where every queued frame must play in order and a full ring means
	// the reader stalled.
	DropNewest Policy = iota
	// OverwriteOldest discards the oldest queued frame to make room; use it
	// for live audio, where late audio is worse than lost audio: the
	// latency the ring adds stays bounded by its capacity.
	OverwriteOldest
)

// String returns the policy's name.
func (p Policy) String() string {
	switch p {
	case DropNewest:
		return "drop-newest"
	case OverwriteOldest:
		return "overwrite-oldest"
	default:
		return "unknown"
	}
}

// Ring is a fixed-capacity FIFO of fixed-size frames that hands audio
// between one producer and one consumer running on different clocks (a
// sound-card callback and the 20 ms media clock). Frames are copied in and
// out of storage allocated once by NewRing.
//
// A short mutex guards each operation (one frame copy), so Write and Read
// never wait on I/O and may be called from different goroutines; several
// producers or consumers are safe too, though frames then interleave.
//
// Ring implements audio.Sink (WriteFrame) and audio.Source (ReadFrame,
// which plays silence on underrun).
type Ring struct {
	mu        sync.Mutex
	buf       []int16
	size      int // samples per frame
	cap       int // frames
	head      int // index of the oldest frame
	n         int // frames queued
	policy    Policy
	dropped   uint64
	underruns uint64
}

// NewRing returns a Ring holding up to capacity frames of frameSamples
// samples each (both at least 1).
func NewRing(capacity, frameSamples int, policy Policy) *Ring {
	capacity, frameSamples = max(capacity, 1), max(frameSamples, 1)
	return &Ring{
		buf:    make([]int16, capacity*frameSamples),
		size:   frameSamples,
		cap:    capacity,
		policy: policy,
	}
}

// frame returns the storage of slot i.
func (r *Ring) frame(i int) []int16 { return r.buf[i*r.size : (i+1)*r.size] }

// Write queues a copy of frame. A frame shorter than the ring's frame size
// is padded with silence, a longer one truncated. When the ring is full it
// applies the policy: DropNewest returns false and keeps the queue;
// OverwriteOldest discards the oldest frame and returns true. Both count a
// dropped frame.
func (r *Ring) Write(frame []int16) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == r.cap {
		r.dropped++
		if r.policy == DropNewest {
			return false
		}
		r.head = (r.head + 1) % r.cap
		r.n--
	}
	slot := r.frame((r.head + r.n) % r.cap)
	clear(slot[copy(slot, frame):])
	r.n++
	return true
}

// Read moves the oldest frame into frame (copying min(len(frame), frame
// size) samples) and returns true, or returns false and leaves frame
// untouched when the ring is empty (an underrun, counted).
func (r *Ring) Read(frame []int16) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		r.underruns++
		return false
	}
	copy(frame, r.frame(r.head))
	r.head = (r.head + 1) % r.cap
	r.n--
	return true
}

// WriteFrame implements audio.Sink with Write; a dropped frame is not an
// error (see Dropped).
func (r *Ring) WriteFrame(src []int16) error {
	r.Write(src)
	return nil
}

// ReadFrame implements audio.Source with Read, filling dst with silence
// when the ring is empty. It never returns an error.
func (r *Ring) ReadFrame(dst []int16) error {
	if !r.Read(dst) {
		clear(dst)
		return nil
	}
	if len(dst) > r.size {
		clear(dst[r.size:])
	}
	return nil
}

// Len returns the number of queued frames.
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Cap returns the capacity in frames.
func (r *Ring) Cap() int { return r.cap }

// FrameSamples returns the frame size in samples.
func (r *Ring) FrameSamples() int { return r.size }

// Dropped returns how many frames Write discarded because the ring was full.
func (r *Ring) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Underruns returns how many times Read found the ring empty.
func (r *Ring) Underruns() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.underruns
}

// Reset discards all queued frames (the counters are kept).
func (r *Ring) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.head, r.n = 0, 0
}
