package g722

import "testing"

// BenchmarkEncode is one 20 ms frame: 320 samples into 160 octets.
func BenchmarkEncode(b *testing.B) {
	x := sine(FrameSamples, 1000, 12000)
	out := make([]byte, FrameBytes)
	e := NewEncoder()
	b.ReportAllocs()
	for b.Loop() {
		e.Encode(out, x)
	}
}

// BenchmarkDecode is one 20 ms frame: 160 octets into 320 samples.
func BenchmarkDecode(b *testing.B) {
	c := make([]byte, FrameBytes)
	NewEncoder().Encode(c, sine(FrameSamples, 1000, 12000))
	out := make([]int16, FrameSamples)
	d := NewDecoder()
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(out, c)
	}
}

// TestNoAllocs: Encode and Decode allocate nothing per frame.
func TestNoAllocs(t *testing.T) {
	x := sine(FrameSamples, 1000, 12000)
	c := make([]byte, FrameBytes)
	y := make([]int16, FrameSamples)
	e, d := NewEncoder(), NewDecoder()
	if n := testing.AllocsPerRun(100, func() { e.Encode(c, x) }); n != 0 {
		t.Errorf("Encode: %v allocations per frame", n)
	}
	if n := testing.AllocsPerRun(100, func() { d.Decode(y, c) }); n != 0 {
		t.Errorf("Decode: %v allocations per frame", n)
	}
}
