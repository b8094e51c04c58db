package device

import (
	"math"
	"testing"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
)

// toneAt returns the Goertzel power of freq in x at rate, normalised so a
// sine of amplitude A gives about A²/4.
func toneAt(x []int16, freq float64, rate int) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(x)*len(x))
}

// TestHubCallAudioAtRate: a 48 kHz tone device gives a 16 kHz call
// 320-sample frames holding its tone, an 8 kHz call 160-sample frames (a
// 6 kHz tone cannot pass: it is filtered out, not aliased), and the
// per-frame path allocates nothing.
func TestHubCallAudioAtRate(t *testing.T) {
	for _, tc := range []struct {
		hz       float64
		callRate int
		passes   bool
	}{
		{6000, 16000, true},
		{6000, 48000, true},
		{6000, 8000, false},
		{1000, 8000, true},
	} {
		d, err := NewToneAt(tc.hz, 48000)
		if err != nil {
			t.Fatal(err)
		}
		h := NewHub(d)
		if h.SampleRate() != 48000 {
			t.Fatalf("hub rate %d", h.SampleRate())
		}
		src, _, release := h.CallAudioAt(tc.callRate)
		if audio.RateOf(src) != tc.callRate {
			t.Errorf("source says %d Hz, want %d", audio.RateOf(src), tc.callRate)
		}
		frame := make([]int16, audio.FrameSamplesAt(tc.callRate))
		var x []int16
		for range 20 {
			if err := src.ReadFrame(frame); err != nil {
				t.Fatal(err)
			}
			x = append(x, frame...)
		}
		x = x[len(x)/2:]
		var total float64
		for _, v := range x {
			total += float64(v) * float64(v)
		}
		total /= float64(len(x))
		amp := ToneAmplitude * 32767
		switch {
		case tc.passes && toneAt(x, tc.hz, tc.callRate) < 0.8*amp*amp/4:
			t.Errorf("%g Hz at %d Hz: tone power %.0f, want about %.0f", tc.hz, tc.callRate, toneAt(x, tc.hz, tc.callRate), amp*amp/4)
		case !tc.passes && total > 1e-4*amp*amp:
			t.Errorf("%g Hz at %d Hz: %.0f of power got through (aliased), want none", tc.hz, tc.callRate, total)
		}
		if n := testing.AllocsPerRun(50, func() { _ = src.ReadFrame(frame) }); n != 0 {
			t.Errorf("%d Hz call: %v allocations per frame", tc.callRate, n)
		}
		release()
		d.Close()
	}
}

// wideDevice is a 48 kHz device whose playback mixer the test reads.
type wideDevice struct{ mixer *mix.Mixer }

func (d wideDevice) SampleRate() int { return 48000 }
func (d wideDevice) Source() audio.Source {
	return audio.SourceFunc(func(dst []int16) error { clear(dst); return nil })
}
func (d wideDevice) Sink() audio.Sink     { return Discard }
func (d wideDevice) Playback() *mix.Mixer { return d.mixer }
func (d wideDevice) Close() error         { return nil }

// TestHubCallSinkAtRate: a 16 kHz call's frames reach a 48 kHz device's
// playback as 960-sample frames carrying the call's 6 kHz tone.
func TestHubCallSinkAtRate(t *testing.T) {
	d := wideDevice{mixer: mix.NewMixer(960)}
	h := NewHub(d)
	_, sink, release := h.CallAudioAt(16000)
	defer release()
	if audio.RateOf(sink) != 16000 {
		t.Errorf("sink says %d Hz", audio.RateOf(sink))
	}
	in := make([]int16, 320)
	out := make([]int16, 960)
	var got []int16
	n := 0
	for range 30 {
		for i := range in {
			in[i] = int16(10000 * math.Sin(2*math.Pi*6000*float64(n)/16000))
			n++
		}
		if err := sink.WriteFrame(in); err != nil {
			t.Fatal(err)
		}
		if err := d.mixer.ReadFrame(out); err != nil {
			t.Fatal(err)
		}
		got = append(got, out...)
	}
	x := got[len(got)/2:]
	if p := toneAt(x, 6000, 48000); p < 0.8*10000*10000/4 {
		t.Errorf("6 kHz power at the device %.0f, want about %.0f", p, 10000.0*10000/4)
	}
	if n := testing.AllocsPerRun(50, func() { _ = sink.WriteFrame(in) }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}
