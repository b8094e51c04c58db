package portaudio

import (
	"errors"
	"testing"
	"time"
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
		rm := newRoom(r.avail, 80, 8000)
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
		rm := newRoom(r.avail, 80, 8000)
		if !rm.wait(done) || r.calls != 1 || rm.size != 240 {
			t.Errorf("calls %d size %d", r.calls, rm.size)
		}
	})
	t.Run("a buffer that never drains is written after maxRoomWait", func(t *testing.T) {
		r := &drainingRing{size: 240, queued: 240, rate: 0, start: time.Now()}
		rm := newRoom(func() (int, error) { r.calls++; return 0, nil }, 80, 8000)
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
		if !newRoom(r.avail, 80, 8000).wait(done) || r.calls != 1 {
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
		rm := newRoom(func() (int, error) { return 0, nil }, 80, 8000)
		rm.size = 240
		if rm.wait(stop) {
			t.Error("wait = true after done")
		}
	})
}
