package mix

import (
	"errors"
	"io"
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/teaphone/teaphone/audio"
)

func TestAddMixScale(t *testing.T) {
	tests := []struct {
		name string
		got  func() []int16
		want []int16
	}{
		{"add", func() []int16 { d := []int16{1, 32000, -32000, 5}; Add(d, []int16{2, 1000, -1000}); return d },
			[]int16{3, 32767, -32768, 5}},
		{"mix none", func() []int16 { d := []int16{9, 9}; Mix(d); return d }, []int16{0, 0}},
		{"mix one", func() []int16 { d := []int16{9, 9, 9}; Mix(d, []int16{4, 5}); return d }, []int16{4, 5, 0}},
		{"mix three, saturate once", func() []int16 {
			d := make([]int16, 3)
			Mix(d, []int16{30000, -30000, 7}, []int16{30000, -30000}, []int16{-30000, 30000, 1})
			return d
		}, []int16{30000, -30000, 8}},
		{"scale half", func() []int16 { d := []int16{1000, -1001, 3}; Scale(d, 0.5); return d }, []int16{500, -500, 2}},
		{"scale up saturates", func() []int16 { d := []int16{20000, -20000}; Scale(d, 4); return d }, []int16{32767, -32768}},
		{"scale zero", func() []int16 { d := []int16{5, 6}; Scale(d, 0); return d }, []int16{0, 0}},
		{"scale NaN", func() []int16 { d := []int16{5}; Scale(d, math.NaN()); return d }, []int16{0}},
		{"scale one", func() []int16 { d := []int16{5, -32768}; Scale(d, 1); return d }, []int16{5, -32768}},
		{"scale huge", func() []int16 { d := []int16{-32768, 1}; Scale(d, 1e12); return d }, []int16{-32768, 32767}},
	}
	for _, tt := range tests {
		if got := tt.got(); !equal(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// constSource fills every frame with v, ending after frames frames (0 = never).
type constSource struct {
	v      int16
	frames int
	n      int
	err    error
}

func (c *constSource) ReadFrame(dst []int16) error {
	if c.frames > 0 && c.n >= c.frames {
		clear(dst)
		return io.EOF
	}
	c.n++
	if c.err != nil {
		return c.err
	}
	for i := range dst {
		dst[i] = c.v
	}
	return nil
}

func TestMixer(t *testing.T) {
	m := NewMixer(audio.FrameSamples)
	out := make([]int16, audio.FrameSamples)
	if err := m.ReadFrame(out); err != nil || out[0] != 0 {
		t.Fatalf("empty mixer: %v %v", out[0], err)
	}
	a := m.Add(&constSource{v: 1000})
	b := m.Add(&constSource{v: 200, frames: 2})
	c := m.Add(&constSource{v: 30})
	steps := []struct {
		name   string
		setup  func()
		want   int16
		minus  [3]int16 // mix-minus for a, b, c
		inputs int
	}{
		{"all", func() {}, 1230, [3]int16{230, 1030, 1200}, 3},
		{"a at half gain", func() { a.SetGain(0.5) }, 730, [3]int16{230, 530, 700}, 3},
		{"b ended", func() {}, 530, [3]int16{30, 530, 500}, 2},
		{"c muted", func() { c.SetMuted(true) }, 500, [3]int16{0, 500, 500}, 2},
		{"a removed", func() { a.Remove(); c.SetMuted(false) }, 30, [3]int16{30, 30, 0}, 1},
	}
	for _, st := range steps {
		st.setup()
		if err := m.ReadFrame(out); err != nil {
			t.Fatal(err)
		}
		if out[0] != st.want || out[159] != st.want {
			t.Errorf("%s: mix %d, want %d", st.name, out[0], st.want)
		}
		for i, in := range []*Input{a, b, c} {
			mm := make([]int16, audio.FrameSamples+5)
			mm[163] = 99
			in.MixMinus(mm)
			if mm[0] != st.minus[i] || mm[159] != st.minus[i] || mm[163] != 0 {
				t.Errorf("%s: mix-minus of input %d = %d, want %d", st.name, i, mm[0], st.minus[i])
			}
		}
		if m.Len() != st.inputs {
			t.Errorf("%s: %d inputs, want %d", st.name, m.Len(), st.inputs)
		}
	}
	if !b.Done() || !a.Done() || c.Done() {
		t.Error("Done flags")
	}
	a.Remove() // twice is fine
	if err := m.ReadFrame(make([]int16, audio.FrameSamples+1)); err == nil {
		t.Error("oversized frame accepted")
	}
}

func TestMixerInputError(t *testing.T) {
	m := NewMixer(4)
	boom := errors.New("boom")
	bad := m.Add(&constSource{v: 5, err: boom})
	m.Add(&constSource{v: 7})
	out := make([]int16, 4)
	if err := m.ReadFrame(out); err != nil || out[0] != 7 {
		t.Errorf("mix with a failing input: %v, %v", out, err)
	}
	if !errors.Is(bad.Err(), boom) || bad.Done() {
		t.Errorf("Err = %v, Done = %v", bad.Err(), bad.Done())
	}
}

func TestMixerSaturation(t *testing.T) {
	m := NewMixer(2)
	for range 5 {
		m.Add(&constSource{v: 20000})
	}
	neg := m.Add(&constSource{v: -32768})
	out := make([]int16, 2)
	m.ReadFrame(out)
	if out[0] != 32767 { // 100000 - 32768 still saturates, with no int16 wrap
		t.Errorf("mix = %d", out[0])
	}
	mm := make([]int16, 2)
	neg.MixMinus(mm)
	if mm[0] != 32767 {
		t.Errorf("mix-minus = %d", mm[0])
	}
}

// TestMixerConcurrent reads frames while another goroutine adds, mutes,
// re-gains and removes inputs. Every input is a constant, so each frame the
// reader sees must be one value throughout (one ReadFrame mixes one set of
// inputs and gains), within what the inputs can sum to; afterwards the
// mixer must hold exactly the inputs not removed and mix exactly the
// unmuted ones.
func TestMixerConcurrent(t *testing.T) {
	const inputs = 200
	m := NewMixer(audio.FrameSamples)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		out := make([]int16, audio.FrameSamples)
		for range 500 {
			if err := m.ReadFrame(out); err != nil {
				t.Errorf("ReadFrame: %v", err)
				return
			}
			for j, v := range out {
				if v != out[0] || v < 0 || int(v) > inputs*inputs/2 {
					t.Errorf("frame sample %d = %d, sample 0 = %d: a torn or impossible mix", j, v, out[0])
					return
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range inputs {
			in := m.Add(&constSource{v: int16(i)})
			in.SetGain(0.5)
			in.SetMuted(i%2 == 0)
			if i%3 == 0 {
				in.Remove()
			}
		}
	}()
	wg.Wait()

	wantLen, want := 0, 0
	for i := range inputs {
		if i%3 == 0 {
			continue // removed
		}
		wantLen++
		if i%2 != 0 {
			want += (i + 1) / 2 // unmuted: half of an odd value, rounded half up
		}
	}
	if got := m.Len(); got != wantLen {
		t.Errorf("%d inputs attached, want %d", got, wantLen)
	}
	out := make([]int16, audio.FrameSamples)
	if err := m.ReadFrame(out); err != nil || int(out[0]) != want {
		t.Errorf("final mix %d (%v), want %d", out[0], err, want)
	}
}

func TestRing(t *testing.T) {
	f := func(v int16) []int16 { return []int16{v, v, v} }
	for _, tc := range []struct {
		policy Policy
		write  []bool
		read   []int16
	}{
		{DropNewest, []bool{true, true, true, false, false}, []int16{1, 2, 3}},
		{OverwriteOldest, []bool{true, true, true, true, true}, []int16{3, 4, 5}},
	} {
		r := NewRing(3, 3, tc.policy)
		for i, want := range tc.write {
			if got := r.Write(f(int16(i + 1))); got != want {
				t.Errorf("%s: write %d = %v, want %v", tc.policy, i+1, got, want)
			}
		}
		if r.Len() != 3 || r.Dropped() != 2 || r.Cap() != 3 || r.FrameSamples() != 3 {
			t.Errorf("%s: Len %d Dropped %d", tc.policy, r.Len(), r.Dropped())
		}
		got := make([]int16, 3)
		for _, want := range tc.read {
			if !r.Read(got) || !equal(got, f(want)) {
				t.Errorf("%s: read %v, want %v", tc.policy, got, f(want))
			}
		}
		if r.Read(got) || r.Underruns() != 1 {
			t.Errorf("%s: read from empty ring", tc.policy)
		}
	}
	// Short frames are padded, long ones truncated; ReadFrame plays silence when empty.
	r := NewRing(2, 4, DropNewest)
	r.WriteFrame([]int16{1, 2})
	r.WriteFrame([]int16{1, 2, 3, 4, 5, 6})
	dst := []int16{9, 9, 9, 9, 9}
	r.ReadFrame(dst)
	if !equal(dst, []int16{1, 2, 0, 0, 0}) {
		t.Errorf("padded frame = %v", dst)
	}
	r.ReadFrame(dst)
	if !equal(dst, []int16{1, 2, 3, 4, 0}) {
		t.Errorf("truncated frame = %v", dst)
	}
	dst[0] = 7
	if err := r.ReadFrame(dst); err != nil || dst[0] != 0 {
		t.Errorf("underrun frame = %v, %v", dst, err)
	}
	r.Write(f(1))
	r.Reset()
	if r.Len() != 0 {
		t.Error("Reset")
	}
	if DropNewest.String() != "drop-newest" || OverwriteOldest.String() != "overwrite-oldest" || Policy(9).String() != "unknown" {
		t.Error("Policy.String")
	}
}

// TestRingSPSC: one producer and one consumer on different goroutines see
// every frame in order when the ring never overflows.
func TestRingSPSC(t *testing.T) {
	r := NewRing(8, 160, DropNewest)
	const frames = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		frame := make([]int16, 160)
		for i := 0; i < frames; {
			frame[0], frame[159] = int16(i), int16(i)
			if r.Write(frame) {
				i++
			} else {
				runtime.Gosched()
			}
		}
	}()
	frame := make([]int16, 160)
	for want := 0; want < frames; {
		if r.Read(frame) {
			if frame[0] != int16(want) || frame[159] != int16(want) {
				t.Fatalf("frame %d: got %d/%d", want, frame[0], frame[159])
			}
			want++
		} else {
			runtime.Gosched()
		}
	}
	<-done
}

func TestNoAllocs(t *testing.T) {
	m := NewMixer(audio.FrameSamples)
	a := m.Add(&constSource{v: 1})
	a.SetGain(0.7)
	m.Add(&constSource{v: 2})
	r := NewRing(4, audio.FrameSamples, OverwriteOldest)
	out := make([]int16, audio.FrameSamples)
	other := make([]int16, audio.FrameSamples)
	for name, fn := range map[string]func(){
		"Mixer.ReadFrame": func() { m.ReadFrame(out) },
		"MixMinus":        func() { a.MixMinus(out) },
		"Ring write/read": func() { r.Write(out); r.Read(out) },
		"Mix":             func() { Mix(out, other, other, other) },
		"Add":             func() { Add(out, other) },
		"Scale":           func() { Scale(out, 0.3) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocs/op", name, n)
		}
	}
}

func BenchmarkMixer4Inputs(b *testing.B) {
	m := NewMixer(audio.FrameSamples)
	for i := range 4 {
		in := m.Add(&constSource{v: int16(i * 100)})
		in.SetGain(0.8)
	}
	out := make([]int16, audio.FrameSamples)
	b.SetBytes(4 * 2 * audio.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		m.ReadFrame(out)
	}
}

func BenchmarkMix3(b *testing.B) {
	x, y, z, out := make([]int16, 160), make([]int16, 160), make([]int16, 160), make([]int16, 160)
	b.SetBytes(3 * 2 * 160)
	b.ReportAllocs()
	for b.Loop() {
		Mix(out, x, y, z)
	}
}

func BenchmarkRingWriteRead(b *testing.B) {
	r := NewRing(8, audio.FrameSamples, OverwriteOldest)
	frame := make([]int16, audio.FrameSamples)
	b.SetBytes(2 * audio.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		r.Write(frame)
		r.Read(frame)
	}
}

func TestMixerNudge(t *testing.T) {
	m := NewMixer(4)
	select {
	case <-m.Nudges():
		t.Fatal("a nudge before any Nudge")
	default:
	}
	m.Nudge()
	m.Nudge() // merges with the first, never blocks
	select {
	case <-m.Nudges():
	default:
		t.Fatal("no nudge after Nudge")
	}
	select {
	case <-m.Nudges():
		t.Fatal("two nudges did not merge into one")
	default:
	}
	if n := testing.AllocsPerRun(100, m.Nudge); n != 0 {
		t.Errorf("Nudge allocates %v times", n)
	}
}
