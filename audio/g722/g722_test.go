package g722

import (
	"math"
	"testing"

	"github.com/teaphone/teaphone/audio/analyze"
)

func sine(n int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/SampleRate)))
	}
	return s
}

// roundTrip encodes and decodes x frame by frame with fresh state.
func roundTrip(x []int16) []int16 {
	e, d := NewEncoder(), NewDecoder()
	payload := make([]byte, FrameBytes)
	out := make([]int16, len(x))
	for off := 0; off+FrameSamples <= len(x); off += FrameSamples {
		n := e.Encode(payload, x[off:off+FrameSamples])
		d.Decode(out[off:off+FrameSamples], payload[:n])
	}
	return out
}

// TestRoundTripTones: a 1 kHz and a 6 kHz tone (above the 3.4 kHz of
// narrowband telephony) come out of encode→decode at their frequency and
// level, with the tone holding nearly all the energy. The first 100 ms are
// left out while the quantizers adapt.
func TestRoundTripTones(t *testing.T) {
	for _, tc := range []struct {
		freq float64
		amp  float64
	}{
		{1000, 16384}, {6000, 16384}, {1000, 1000}, {6000, 3000},
	} {
		in := sine(SampleRate, tc.freq, tc.amp)
		out := roundTrip(in)[SampleRate/10:]
		if f := analyze.DominantFrequency(out, SampleRate); math.Abs(f-tc.freq) > 2 {
			t.Errorf("%v Hz at %v: decoded dominant frequency %.2f Hz", tc.freq, tc.amp, f)
		}
		if share := analyze.ToneShare(out, SampleRate, tc.freq); share < 0.99 {
			t.Errorf("%v Hz at %v: tone holds %.4f of the decoded energy, want >= 0.99", tc.freq, tc.amp, share)
		}
		inDB, outDB := analyze.DBFS(in[SampleRate/10:]), analyze.DBFS(out)
		t.Logf("%v Hz at %v: %.2f Hz, share %.5f, %.2f dBFS in, %.2f out", tc.freq, tc.amp,
			analyze.DominantFrequency(out, SampleRate), analyze.ToneShare(out, SampleRate, tc.freq), inDB, outDB)
		if math.Abs(outDB-inDB) > 0.5 {
			t.Errorf("%v Hz at %v: level %.2f dBFS in, %.2f dBFS out", tc.freq, tc.amp, inDB, outDB)
		}
	}
}

// TestToneChecksCanFail is the control for TestRoundTripTones: the checks
// there tell tones apart. A decoded 6 kHz tone has no energy at 1 kHz, and
// decoded silence has no level.
func TestToneChecksCanFail(t *testing.T) {
	out := roundTrip(sine(SampleRate, 6000, 16384))[SampleRate/10:]
	if share := analyze.ToneShare(out, SampleRate, 1000); share > 0.01 {
		t.Errorf("6 kHz tone: %.4f of its energy at 1 kHz", share)
	}
	silent := roundTrip(make([]int16, SampleRate))[SampleRate/10:]
	if db := analyze.DBFS(silent); db > -80 {
		t.Errorf("silence decodes at %.1f dBFS", db)
	}
}

// TestZeroValue: a zero Encoder and Decoder work as new ones.
func TestZeroValue(t *testing.T) {
	x := sine(FrameSamples, 1000, 12000)
	want, got := make([]byte, FrameBytes), make([]byte, FrameBytes)
	NewEncoder().Encode(want, x)
	var e Encoder
	e.Encode(got, x)
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("zero Encoder: octet %d is %#02x, NewEncoder gives %#02x", i, got[i], want[i])
	}
	wantPCM, gotPCM := make([]int16, FrameSamples), make([]int16, FrameSamples)
	NewDecoder().Decode(wantPCM, want)
	var d Decoder
	d.Decode(gotPCM, want)
	if i := firstDiff(gotPCM, wantPCM); i >= 0 {
		t.Fatalf("zero Decoder: sample %d is %d, NewDecoder gives %d", i, gotPCM[i], wantPCM[i])
	}
}

// TestCounts: Encode and Decode convert what fits and say how much.
func TestCounts(t *testing.T) {
	x := sine(11, 1000, 8000)
	for _, tc := range []struct{ dst, src, want int }{
		{10, 11, 5}, {3, 11, 3}, {0, 11, 0}, {10, 1, 0}, {10, 0, 0},
	} {
		if n := NewEncoder().Encode(make([]byte, tc.dst), x[:tc.src]); n != tc.want {
			t.Errorf("Encode(dst %d, src %d) = %d, want %d", tc.dst, tc.src, n, tc.want)
		}
	}
	c := []byte{1, 2, 3, 4, 5}
	for _, tc := range []struct{ dst, src, want int }{
		{10, 5, 10}, {11, 5, 10}, {7, 5, 6}, {1, 5, 0}, {10, 0, 0},
	} {
		if n := NewDecoder().Decode(make([]int16, tc.dst), c[:tc.src]); n != tc.want {
			t.Errorf("Decode(dst %d, src %d) = %d, want %d", tc.dst, tc.src, n, tc.want)
		}
	}
}

// TestReset: after Reset an Encoder and a Decoder behave as new ones, and
// splitting a stream across calls changes nothing.
func TestReset(t *testing.T) {
	x := sine(4*FrameSamples, 440, 12000)
	want := make([]byte, len(x)/2)
	NewEncoder().Encode(want, x)

	e := NewEncoder()
	e.Encode(make([]byte, 100), sine(200, 3000, 30000))
	e.Reset()
	got := make([]byte, len(x)/2)
	for off := 0; off < len(x); off += 14 { // uneven pieces
		end := min(off+14, len(x))
		e.Encode(got[off/2:], x[off:end])
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("Encoder after Reset: octet %d is %#02x, a new Encoder gives %#02x", i, got[i], want[i])
	}

	wantPCM := make([]int16, 2*len(want))
	NewDecoder().Decode(wantPCM, want)
	d := NewDecoder()
	d.Decode(make([]int16, 40), []byte{0x00, 0xff, 0x3c, 0x80, 0x7f})
	d.Reset()
	gotPCM := make([]int16, len(wantPCM))
	for off := 0; off < len(want); off += 7 {
		end := min(off+7, len(want))
		d.Decode(gotPCM[2*off:], want[off:end])
	}
	if i := firstDiff(gotPCM, wantPCM); i >= 0 {
		t.Fatalf("Decoder after Reset: sample %d is %d, a new Decoder gives %d", i, gotPCM[i], wantPCM[i])
	}
}

// TestScale: the scale factor at the ends of the log scale factor ranges
// and the reset values agree with the limits the fuzz targets check.
func TestScale(t *testing.T) {
	for _, tc := range []struct{ nb, shift, want int32 }{
		{0, 8, 32}, {0, 10, 8}, {18432, 8, 16384}, {22528, 10, 16384}, {2048, 8, 64}, {64, 8, 2093 >> 8 << 2},
	} {
		if got := scale(tc.nb, tc.shift); got != tc.want {
			t.Errorf("scale(%d, %d) = %d, want %d", tc.nb, tc.shift, got, tc.want)
		}
	}
}
