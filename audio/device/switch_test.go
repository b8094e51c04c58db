package device

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
)

// swapDev is a device for the Switch tests: its capture is frames whose
// samples all equal its id, it reports a frame clock, and its playback
// mixer (nil for a capture-only device) is pulled by the test.
type swapDev struct {
	id     int16
	n      int // frame length of its mixer and clock
	mixer  *mix.Mixer
	at     time.Time
	mu     sync.Mutex
	closed int
	err    error // returned by Close
}

func newSwapDev(id int16, n int, playback bool) *swapDev {
	d := &swapDev{id: id, n: n, at: time.Unix(int64(id), 0)}
	if playback {
		d.mixer = mix.NewMixer(n)
	}
	return d
}

func (d *swapDev) ReadFrame(dst []int16) error {
	for i := range dst {
		dst[i] = d.id
	}
	return nil
}
func (d *swapDev) LastFrameAt() (time.Time, bool) { return d.at, true }
func (d *swapDev) Source() audio.Source           { return d }
func (d *swapDev) Sink() audio.Sink               { return Discard }
func (d *swapDev) Playback() *mix.Mixer           { return d.mixer }
func (d *swapDev) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed++
	return d.err
}
func (d *swapDev) closes() int { d.mu.Lock(); defer d.mu.Unlock(); return d.closed }

// play pulls one frame from the device's mixer, as its clock would.
func (d *swapDev) play() []int16 {
	out := make([]int16, d.n)
	if d.mixer != nil {
		_ = d.mixer.ReadFrame(out)
	}
	return out
}

func allEqual(f []int16, v int16) bool {
	for _, s := range f {
		if s != v {
			return false
		}
	}
	return len(f) > 0
}

func TestSwitchSwap(t *testing.T) {
	type step struct {
		op   string // "in", "out", "both"
		dev  int    // index into devs
		fail error  // the swap's error, if it must fail
	}
	tests := []struct {
		name   string
		n      int // frame length: the Switch must not assume 160
		devs   []*swapDev
		steps  []step
		in     int   // device heard on the capture side at the end
		out    int   // device playing at the end
		closed []int // closes per device at the end
	}{
		{"input only; the old device still plays", 160,
			[]*swapDev{newSwapDev(1, 160, true), newSwapDev(2, 160, false)},
			[]step{{"in", 1, nil}}, 1, 0, []int{0, 0}},
		{"output only, at 16 kHz frames", 320,
			[]*swapDev{newSwapDev(1, 320, true), newSwapDev(2, 320, true)},
			[]step{{"out", 1, nil}}, 0, 1, []int{0, 0}},
		{"input then output: the first device is closed once unused", 160,
			[]*swapDev{newSwapDev(1, 160, true), newSwapDev(2, 160, false), newSwapDev(3, 160, true)},
			[]step{{"in", 1, nil}, {"out", 2, nil}}, 1, 2, []int{1, 0, 0}},
		{"both at once", 960,
			[]*swapDev{newSwapDev(1, 960, true), newSwapDev(2, 960, true)},
			[]step{{"both", 1, nil}}, 1, 1, []int{1, 0}},
		{"back and forth: each replaced device closed", 160,
			[]*swapDev{newSwapDev(1, 160, true), newSwapDev(2, 160, true), newSwapDev(3, 160, true)},
			[]step{{"both", 1, nil}, {"both", 2, nil}}, 2, 2, []int{1, 1, 0}},
		{"an output without playback is refused, the old one kept", 160,
			[]*swapDev{newSwapDev(1, 160, true), newSwapDev(2, 160, false)},
			[]step{{"out", 1, ErrNoPlayback}}, 0, 0, []int{0, 0}},
		{"a speaker cannot be added to a switch started without one", 160,
			[]*swapDev{newSwapDev(1, 160, false), newSwapDev(2, 160, true)},
			[]step{{"out", 1, ErrSwitchNoPlayback}}, 0, -1, []int{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Frames go straight through the Switch (a Hub's are 160
			// samples today).
			s := NewSwitch(tc.devs[0])
			src := s.Source()
			if s.Playback() != nil {
				s.Playback().Add(constSource(42))
			}
			for _, st := range tc.steps {
				d := tc.devs[st.dev]
				var err error
				switch st.op {
				case "in":
					err = s.SwapInput(d)
				case "out":
					err = s.SwapOutput(d)
				default:
					err = s.Swap(d)
				}
				if !errors.Is(err, st.fail) || (st.fail == nil) != (err == nil) {
					t.Fatalf("swap %s to %d: err %v, want %v", st.op, st.dev, err, st.fail)
				}
			}
			frame := make([]int16, tc.n)
			if err := src.ReadFrame(frame); err != nil || !allEqual(frame, tc.devs[tc.in].id) {
				t.Errorf("captured %v…, want device %d's frames", frame[:2], tc.devs[tc.in].id)
			}
			if at, ok := src.(frameClock).LastFrameAt(); !ok || !at.Equal(tc.devs[tc.in].at) {
				t.Errorf("LastFrameAt %v %v, want device %d's", at, ok, tc.devs[tc.in].id)
			}
			// What plays on the Switch plays on the output device, and
			// only there.
			for i, d := range tc.devs {
				got := d.play()
				if want := i == tc.out; allEqual(got, 42) != want {
					t.Errorf("device %d played %v…; want the Switch's: %v", d.id, got[:2], want)
				}
			}
			for i, d := range tc.devs {
				if got := d.closes(); got != tc.closed[i] {
					t.Errorf("device %d closed %d times, want %d", d.id, got, tc.closed[i])
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for i, d := range tc.devs {
				want := tc.closed[i]
				if i == tc.in || i == tc.out {
					want++
				}
				if got := d.closes(); got != want {
					t.Errorf("after Close, device %d closed %d times, want %d", d.id, got, want)
				}
			}
			if err := s.SwapInput(newSwapDev(9, tc.n, true)); !errors.Is(err, ErrSwitchClosed) {
				t.Errorf("swap after Close: %v", err)
			}
			if err := src.ReadFrame(frame); err != nil || !allEqual(frame, 0) {
				t.Errorf("closed switch captured %v…, want silence", frame[:2])
			}
		})
	}
}

// TestSwitchNudges: mid-call, a call's frame plays on the new output
// device, and its Played nudges the current output device's
// mixer (its playback loop plays the frame at once), not the old one's.
func TestSwitchNudges(t *testing.T) {
	a, b := newSwapDev(1, 160, true), newSwapDev(2, 160, true)
	s := NewSwitch(a)
	defer s.Close()
	_, sink, release := NewHub(s).CallAudio()
	defer release()
	if err := s.SwapOutput(b); err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteFrame(constFrame(42)); err != nil {
		t.Fatal(err)
	}
	sink.(interface{ Played() }).Played()
	select {
	case <-b.mixer.Nudges():
	case <-time.After(2 * time.Second):
		t.Fatal("the new output device was not nudged")
	}
	if got := b.play(); !allEqual(got, 42) {
		t.Errorf("the new output device played %v…, want the call's frame", got[:2])
	}
	select {
	case <-a.mixer.Nudges():
		t.Error("the old output device was nudged")
	default:
	}
}

// TestSwitchCloseError: a device that fails to close is reported, and the
// swap still happens.
func TestSwitchCloseError(t *testing.T) {
	a, b := newSwapDev(1, 160, true), newSwapDev(2, 160, true)
	a.err = errors.New("stuck")
	s := NewSwitch(a)
	defer s.Close()
	var got []error
	s.OnCloseError = func(err error) { got = append(got, err) }
	if err := s.Swap(b); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != a.err {
		t.Errorf("close errors %v", got)
	}
	if in, out := s.Devices(); in != Device(b) || out != Device(b) {
		t.Errorf("devices %v %v after the swap", in, out)
	}
}

// TestPlayOnRing: a ring Switch following the main Switch's mixer plays
// there, then on a device of its own, then on the main output again.
func TestPlayOnRing(t *testing.T) {
	spk, bell := newSwapDev(1, 160, true), newSwapDev(2, 160, true)
	main := NewSwitch(spk)
	defer main.Close()
	ring := NewSwitch(PlayOn(main.Playback()))
	defer ring.Close()
	stop := NewHub(ring).PlayTone(constSource(7))
	defer stop()
	if !allEqual(spk.play(), 7) {
		t.Fatal("the ring does not play on the speaker")
	}
	if err := ring.SwapOutput(bell); err != nil {
		t.Fatal(err)
	}
	if !allEqual(bell.play(), 7) || !allEqual(spk.play(), 0) {
		t.Fatal("the ring does not play on its own device only")
	}
	if err := ring.SwapOutput(PlayOn(main.Playback())); err != nil {
		t.Fatal(err)
	}
	if !allEqual(spk.play(), 7) || bell.closes() != 1 {
		t.Fatalf("the ring is not back on the speaker (bell closed %d times)", bell.closes())
	}
}

type constSource int16

func (c constSource) ReadFrame(dst []int16) error {
	for i := range dst {
		dst[i] = int16(c)
	}
	return nil
}

// TestSwitchConcurrent swaps while a call reads, writes and the devices
// play (run with -race).
func TestSwitchConcurrent(t *testing.T) {
	devs := []*swapDev{newSwapDev(1, 160, true), newSwapDev(2, 160, true), newSwapDev(3, 160, true)}
	s := NewSwitch(devs[0])
	h := NewHub(s)
	src, sink, release := h.CallAudio()
	defer release()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					f()
				}
			}
		}()
	}
	frame := make([]int16, 160)
	loop(func() {
		_ = src.ReadFrame(frame)
		_ = sink.WriteFrame(frame)
		sink.(interface{ Played() }).Played()
		_, _ = h.InputLevel()
	})
	for _, d := range devs {
		loop(func() { _ = d.play() })
	}
	for i := range 300 {
		d := newSwapDev(int16(10+i), 160, true)
		if err := [](func(Device) error){s.SwapInput, s.SwapOutput, s.Swap}[i%3](d); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
