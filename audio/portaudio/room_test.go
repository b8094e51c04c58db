package portaudio

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// drainingRing is a host buffer of size frames that a device drains at
// rate frames per second from start, with queued frames in it then.
type drainingRing struct {
	size, queued, rate int
	start              time.Time
	err                error
	calls              int
}

func (r *drainingRing) avail() (int, error) {
	r.calls++
	if r.err != nil {
		return 0, r.err
	}
	played := int(time.Since(r.start).Seconds() * float64(r.rate))
	return r.size - max(r.queued-played, 0), nil
}

func TestRoomWait(t *testing.T) {
	done := make(chan struct{})
	t.Run("returns once at most keep frames are queued", func(t *testing.T) {
		// 240 frames at 8 kHz, 200 queued, keep 80: 120 frames (15 ms) to drain.
		r := &drainingRing{size: 240, queued: 200, rate: 8000, start: time.Now()}
		rm := newRoom(r.avail, 80, 80, 8000)
		rm.size = 240
		if !rm.wait(done) {
			t.Fatal("wait = false")
		}
		n, _ := r.avail()
		if q := 240 - n; q > 80 {
			t.Errorf("returned with %d frames queued, want ≤ 80", q)
		}
		if r.calls > 8 {
			t.Errorf("%d polls: the wait should sleep for the deficit, not spin", r.calls)
		}
	})
	t.Run("an empty buffer needs no wait", func(t *testing.T) {
		r := &drainingRing{size: 240, rate: 8000, start: time.Now()}
		rm := newRoom(r.avail, 80, 80, 8000)
		if !rm.wait(done) || r.calls != 1 || rm.size != 240 {
			t.Errorf("calls %d size %d", r.calls, rm.size)
		}
	})
	t.Run("a buffer that never drains is written after maxRoomWait", func(t *testing.T) {
		r := &drainingRing{size: 240, queued: 240, rate: 0, start: time.Now()}
		rm := newRoom(func() (int, error) { r.calls++; return 0, nil }, 80, 80, 8000)
		rm.size = 240
		t0 := time.Now()
		if !rm.wait(done) {
			t.Fatal("wait = false")
		}
		if el := time.Since(t0); el < maxRoomWait {
			t.Errorf("returned after %v, before maxRoomWait", el)
		}
	})
	t.Run("a device that cannot tell is written at once", func(t *testing.T) {
		r := &drainingRing{err: errors.New("not supported")}
		if !newRoom(r.avail, 80, 80, 8000).wait(done) || r.calls != 1 {
			t.Error("want one call and true")
		}
		var nilRoom *room
		if !nilRoom.wait(done) {
			t.Error("nil room: want true")
		}
	})
	t.Run("done stops the wait", func(t *testing.T) {
		stop := make(chan struct{})
		close(stop)
		rm := newRoom(func() (int, error) { return 0, nil }, 80, 80, 8000)
		rm.size = 240
		if rm.wait(stop) {
			t.Error("wait = true after done")
		}
	})
}

func TestRoomFollowsNudges(t *testing.T) {
	done := make(chan struct{})
	polls := 0
	empty := func() (int, error) { polls++; return 240, nil }

	t.Run("a nudge is written at once, without polling the device", func(t *testing.T) {
		nudges := make(chan struct{}, 1)
		rm := newRoom(func() (int, error) { polls++; return 0, nil }, 80, 80, 8000) // full: room would wait
		rm.size = 240
		rm.follow(nudges)
		nudges <- struct{}{}
		polls = 0
		if !rm.wait(done) || !rm.following {
			t.Fatalf("following = %v", rm.following)
		}
		// Following: the next nudge is waited for, the device not polled.
		polls = 0
		rm.lastWrite = time.Now().Add(-audio.FrameDuration) // the last write was a frame ago
		nudges <- struct{}{}
		if !rm.wait(done) || !rm.following || polls != 0 {
			t.Errorf("following = %v after %d polls", rm.following, polls)
		}
	})
	t.Run("a nudge for the frame just written is passed over; without nudges the loop goes back to room", func(t *testing.T) {
		nudges := make(chan struct{}, 1)
		rm := newRoom(empty, 80, 80, 8000)
		rm.follow(nudges)
		rm.write(true) // just wrote on a nudge
		rm.nudged = rm.lastWrite
		nudges <- struct{}{} // a second writer of the same period
		polls = 0
		t0 := time.Now()
		if !rm.wait(done) {
			t.Fatal("wait = false")
		}
		if rm.following || polls == 0 {
			t.Errorf("following = %v after %d polls: want back to room", rm.following, polls)
		}
		if el := time.Since(t0); el < followGap/2 {
			t.Errorf("returned after %v: the sibling nudge was written", el)
		}
	})
	t.Run("done stops a wait for a nudge", func(t *testing.T) {
		nudges := make(chan struct{}, 1)
		rm := newRoom(empty, 80, 80, 8000)
		rm.follow(nudges)
		rm.write(true)
		rm.nudged = rm.lastWrite
		stop := make(chan struct{})
		close(stop)
		if rm.wait(stop) {
			t.Error("wait = true after done")
		}
	})
}

func TestRoomPadAndDrop(t *testing.T) {
	rm := newRoom(func() (int, error) { return 0, nil }, 80, 80, 8000)
	if pad, drop := rm.plan(); pad != 0 || drop != 0 {
		t.Errorf("not following: plan = %d, %d", pad, drop)
	}
	rm.following = true
	rm.wrote(80, true) // an underflow
	if pad, drop := rm.plan(); pad != 1 || drop != 0 {
		t.Errorf("after an underflow: plan = %d, %d, want a chunk of padding", pad, drop)
	}
	if pad, drop := rm.plan(); pad != 0 || drop != 0 {
		t.Errorf("padding twice: plan = %d, %d", pad, drop)
	}
	for range levelWindow {
		rm.wrote(240, false) // full every time
	}
	if pad, drop := rm.plan(); pad != 0 || drop != 1 {
		t.Errorf("after a full window: plan = %d, %d, want one chunk dropped", pad, drop)
	}
	rm.following = false
	rm.wrote(0, true)
	if pad, drop := rm.plan(); pad != 0 || drop != 0 {
		t.Errorf("an underflow while not following: plan = %d, %d", pad, drop)
	}
	// A correction planned before the writer stopped is not carried into
	// the next time the loop follows.
	rm.following = true
	rm.wrote(80, true)
	rm.following = false
	rm.write(true)
	if pad, drop := rm.plan(); pad != 0 || drop != 0 {
		t.Errorf("following again: plan = %d, %d, want a fresh start", pad, drop)
	}
	if rm.queued() != 0 {
		t.Errorf("queued = %d while following, want the device's report", rm.queued())
	}
	rm.following = false
	if rm.queued() != -1 {
		t.Error("queued asked the device while not following")
	}
}

func TestLevel(t *testing.T) {
	// 8 kHz, keep 80 frames (10 ms), chunks of 80: a drop needs every
	// write of the window to find at least 240 frames (30 ms) queued.
	for _, tc := range []struct {
		name   string
		queued []int // one window; -1: the device cannot tell
		want   int
	}{
		{"at keep", []int{80, 80, 80, 80, 80, 80, 80, 80, 80, 80}, 0},
		{"a chunk over keep (the report may lag a period)", []int{160, 160, 160, 160, 160, 160, 160, 160, 160, 160}, 0},
		{"full all window", []int{240, 240, 240, 240, 240, 240, 240, 240, 240, 240}, 1},
		{"full but once", []int{240, 240, 240, 240, 80, 240, 240, 240, 240, 240}, 0},
		{"unknown", []int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, 0},
		{"unknown once", []int{240, 240, -1, 240, 240, 240, 240, 240, 240, 240}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := level{keep: 80, chunk: 80}
			for i, q := range tc.queued {
				got := l.observe(q)
				if i < len(tc.queued)-1 && got != 0 {
					t.Fatalf("drop %d before the window ended (write %d)", got, i)
				}
				if i == len(tc.queued)-1 && got != tc.want {
					t.Errorf("drop = %d, want %d", got, tc.want)
				}
			}
			// The next window starts afresh.
			if got := l.observe(240); got != 0 {
				t.Errorf("drop %d on the first write of a new window", got)
			}
		})
	}
}

// chunkIO records the chunks written through buf.
type chunkIO struct {
	buf    []int16
	chunks [][]int16
	fail   map[int]error // by chunk number (0-based)
}

func (c *chunkIO) write() error {
	n := len(c.chunks)
	c.chunks = append(c.chunks, append([]int16(nil), c.buf...))
	return c.fail[n]
}

func TestLoopWrite(t *testing.T) {
	frame := []int16{1, 2, 3, 4}
	for _, tc := range []struct {
		name      string
		pad, drop int
		fail      map[int]error
		want      [][]int16
		wantXrun  bool
		wantErr   bool
	}{
		{name: "whole frame", want: [][]int16{{1, 2}, {3, 4}}},
		{name: "padded", pad: 1, want: [][]int16{{0, 0}, {1, 2}, {3, 4}}},
		{name: "first chunk dropped", drop: 1, want: [][]int16{{3, 4}}},
		{name: "all dropped", drop: 2, want: nil},
		{name: "an underflow is reported, the frame still written", fail: map[int]error{0: errXrun}, want: [][]int16{{1, 2}, {3, 4}}, wantXrun: true},
		{name: "an error stops the frame", fail: map[int]error{0: errBroken}, want: [][]int16{{1, 2}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &chunkIO{buf: make([]int16, 2), fail: tc.fail}
			l := loopIO{io: c.write, buf: c.buf, isXrun: func(err error) bool { return err == errXrun }}
			xrun, err := l.write(frame, tc.pad, tc.drop)
			if xrun != tc.wantXrun || (err != nil) != tc.wantErr {
				t.Errorf("xrun %v, err %v", xrun, err)
			}
			if fmt.Sprint(c.chunks) != fmt.Sprint(tc.want) {
				t.Errorf("wrote %v, want %v", c.chunks, tc.want)
			}
		})
	}
}
