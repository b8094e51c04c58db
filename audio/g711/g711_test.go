package g711

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"io"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.gz from the live sox run")

// Reference files produced by sox 14.4.2 (with -D, no dither), gzipped;
// TestSoxLive -update rewrites them:
//
//	sox_sweep_{ulaw,alaw}.bin.gz: every int16 from -32768 to 32767, encoded
//	sox_codes_{ulaw,alaw}_s16le.bin.gz: codes 0..255 decoded to s16le
const (
	soxUlawEnc = "sox_sweep_ulaw.bin.gz"
	soxAlawEnc = "sox_sweep_alaw.bin.gz"
	soxUlawDec = "sox_codes_ulaw_s16le.bin.gz"
	soxAlawDec = "sox_codes_alaw_s16le.bin.gz"
)

// sweep returns every int16 value in ascending order.
func sweep() []int16 {
	s := make([]int16, 1<<16)
	for i := range s {
		s[i] = int16(i - 1<<15)
	}
	return s
}

func allCodes() []byte {
	c := make([]byte, 256)
	for i := range c {
		c[i] = byte(i)
	}
	return c
}

func s16le(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func fromS16le(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// requireSox returns the sox path or skips (fails when CI=true).
func requireSox(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sox")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sox not found (required when CI=true): apt-get install sox")
		}
		t.Skip("sox not found; the testdata tables still cover this")
	}
	return p
}

// runSox converts in (raw, described by inArgs) to raw described by outArgs.
// -D disables dithering: sox otherwise adds random TPDF dither when it
// reduces 16-bit input to G.711's 13/14 bits and the output is not repeatable.
func runSox(t *testing.T, sox string, in []byte, inArgs, outArgs []string) []byte {
	t.Helper()
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, "in.raw"), filepath.Join(dir, "out.raw")
	if err := os.WriteFile(inPath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-D", "-V1", "-t", "raw", "-r", "8000", "-c", "1"}, inArgs...)
	args = append(args, inPath, "-t", "raw")
	args = append(args, outArgs...)
	args = append(args, outPath)
	if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v\n%s", args, err, out)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readGz(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeGz(t *testing.T, name string, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(filepath.Join("testdata", name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkEncoder compares enc over the full sweep with want (one code per input).
func checkEncoder(t *testing.T, name string, enc func([]byte, []int16) int, one func(int16) byte, want []byte) {
	t.Helper()
	in := sweep()
	if len(want) != len(in) {
		t.Fatalf("%s: reference has %d codes, want %d", name, len(want), len(in))
	}
	got := make([]byte, len(in))
	if n := enc(got, in); n != len(in) {
		t.Fatalf("%s: converted %d, want %d", name, n, len(in))
	}
	bad := 0
	for i, x := range in {
		if got[i] != want[i] || one(x) != want[i] {
			if bad < 10 {
				t.Errorf("%s(%d) = %#02x (single %#02x), sox %#02x", name, x, got[i], one(x), want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d samples differ from sox", name, bad, len(in))
	}
}

func checkDecoder(t *testing.T, name string, dec func([]int16, []byte) int, one func(byte) int16, want []int16) {
	t.Helper()
	if len(want) != 256 {
		t.Fatalf("%s: reference has %d samples, want 256", name, len(want))
	}
	got := make([]int16, 256)
	if n := dec(got, allCodes()); n != 256 {
		t.Fatalf("%s: converted %d, want 256", name, n)
	}
	for c := range 256 {
		if got[c] != want[c] || one(byte(c)) != want[c] {
			t.Errorf("%s(%#02x) = %d (single %d), sox %d", name, c, got[c], one(byte(c)), want[c])
		}
	}
}

// TestSoxLive runs sox on the full 16-bit sweep and all 256 codes and
// compares every output with ours.
func TestSoxLive(t *testing.T) {
	sox := requireSox(t)
	sweepRaw := s16le(sweep())
	signed := []string{"-e", "signed", "-b", "16"}
	ul := runSox(t, sox, sweepRaw, signed, []string{"-e", "u-law"})
	al := runSox(t, sox, sweepRaw, signed, []string{"-e", "a-law"})
	uld := runSox(t, sox, allCodes(), []string{"-e", "u-law"}, signed)
	ald := runSox(t, sox, allCodes(), []string{"-e", "a-law"}, signed)

	checkEncoder(t, "EncodeUlaw", EncodeUlaw, LinearToUlaw, ul)
	checkEncoder(t, "EncodeAlaw", EncodeAlaw, LinearToAlaw, al)
	checkDecoder(t, "DecodeUlaw", DecodeUlaw, UlawToLinear, fromS16le(uld))
	checkDecoder(t, "DecodeAlaw", DecodeAlaw, AlawToLinear, fromS16le(ald))

	if *update && !t.Failed() {
		writeGz(t, soxUlawEnc, ul)
		writeGz(t, soxAlawEnc, al)
		writeGz(t, soxUlawDec, uld)
		writeGz(t, soxAlawDec, ald)
		return
	}
	// The committed tables must still be what sox produces.
	for name, live := range map[string][]byte{soxUlawEnc: ul, soxAlawEnc: al, soxUlawDec: uld, soxAlawDec: ald} {
		if !bytes.Equal(readGz(t, name), live) {
			t.Errorf("testdata/%s differs from live sox output; rerun with -update", name)
		}
	}
}

// TestSoxTables checks against the committed sox output, so it runs without sox.
func TestSoxTables(t *testing.T) {
	checkEncoder(t, "EncodeUlaw", EncodeUlaw, LinearToUlaw, readGz(t, soxUlawEnc))
	checkEncoder(t, "EncodeAlaw", EncodeAlaw, LinearToAlaw, readGz(t, soxAlawEnc))
	checkDecoder(t, "DecodeUlaw", DecodeUlaw, UlawToLinear, fromS16le(readGz(t, soxUlawDec)))
	checkDecoder(t, "DecodeAlaw", DecodeAlaw, AlawToLinear, fromS16le(readGz(t, soxAlawDec)))
}

// TestKnownValues pins well-known codes from G.711 and RFC 3551 practice.
func TestKnownValues(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"ulaw(0)", int(LinearToUlaw(0)), 0xff},
		{"ulaw(-1)", int(LinearToUlaw(-1)), 0xff}, // rounds to 0
		{"ulaw(-2)", int(LinearToUlaw(-2)), 0xff}, // rounds (half up) to 0
		{"ulaw(-3)", int(LinearToUlaw(-3)), 0x7e}, // rounds to -1
		{"ulaw(max)", int(LinearToUlaw(32767)), 0x80},
		{"ulaw(min)", int(LinearToUlaw(-32768)), 0x00},
		{"alaw(0)", int(LinearToAlaw(0)), 0xd5},
		{"alaw(-8)", int(LinearToAlaw(-8)), 0x55},
		{"alaw(max)", int(LinearToAlaw(32767)), 0xaa},
		{"alaw(min)", int(LinearToAlaw(-32768)), 0x2a},
		{"ulaw^-1(0xff)", int(UlawToLinear(0xff)), 0},
		{"ulaw^-1(0x7f)", int(UlawToLinear(0x7f)), 0},
		{"ulaw^-1(0x80)", int(UlawToLinear(0x80)), 32124},
		{"ulaw^-1(0x00)", int(UlawToLinear(0x00)), -32124},
		{"alaw^-1(0xd5)", int(AlawToLinear(0xd5)), 8},
		{"alaw^-1(0x55)", int(AlawToLinear(0x55)), -8},
		{"alaw^-1(0xaa)", int(AlawToLinear(0xaa)), 32256},
		{"alaw^-1(0x2a)", int(AlawToLinear(0x2a)), -32256},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestLengths(t *testing.T) {
	pcm := make([]int16, 5)
	codes := make([]byte, 3)
	tests := []struct {
		name string
		n    int
		want int
	}{
		{"EncodeUlaw short dst", EncodeUlaw(codes, pcm), 3},
		{"EncodeAlaw short dst", EncodeAlaw(codes, pcm), 3},
		{"DecodeUlaw short src", DecodeUlaw(pcm, codes), 3},
		{"DecodeAlaw short src", DecodeAlaw(pcm, codes), 3},
		{"EncodeUlaw nil", EncodeUlaw(nil, pcm), 0},
		{"DecodeAlaw nil", DecodeAlaw(pcm, nil), 0},
	}
	for _, tt := range tests {
		if tt.n != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.n, tt.want)
		}
	}
}

// TestCodesRoundTrip: decoding then encoding a code gives the code back
// (µ-law's negative zero 0x7f becomes 0xff).
func TestCodesRoundTrip(t *testing.T) {
	for c := range 256 {
		u, a := byte(c), byte(c)
		wantU := u
		if u == 0x7f {
			wantU = 0xff
		}
		if got := LinearToUlaw(UlawToLinear(u)); got != wantU {
			t.Errorf("ulaw %#02x -> %d -> %#02x", u, UlawToLinear(u), got)
		}
		if got := LinearToAlaw(AlawToLinear(a)); got != a {
			t.Errorf("alaw %#02x -> %d -> %#02x", a, AlawToLinear(a), got)
		}
	}
}

// TestMonotonic: the companding curve never goes backwards.
func TestMonotonic(t *testing.T) {
	prevU, prevA := UlawToLinear(LinearToUlaw(-32768)), AlawToLinear(LinearToAlaw(-32768))
	for _, x := range sweep()[1:] {
		u, a := UlawToLinear(LinearToUlaw(x)), AlawToLinear(LinearToAlaw(x))
		if u < prevU || a < prevA {
			t.Fatalf("not monotonic at %d: ulaw %d after %d, alaw %d after %d", x, u, prevU, a, prevA)
		}
		prevU, prevA = u, a
	}
}

// quantErrOK reports whether y = decode(encode(x)) is within half a
// quantisation step of x (plus the 2- or 4-unit rounding to 14/13 bits);
// inputs beyond the largest code are compared with that code.
func ulawErrOK(x, y int16) bool {
	c := min(max(int(x), -32124), 32124)
	seg := (^LinearToUlaw(x) & segMask) >> segShift
	step := 8 << seg
	return abs(c-int(y)) <= step/2+2
}

func alawErrOK(x, y int16) bool {
	c := min(max(int(x), -32256), 32256)
	seg := ((LinearToAlaw(x) ^ 0x55) & segMask) >> segShift
	step := 16 << max(int(seg)-1, 0)
	return abs(c-int(y)) <= step/2+4
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestQuantisationErrorExhaustive(t *testing.T) {
	for _, x := range sweep() {
		if y := UlawToLinear(LinearToUlaw(x)); !ulawErrOK(x, y) {
			t.Errorf("ulaw: %d -> %d", x, y)
		}
		if y := AlawToLinear(LinearToAlaw(x)); !alawErrOK(x, y) {
			t.Errorf("alaw: %d -> %d", x, y)
		}
	}
}

// TestReferenceSearch: the tables agree with the segment-search encoder.
func TestReferenceSearch(t *testing.T) {
	for _, x := range sweep() {
		if a, b := LinearToUlaw(x), ulawSearch(x); a != b {
			t.Fatalf("ulaw(%d): table %#02x, search %#02x", x, a, b)
		}
		if a, b := LinearToAlaw(x), alawSearch(x); a != b {
			t.Fatalf("alaw(%d): table %#02x, search %#02x", x, a, b)
		}
	}
}

func fuzzSeeds(f *testing.F) {
	for _, s := range [][]byte{nil, {0}, {0, 0}, {0xff, 0x7f}, {0x00, 0x80}, {0x01, 0x80, 0xfe, 0x7f, 0x34, 0x12}} {
		f.Add(s)
	}
}

func FuzzUlawRoundTrip(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm := fromS16le(b)
		codes := make([]byte, len(pcm))
		out := make([]int16, len(pcm))
		if n := EncodeUlaw(codes, pcm); n != len(pcm) {
			t.Fatalf("encoded %d of %d", n, len(pcm))
		}
		DecodeUlaw(out, codes)
		for i, x := range pcm {
			if !ulawErrOK(x, out[i]) {
				t.Fatalf("ulaw: %d -> %#02x -> %d", x, codes[i], out[i])
			}
		}
	})
}

func FuzzAlawRoundTrip(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm := fromS16le(b)
		codes := make([]byte, len(pcm))
		out := make([]int16, len(pcm))
		if n := EncodeAlaw(codes, pcm); n != len(pcm) {
			t.Fatalf("encoded %d of %d", n, len(pcm))
		}
		DecodeAlaw(out, codes)
		for i, x := range pcm {
			if !alawErrOK(x, out[i]) {
				t.Fatalf("alaw: %d -> %#02x -> %d", x, codes[i], out[i])
			}
		}
	})
}

// ulawSearch and alawSearch compute the code without the encode table
// (rounding, then a bits.Len segment search); they exist to check the
// tables and to benchmark the alternative the package did not pick.
func ulawSearch(s int16) byte {
	v := min((int(s)+2)>>2, 1<<13-1)
	mask := byte(0xff)
	if v < 0 {
		v, mask = -v, 0x7f
	}
	v = min(v, ulawClip) + ulawBias>>2
	seg := max(bits.Len(uint(v))-6, 0)
	if seg >= 8 {
		return 0x7f ^ mask
	}
	return (byte(seg<<segShift) | byte(v>>(seg+1))&quantMask) ^ mask
}

func alawSearch(s int16) byte {
	v := min((int(s)+4)>>3, 1<<12-1)
	mask := byte(0xd5)
	if v < 0 {
		v, mask = -v-1, 0x55
	}
	seg := max(bits.Len(uint(v))-5, 0)
	if seg >= 8 {
		return 0x7f ^ mask
	}
	shift := max(seg, 1)
	return (byte(seg<<segShift) | byte(v>>shift)&quantMask) ^ mask
}

// benchFrame is one 20 ms frame of a loud, varied signal.
func benchFrame() ([]int16, []byte) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i*409 - 32000)
	}
	codes := make([]byte, 160)
	EncodeUlaw(codes, pcm)
	return pcm, codes
}

func BenchmarkEncodeUlaw(b *testing.B) {
	pcm, codes := benchFrame()
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		EncodeUlaw(codes, pcm)
	}
}

func BenchmarkEncodeAlaw(b *testing.B) {
	pcm, codes := benchFrame()
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		EncodeAlaw(codes, pcm)
	}
}

func BenchmarkDecodeUlaw(b *testing.B) {
	pcm, codes := benchFrame()
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		DecodeUlaw(pcm, codes)
	}
}

func BenchmarkDecodeAlaw(b *testing.B) {
	pcm, codes := benchFrame()
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		DecodeAlaw(pcm, codes)
	}
}

// BenchmarkEncodeUlawSearch and BenchmarkEncodeAlawSearch measure the
// segment-search alternative to the encode tables.
func BenchmarkEncodeUlawSearch(b *testing.B) {
	pcm, codes := benchFrame()
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range pcm {
			codes[i] = ulawSearch(s)
		}
	}
}

func BenchmarkEncodeAlawSearch(b *testing.B) {
	pcm, codes := benchFrame()
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range pcm {
			codes[i] = alawSearch(s)
		}
	}
}
