package device

import (
	"math"
	"sync"
	"testing"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/audio/tone"
)

// fakeDevice captures frames whose samples all equal the frame number
// (1, 2, 3 …) and plays from a mixer the test pulls by hand, standing in
// for the sound card's clock.
type fakeDevice struct {
	mu     sync.Mutex
	n      int16
	mixer  *mix.Mixer
	sink   *mix.Ring
	closed int
}

func newFakeDevice() *fakeDevice {
	d := &fakeDevice{mixer: mix.NewMixer(audio.FrameSamples)}
	d.sink = mix.NewRing(4, audio.FrameSamples, mix.OverwriteOldest)
	d.mixer.Add(d.sink)
	return d
}

func (d *fakeDevice) ReadFrame(dst []int16) error {
	d.mu.Lock()
	d.n++
	v := d.n
	d.mu.Unlock()
	for i := range dst {
		dst[i] = v
	}
	return nil
}

func (d *fakeDevice) Source() audio.Source { return d }
func (d *fakeDevice) Sink() audio.Sink     { return d.sink }
func (d *fakeDevice) Playback() *mix.Mixer { return d.mixer }
func (d *fakeDevice) Close() error         { d.closed++; return nil }

// play pulls one frame from the device's mixer, as the device clock would.
func (d *fakeDevice) play(t *testing.T) []int16 {
	t.Helper()
	out := make([]int16, audio.FrameSamples)
	if err := d.mixer.ReadFrame(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func constFrame(v int16) []int16 {
	f := make([]int16, audio.FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

func wantConst(t *testing.T, what string, f []int16, v int16) {
	t.Helper()
	for i, s := range f {
		if s != v {
			t.Fatalf("%s: sample %d = %d, want %d", what, i, s, v)
		}
	}
}

func TestHubCallsShareCapture(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	srcA, _, relA := h.CallAudio()
	srcB, _, relB := h.CallAudio()
	defer relA()
	defer relB()
	a := make([]int16, audio.FrameSamples)
	b := make([]int16, audio.FrameSamples)
	for tick := int16(1); tick <= 10; tick++ {
		first, second := srcA, srcB // the engine's order within a tick varies
		if tick%2 == 0 {
			first, second = srcB, srcA
		}
		if err := first.ReadFrame(a); err != nil {
			t.Fatal(err)
		}
		if err := second.ReadFrame(b); err != nil {
			t.Fatal(err)
		}
		wantConst(t, "first reader", a, tick)
		wantConst(t, "second reader", b, tick)
	}
	// A third call joining late gets the next new frame.
	srcC, _, relC := h.CallAudio()
	defer relC()
	if err := srcC.ReadFrame(a); err != nil {
		t.Fatal(err)
	}
	wantConst(t, "late joiner", a, 11)
}

func TestHubLaggingCallSkipsAhead(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	srcA, _, relA := h.CallAudio()
	srcB, _, relB := h.CallAudio()
	defer relA()
	defer relB()
	f := make([]int16, audio.FrameSamples)
	for range 5 { // B is not read for five ticks (e.g. on hold)
		srcA.ReadFrame(f)
	}
	srcB.ReadFrame(f)
	wantConst(t, "resumed reader", f, 5) // the newest frame, not frame 1
	srcA.ReadFrame(f)
	srcB.ReadFrame(f)
	wantConst(t, "resumed reader, next tick", f, 6)

	// One tick behind stays in step (history), it does not skip.
	srcA.ReadFrame(f)
	srcA.ReadFrame(f) // A is at 8, B at 7
	srcB.ReadFrame(f)
	wantConst(t, "one behind", f, 7)
}

func TestHubSinksMixIntoPlayback(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	_, sinkA, relA := h.CallAudio()
	_, sinkB, relB := h.CallAudio()
	defer relB()
	if got := d.mixer.Len(); got != 3 { // the device's own sink + two calls
		t.Fatalf("mixer inputs = %d, want 3", got)
	}
	sinkA.WriteFrame(constFrame(1000))
	sinkB.WriteFrame(constFrame(-300))
	d.Sink().WriteFrame(constFrame(5))
	wantConst(t, "mix of two calls and the device sink", d.play(t), 705)

	sinkA.WriteFrame(constFrame(30000))
	sinkB.WriteFrame(constFrame(30000))
	wantConst(t, "saturated mix", d.play(t), math.MaxInt16)

	wantConst(t, "nothing written (underrun)", d.play(t), 0)

	relA()
	relA() // idempotent
	if got := d.mixer.Len(); got != 2 {
		t.Fatalf("mixer inputs after release = %d, want 2", got)
	}
	sinkA.WriteFrame(constFrame(1000)) // discarded
	sinkB.WriteFrame(constFrame(42))
	wantConst(t, "after release", d.play(t), 42)
}

func TestHubReleaseSilencesSource(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	src, _, release := h.CallAudio()
	f := make([]int16, audio.FrameSamples)
	src.ReadFrame(f)
	wantConst(t, "before release", f, 1)
	release()
	src.ReadFrame(f)
	wantConst(t, "after release", f, 0)
	if d.n != 1 {
		t.Errorf("released source pulled from the device: %d frames", d.n)
	}
}

func TestHubPlayTone(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	_, sink, release := h.CallAudio()
	defer release()
	stop := h.PlayTone(tone.NewSine(1000, 0.25))
	var out []int16
	for range 25 { // half a second
		sink.WriteFrame(constFrame(0))
		out = append(out, d.play(t)...)
	}
	if f := analyze.DominantFrequency(out, audio.SampleRate); math.Abs(f-1000) > 2 {
		t.Errorf("tone frequency = %.1f Hz, want 1000", f)
	}
	if share := analyze.ToneShare(out, audio.SampleRate, 1000); share < 0.99 {
		t.Errorf("tone share = %.3f, want ~1", share)
	}
	if r := analyze.RMS(out); math.Abs(r-0.25/math.Sqrt2) > 0.01 {
		t.Errorf("tone RMS = %.3f, want %.3f", r, 0.25/math.Sqrt2)
	}
	stop()
	stop()
	wantConst(t, "after stop", d.play(t), 0)

	// A tone that ends detaches itself.
	dtmf, err := tone.NewDTMF('5', 2*audio.FrameDuration, audio.FrameDuration)
	if err != nil {
		t.Fatal(err)
	}
	h.PlayTone(dtmf)
	before := d.mixer.Len()
	for range 10 {
		d.play(t)
	}
	if got := d.mixer.Len(); got != before-1 {
		t.Errorf("mixer inputs after the tone ended = %d, want %d", got, before-1)
	}
}

func TestHubNoAllocsPerFrame(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	srcA, sinkA, relA := h.CallAudio()
	srcB, sinkB, relB := h.CallAudio()
	defer relA()
	defer relB()
	stop := h.PlayTone(tone.Ring())
	defer stop()
	in := make([]int16, audio.FrameSamples)
	out := make([]int16, audio.FrameSamples)
	allocs := testing.AllocsPerRun(200, func() {
		srcA.ReadFrame(in)
		srcB.ReadFrame(in)
		sinkA.WriteFrame(in)
		sinkB.WriteFrame(in)
		d.mixer.ReadFrame(out)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per frame, want 0", allocs)
	}
}

// TestHubConcurrent runs the media clock, the device clock and call setup
// at once (for the race detector).
func TestHubConcurrent(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			f := make([]int16, audio.FrameSamples)
			for range 50 {
				src, sink, release := h.CallAudio()
				for range 10 {
					src.ReadFrame(f)
					sink.WriteFrame(f)
				}
				stop := h.PlayTone(tone.NewSine(440, 0.1))
				release()
				stop()
			}
		})
	}
	wg.Go(func() {
		f := make([]int16, audio.FrameSamples)
		for range 2000 {
			d.mixer.ReadFrame(f)
		}
	})
	wg.Wait()
	if got := d.mixer.Len(); got != 1 {
		t.Errorf("mixer inputs after all calls ended = %d, want 1 (the device sink)", got)
	}
}

func TestHubSinkOnDevice(t *testing.T) {
	onDevice := func(s audio.Sink) bool {
		d, ok := s.(interface{ OnDevice() bool })
		return ok && d.OnDevice()
	}
	h := NewHub(newFakeDevice())
	_, sink, release := h.CallAudio()
	if !onDevice(sink) {
		t.Error("a call's sink on a device with playback: OnDevice = false")
	}
	release()
	if onDevice(sink) {
		t.Error("after release: OnDevice = true")
	}
	null := NewHub(NewNull())
	_, sink, release = null.CallAudio()
	defer release()
	if onDevice(sink) {
		t.Error("a device without playback: OnDevice = true")
	}
	sink.(interface{ Played() }).Played() // no mixer to nudge: a no-op
}

// TestHubSinkPlayed: Played (the engine's tick played out) nudges the
// device's playback, so the sound card takes the frame at once; not
// after release.
func TestHubSinkPlayed(t *testing.T) {
	d := newFakeDevice()
	h := NewHub(d)
	_, sink, release := h.CallAudio()
	nudged := func() bool {
		select {
		case <-d.mixer.Nudges():
			return true
		default:
			return false
		}
	}
	if err := sink.WriteFrame(make([]int16, audio.FrameSamples)); err != nil {
		t.Fatal(err)
	}
	if nudged() {
		t.Error("a write alone nudged: the engine's other calls may not have written yet")
	}
	sink.(interface{ Played() }).Played()
	if !nudged() {
		t.Error("Played did not nudge the device's playback")
	}
	release()
	sink.(interface{ Played() }).Played()
	if nudged() {
		t.Error("Played after release nudged")
	}
}
