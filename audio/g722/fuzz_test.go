package g722

import (
	"encoding/binary"
	"testing"
)

// checkBand fails if a band state left the ranges clause 6 keeps it in.
func checkBand(t *testing.T, name string, b *band, nbMax, detMin int32) {
	t.Helper()
	lim := 15360 - b.a[2]
	switch {
	case b.nb < 0 || b.nb > nbMax:
		t.Fatalf("%s: log scale factor %d outside [0, %d]", name, b.nb, nbMax)
	case b.det < detMin || b.det > 16384:
		t.Fatalf("%s: scale factor %d outside [%d, 16384]", name, b.det, detMin)
	case b.a[2] < -12288 || b.a[2] > 12288:
		t.Fatalf("%s: second pole coefficient %d outside ±12288", name, b.a[2])
	case b.a[1] < -lim || b.a[1] > lim:
		t.Fatalf("%s: first pole coefficient %d outside ±%d", name, b.a[1], lim)
	}
	for _, v := range []int32{b.s, b.sz, b.r[1], b.r[2], b.p[1], b.p[2], b.d[1], b.b[1], b.b[6]} {
		if v != int32(int16(v)) {
			t.Fatalf("%s: state word %d outside 16 bits: %+v", name, v, *b)
		}
	}
}

// FuzzDecode: any octets decode without panic into exactly two samples
// each, the same whether given at once or in pieces, and leave the
// predictors in range.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0xfa, 0xfa, 0xf7, 0x00, 0xff})
	f.Add([]byte{0x04, 0xa0, 0x04, 0xa0, 0x04, 0xa0, 0x04, 0xa0})
	f.Add([]byte{0x3c, 0x3d, 0x3e, 0x3f, 0x7c, 0xbd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03})
	f.Fuzz(func(t *testing.T, src []byte) {
		whole := make([]int16, 2*len(src)+1)
		d := NewDecoder()
		if n := d.Decode(whole, src); n != 2*len(src) {
			t.Fatalf("Decode of %d octets wrote %d samples", len(src), n)
		}
		checkBand(t, "lower", &d.lower, 18432, 32)
		checkBand(t, "higher", &d.higher, 22528, 8)

		d.Reset()
		pieces := make([]int16, len(whole))
		for off, step := 0, 1; off < len(src); off, step = off+step, step%5+1 {
			end := min(off+step, len(src))
			d.Decode(pieces[2*off:], src[off:end])
		}
		if i := firstDiff(pieces, whole); i >= 0 {
			t.Fatalf("sample %d: %d decoded in pieces, %d at once", i, pieces[i], whole[i])
		}
	})
}

// FuzzEncode: any samples (the input read as s16le) encode without panic,
// and a Decoder fed the octets ends with the same predictor state as the
// Encoder: the two sides of a call track each other exactly.
func FuzzEncode(f *testing.F) {
	f.Add([]byte{0, 0x80, 0xff, 0x7f, 0, 0x80, 0xff, 0x7f})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		src := make([]int16, len(b)/2)
		for i := range src {
			src[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		code := make([]byte, len(src)/2)
		e := NewEncoder()
		if n := e.Encode(code, src); n != len(src)/2 {
			t.Fatalf("Encode of %d samples wrote %d octets", len(src), n)
		}
		checkBand(t, "lower", &e.lower, 18432, 32)
		checkBand(t, "higher", &e.higher, 22528, 8)
		d := NewDecoder()
		d.Decode(make([]int16, 2*len(code)), code)
		if d.lower != e.lower || d.higher != e.higher {
			t.Fatalf("decoder state differs from encoder state after %d octets:\n enc %+v %+v\n dec %+v %+v",
				len(code), e.lower, e.higher, d.lower, d.higher)
		}
	})
}
