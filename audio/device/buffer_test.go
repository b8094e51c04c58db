package device

import (
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// fakeClock advances by step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func newTestBuffer(capacity int) (*Buffer, *fakeClock) {
	b := NewBuffer(capacity)
	c := &fakeClock{t: time.Unix(1000, 0), step: audio.FrameDuration}
	b.now = c.now
	b.last = c.t
	return b, c
}

func readConst(t *testing.T, b *Buffer) int16 {
	t.Helper()
	f := make([]int16, audio.FrameSamples)
	if err := b.ReadFrame(f); err != nil {
		t.Fatal(err)
	}
	for _, s := range f[1:] {
		if s != f[0] {
			t.Fatalf("frame is not constant: %d then %d", f[0], s)
		}
	}
	return f[0]
}

func TestBufferFirstReadSoonKeepsFrames(t *testing.T) {
	b, _ := newTestBuffer(5)
	for v := int16(1); v <= 3; v++ { // written just before the reader's first pull
		b.WriteFrame(constFrame(v))
	}
	for want := int16(1); want <= 3; want++ {
		if got := readConst(t, b); got != want {
			t.Errorf("read frame %d, want %d", got, want)
		}
	}
}

func TestBufferFirstReadLateSkipsBacklog(t *testing.T) {
	b, c := newTestBuffer(5)
	for v := int16(1); v <= 8; v++ { // the device ran before anyone read
		b.WriteFrame(constFrame(v))
	}
	c.step = time.Second
	if got := readConst(t, b); got != 8 {
		t.Errorf("first read = frame %d, want the newest (8)", got)
	}
	c.step = audio.FrameDuration
	if got := readConst(t, b); got != 0 {
		t.Errorf("second read = %d, want silence (underrun)", got)
	}
	if b.Dropped() != 7 || b.Underruns() != 1 {
		t.Errorf("dropped %d, underruns %d; want 7 and 1", b.Dropped(), b.Underruns())
	}
}

func TestBufferSteadyStateKeepsEveryFrame(t *testing.T) {
	b, _ := newTestBuffer(5)
	b.ReadFrame(make([]int16, audio.FrameSamples)) // reading has started
	b.WriteFrame(constFrame(1))
	b.WriteFrame(constFrame(2)) // a jitter backlog of two frames is kept
	next := int16(3)
	for want := int16(1); want < 300; want++ {
		b.WriteFrame(constFrame(next))
		next++
		if got := readConst(t, b); got != want {
			t.Fatalf("read frame %d, want %d", got, want)
		}
	}
	if b.Dropped() != 0 {
		t.Errorf("dropped %d frames in steady state", b.Dropped())
	}
}

func TestBufferDriftDropsFrames(t *testing.T) {
	b, _ := newTestBuffer(8)
	b.ReadFrame(make([]int16, audio.FrameSamples))
	for v := int16(1); v <= 5; v++ { // a burst leaves 5 queued
		b.WriteFrame(constFrame(v))
	}
	for range 200 { // then one in, one out
		b.WriteFrame(constFrame(0))
		readConst(t, b)
	}
	if b.Len() > bufferTarget+1 {
		t.Errorf("backlog stayed at %d frames, want at most %d", b.Len(), bufferTarget+1)
	}
	if b.Dropped() == 0 || b.Dropped() > 3 {
		t.Errorf("dropped %d frames, want 1 to 3 (one per second of excess)", b.Dropped())
	}
}

func TestBufferIdleReaderSkipsStaleAudio(t *testing.T) {
	b, c := newTestBuffer(5)
	b.WriteFrame(constFrame(1))
	readConst(t, b)
	for v := int16(2); v <= 6; v++ {
		b.WriteFrame(constFrame(v))
	}
	c.step = time.Second // the reader paused
	if got := readConst(t, b); got != 6 {
		t.Errorf("after a pause read frame %d, want the newest (6)", got)
	}
}

func TestBufferNoAllocs(t *testing.T) {
	b := NewBuffer(4)
	f := make([]int16, audio.FrameSamples)
	if a := testing.AllocsPerRun(100, func() {
		b.WriteFrame(f)
		b.WriteFrame(f)
		b.ReadFrame(f)
		b.ReadFrame(f)
	}); a != 0 {
		t.Errorf("%.1f allocations per frame", a)
	}
}

func newTestLowLatencyBuffer(capacity int) (*Buffer, *fakeClock) {
	b, c := newTestBuffer(capacity)
	b.tight = true
	return b, c
}

func TestLowLatencyBufferSteadyState(t *testing.T) {
	b, _ := newTestLowLatencyBuffer(5)
	b.ReadFrame(make([]int16, audio.FrameSamples)) // reading has started
	for want := int16(1); want < 300; want++ {     // one in, one out
		b.WriteFrame(constFrame(want))
		if got := readConst(t, b); got != want {
			t.Fatalf("read frame %d, want %d", got, want)
		}
	}
	if b.Dropped() != 0 || b.Underruns() != 1 {
		t.Errorf("dropped %d frames, %d underruns in steady state; want 0 and 1 (the first read)", b.Dropped(), b.Underruns())
	}
}

func TestLowLatencyBufferJitteryWriterKeepsItsMargin(t *testing.T) {
	b, _ := newTestLowLatencyBuffer(5)
	b.ReadFrame(make([]int16, audio.FrameSamples))
	b.WriteFrame(constFrame(1)) // one frame of margin
	next, want := int16(2), int16(1)
	for i := range 300 {
		// The writer's phase wobbles around the reader's: now and then
		// its frame comes just after a read instead of just before.
		late := i%7 == 3
		if !late {
			b.WriteFrame(constFrame(next))
			next++
		}
		if got := readConst(t, b); got != want {
			t.Fatalf("read %d: frame %d, want %d", i, got, want)
		}
		want++
		if late {
			b.WriteFrame(constFrame(next))
			next++
		}
	}
	if b.Dropped() != 0 {
		t.Errorf("dropped %d frames of a jittery writer's margin", b.Dropped())
	}
}

func TestLowLatencyBufferTrimsBacklog(t *testing.T) {
	b, _ := newTestLowLatencyBuffer(8)
	b.ReadFrame(make([]int16, audio.FrameSamples))
	for v := int16(1); v <= 5; v++ { // a burst leaves 5 queued
		b.WriteFrame(constFrame(v))
	}
	next := int16(6)
	for range 2 * bufferTrimReads { // then one in, one out: trimmed within two windows
		b.WriteFrame(constFrame(next))
		next++
		readConst(t, b)
	}
	if b.Len() != 0 || b.Dropped() != 5 {
		t.Errorf("%d frames left after a read, %d dropped; want 0 and the 5 of the burst", b.Len(), b.Dropped())
	}
	for range 100 { // steady from then on: nothing more is dropped
		b.WriteFrame(constFrame(next))
		if got := readConst(t, b); got != next {
			t.Fatalf("read frame %d, want %d", got, next)
		}
		next++
	}
	if b.Dropped() != 5 {
		t.Errorf("dropped %d frames, want 5", b.Dropped())
	}
}

func TestBufferLastFrameAt(t *testing.T) {
	b := NewLowLatencyBuffer(3)
	if _, ok := b.LastFrameAt(); ok {
		t.Error("LastFrameAt reports a frame before the first write")
	}
	before := time.Now()
	b.WriteFrame(constFrame(1))
	at, ok := b.LastFrameAt()
	if !ok || at.Before(before) || time.Since(at) < 0 {
		t.Errorf("LastFrameAt = %v, %v; want a time just after %v", at, ok, before)
	}
}

func TestLowLatencyBufferWriterAtTheReadersPhase(t *testing.T) {
	b, _ := newTestLowLatencyBuffer(5)
	b.ReadFrame(make([]int16, audio.FrameSamples))
	u0 := b.Underruns()
	next := int16(1)
	for i := range 400 {
		// No margin, and now and then the writer comes just after the
		// read instead of just before it.
		late := i%50 == 25
		if !late {
			b.WriteFrame(constFrame(next))
			next++
		}
		readConst(t, b)
		if late {
			b.WriteFrame(constFrame(next))
			next++
		}
	}
	// The first late write costs one gap, the margin it leaves is kept
	// for 1 s (50 reads); the next late write after that costs another
	// and is kept 2 s, then 4 s: 3 gaps in 400 reads, not 8.
	if u := b.Underruns() - u0; u != 3 {
		t.Errorf("%d underruns (gaps heard), want 3", u)
	}
	if d := b.Dropped(); d != 2 { // the margin, trimmed after each of the first two holds
		t.Errorf("dropped %d frames, want 2", d)
	}
}
