package portaudio

import (
	"time"

	"github.com/teaphone/teaphone/audio"
)

const (
	// maxRoomWait bounds one wait for room in the playback buffer: a
	// device whose free space stops growing is then written to (and
	// blocks) as before.
	maxRoomWait = 2 * audio.FrameDuration
	// followGap is how long after a writer's last nudge the playback loop
	// keeps waiting for the next one before it goes back to writing when
	// there is room.
	followGap = 2 * audio.FrameDuration
	// levelWindow is how many writes made on nudges the level watch
	// looks at before it may drop a chunk (200 ms).
	levelWindow = 10
)

// room decides when the playback loop writes, and how much.
//
// A blocking write returns once its data is in the host buffer, so a loop
// that mixes and writes again at once keeps that buffer full: every frame
// then waits behind a whole buffer (30 ms for a 20 ms latency), plus the
// time it was held in the blocked write. Instead the loop writes when one
// of two things happens:
//
//   - A writer nudges (mix.Mixer.Nudge): the media engine has just put
//     every call's frame for this period into the mixer. The loop mixes and
//     writes at once, so a frame waits for nothing but the host buffer.
//     While nudges come (at least every followGap) the loop follows them
//     only. Following a clock that is not the device's needs two
//     corrections (see level): when the device plays slower than the
//     writer writes, or when the buffer happened to be full as the loop
//     began to follow, writes block and the buffer stays full, so the loop
//     drops a chunk of a frame; after an underflow it pads one chunk of
//     silence, so that the next frames find margin again.
//   - Otherwise (no call, only tones), at most keep frames are still queued
//     for the speaker: the frame is then as fresh as it can be and plays
//     after just what keep protects against underflows.
type room struct {
	avail func() (int, error) // frames the stream can take without blocking
	keep  int                 // frames to leave queued when writing
	rate  int                 // stream rate (frames per second)
	size  int                 // the most avail ever reported: the host buffer's size
	timer *time.Timer

	nudges    <-chan struct{} // a writer's fresh frames (nil: none)
	nudged    time.Time       // the last nudge followed
	lastWrite time.Time       // the last write
	following bool            // the coming write follows a nudge
	level     level
	pad, drop int // chunks to pad before, or drop from, the next frame
}

// newRoom returns a room for a stream of rate frames per second whose
// writes are chunks of chunk frames.
func newRoom(avail func() (int, error), keep, chunk, rate int) *room {
	t := time.NewTimer(time.Hour)
	t.Stop()
	rate = max(rate, 1)
	return &room{avail: avail, keep: keep, rate: rate, timer: t, level: level{keep: keep, chunk: chunk}}
}

// follow makes the loop follow the writer nudging on ch.
func (r *room) follow(ch <-chan struct{}) { r.nudges = ch }

// wait returns true when the loop should write: on a writer's nudge, or
// when at most keep frames are queued (or the device does not tell, or
// maxRoomWait passed). It returns false when done is closed.
func (r *room) wait(done <-chan struct{}) bool {
	if r == nil {
		return true
	}
	if r.nudges != nil && r.following {
		if r.waitNudge(done) {
			return true
		}
		select {
		case <-done:
			return false
		default:
		}
		r.following = false // the writer stopped: back to room
	}
	select {
	case <-r.nudges: // a fresh frame is waiting
		r.nudged = time.Now()
		return r.write(true)
	default:
	}
	deadline := time.Now().Add(maxRoomWait)
	for {
		n, err := r.avail()
		if err != nil {
			return r.write(false)
		}
		r.size = max(r.size, n)
		queued := r.size - n
		if queued <= r.keep {
			return r.write(false)
		}
		d := time.Duration(queued-r.keep) * time.Second / time.Duration(r.rate)
		if left := time.Until(deadline); d > left {
			if left <= 0 {
				return r.write(false)
			}
			d = left
		}
		r.timer.Reset(max(d, 500*time.Microsecond))
		select {
		case <-done:
			r.timer.Stop()
			return false
		case <-r.nudges:
			r.timer.Stop()
			r.nudged = time.Now()
			return r.write(true)
		case <-r.timer.C:
		}
	}
}

// waitNudge waits for the writer's next nudge: true when it came, false
// when done was closed or followGap passed without one. A nudge within
// half a frame of the last write belongs to the frame just written (a
// second writer of the same period) and is passed over.
func (r *room) waitNudge(done <-chan struct{}) bool {
	for {
		left := time.Until(r.nudged.Add(followGap))
		if left <= 0 {
			return false
		}
		r.timer.Reset(left)
		select {
		case <-done:
			r.timer.Stop()
			return false
		case <-r.timer.C:
			return false
		case <-r.nudges:
			r.timer.Stop()
			now := time.Now()
			if now.Sub(r.lastWrite) < audio.FrameDuration/2 {
				continue
			}
			r.nudged = now
			return r.write(true)
		}
	}
}

// write records the decision to write now (on a nudge or not) and returns
// true.
func (r *room) write(onNudge bool) bool {
	r.lastWrite = time.Now()
	if onNudge && !r.following { // begins to follow: a new watch
		r.level.reset()
		r.pad, r.drop = 0, 0
	}
	r.following = onNudge
	return true
}

// onNudge reports whether the coming write follows a writer's nudge.
func (r *room) onNudge() bool { return r != nil && r.following }

// queued returns the frames queued for the speaker as the device reports
// them, or -1 when it cannot tell or the coming write does not follow a
// nudge (only then does wrote use it).
func (r *room) queued() int {
	if !r.onNudge() {
		return -1
	}
	n, err := r.avail()
	if err != nil {
		return -1
	}
	r.size = max(r.size, n)
	return r.size - n
}

// plan returns how many chunks of silence to write before the coming
// frame, and how many of its first chunks to drop.
func (r *room) plan() (pad, drop int) {
	if r == nil || !r.following {
		return 0, 0
	}
	pad, drop = r.pad, r.drop
	r.pad, r.drop = 0, 0
	return pad, drop
}

// wrote records a write: the frames queued before it (-1: unknown), and
// whether the device reported an underflow.
func (r *room) wrote(queued int, underflow bool) {
	if r == nil || !r.following {
		return
	}
	if underflow {
		r.pad = 1
		r.level.reset()
		return
	}
	r.drop = r.level.observe(queued)
}

// level watches how full the host buffer is when the playback loop writes
// on a writer's nudges, and says when to drop a chunk of a frame. Nothing
// else would ever lower it: the writer's frames come at the writer's pace,
// and a write that finds the buffer full just blocks until the device has
// played enough, every period again, so each frame waits behind a full
// buffer (if the loop began to follow while the buffer was full, or the
// writer's schedule moved earlier).
type level struct {
	keep, chunk int // frames: what to leave queued, one chunk
	n           int // writes in the window so far
	minQueued   int // the fewest frames queued before a write of the window (-1: unknown)
}

// reset starts a new window.
func (l *level) reset() { l.n = 0 }

// observe records the frames queued before one write (-1 for unknown)
// and, at the end of each window of levelWindow writes, returns 1 (drop a
// chunk of the next frame) when every write of the window found at least
// keep and two chunks queued, else 0. One chunk over keep is no proof of
// excess: devices may report less free space than they have (the ALSA
// pulse plugin's report lags by up to a period), and a drop that leaves
// too little makes the device underflow, which costs more (PulseAudio then
// refills its whole buffer before it plays again).
func (l *level) observe(queued int) (drop int) {
	if l.n == 0 {
		l.minQueued = queued
	}
	if queued < 0 || l.minQueued < 0 {
		l.minQueued = -1
	} else {
		l.minQueued = min(l.minQueued, queued)
	}
	if l.n++; l.n < levelWindow {
		return 0
	}
	l.n = 0
	if l.minQueued >= l.keep+2*l.chunk {
		return 1
	}
	return 0
}
