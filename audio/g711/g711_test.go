package g711

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"io"
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

// levels maps each code to its rank among the distinct decoded values,
// lowest first, so two codes a quantisation step apart differ by one.
// (µ-law's two zero codes, 0x7f and 0xff, get the same rank.)
func levels(dec func(byte) int16) [256]int {
	var r [256]int
	for a := range 256 {
		below := map[int16]bool{}
		for b := range 256 {
			if v := dec(byte(b)); v < dec(byte(a)) {
				below[v] = true
			}
		}
		r[a] = len(below)
	}
	return r
}

// checkEncoder encodes the full sweep with the slice function enc and the
// single-sample function one, requires the two to agree, and compares the
// codes with want, one per input, from the reference named ref. Exactly
// wantDiff codes may differ from it, each by at most one quantisation step
// (measured on the decoder dec); wantDiff 0 means bit-exact.
func checkEncoder(t *testing.T, name string, enc func([]byte, []int16) int, one func(int16) byte,
	dec func(byte) int16, ref string, want []byte, wantDiff int) {
	t.Helper()
	in := sweep()
	if len(want) != len(in) {
		t.Fatalf("%s: %s reference has %d codes, want %d", name, ref, len(want), len(in))
	}
	got := make([]byte, len(in))
	if n := enc(got, in); n != len(in) {
		t.Fatalf("%s: converted %d, want %d", name, n, len(in))
	}
	lv := levels(dec)
	diff, maxStep := 0, 0
	for i, x := range in {
		if s := one(x); s != got[i] {
			t.Fatalf("%s(%d) = %#02x, single-sample function gives %#02x", name, x, got[i], s)
		}
		if got[i] == want[i] {
			continue
		}
		diff++
		step := abs(lv[got[i]] - lv[want[i]])
		if step > 1 && maxStep <= 1 {
			t.Errorf("%s(%d) = %#02x, %s %#02x: %d steps apart", name, x, got[i], ref, want[i], step)
		}
		maxStep = max(maxStep, step)
	}
	if diff != wantDiff || maxStep > 1 {
		t.Errorf("%s: %d of %d codes differ from %s (want %d), by up to %d steps (want at most 1)",
			name, diff, len(in), ref, wantDiff, maxStep)
	}
}

// Encoder differences from sox over all 65 536 inputs. sox rounds the sample
// to 14 bits (µ-law) or 13 bits (A-law) before compressing; G.191 and zaf
// truncate. The codes differ only for the inputs next to a decision
// threshold, 2 per threshold for µ-law and 4 for A-law, each by one step.
const (
	soxUlawEncDiff = 510
	soxAlawEncDiff = 1020
)

// checkDecoder decodes all 256 codes with dec and one and requires both to
// equal want exactly.
func checkDecoder(t *testing.T, name string, dec func([]int16, []byte) int, one func(byte) int16, ref string, want []int16) {
	t.Helper()
	if len(want) != 256 {
		t.Fatalf("%s: %s reference has %d samples, want 256", name, ref, len(want))
	}
	got := make([]int16, 256)
	if n := dec(got, allCodes()); n != 256 {
		t.Fatalf("%s: converted %d, want 256", name, n)
	}
	for c := range 256 {
		if got[c] != want[c] || one(byte(c)) != want[c] {
			t.Errorf("%s(%#02x) = %d (single %d), %s %d", name, c, got[c], one(byte(c)), ref, want[c])
		}
	}
}

// TestSoxLive runs sox on the full 16-bit sweep and all 256 codes and
// compares every output with ours: decoding bit-exact, encoding within the
// sox rounding bound (soxUlawEncDiff, soxAlawEncDiff).
func TestSoxLive(t *testing.T) {
	sox := requireSox(t)
	sweepRaw := s16le(sweep())
	signed := []string{"-e", "signed", "-b", "16"}
	ul := runSox(t, sox, sweepRaw, signed, []string{"-e", "u-law"})
	al := runSox(t, sox, sweepRaw, signed, []string{"-e", "a-law"})
	uld := runSox(t, sox, allCodes(), []string{"-e", "u-law"}, signed)
	ald := runSox(t, sox, allCodes(), []string{"-e", "a-law"}, signed)

	checkEncoder(t, "EncodeUlaw", EncodeUlaw, LinearToUlaw, UlawToLinear, "sox (rounding)", ul, soxUlawEncDiff)
	checkEncoder(t, "EncodeAlaw", EncodeAlaw, LinearToAlaw, AlawToLinear, "sox (rounding)", al, soxAlawEncDiff)
	checkDecoder(t, "DecodeUlaw", DecodeUlaw, UlawToLinear, "sox", fromS16le(uld))
	checkDecoder(t, "DecodeAlaw", DecodeAlaw, AlawToLinear, "sox", fromS16le(ald))

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

// TestSoxTables checks against the committed sox output, so it runs without
// sox: decoding bit-exact; encoding differs by the sox rounding bound only.
func TestSoxTables(t *testing.T) {
	checkEncoder(t, "EncodeUlaw", EncodeUlaw, LinearToUlaw, UlawToLinear, "sox (rounding)", readGz(t, soxUlawEnc), soxUlawEncDiff)
	checkEncoder(t, "EncodeAlaw", EncodeAlaw, LinearToAlaw, AlawToLinear, "sox (rounding)", readGz(t, soxAlawEnc), soxAlawEncDiff)
	checkDecoder(t, "DecodeUlaw", DecodeUlaw, UlawToLinear, "sox", fromS16le(readGz(t, soxUlawDec)))
	checkDecoder(t, "DecodeAlaw", DecodeAlaw, AlawToLinear, "sox", fromS16le(readGz(t, soxAlawDec)))
}

// TestG191Reference checks the encoders bit-exact against the ITU-T G.191
// reference encoders (g191Ulaw, g191Alaw) for every 16-bit input.
func TestG191Reference(t *testing.T) {
	in := sweep()
	wantU, wantA := make([]byte, len(in)), make([]byte, len(in))
	for i, x := range in {
		wantU[i], wantA[i] = g191Ulaw(x), g191Alaw(x)
	}
	checkEncoder(t, "EncodeUlaw", EncodeUlaw, LinearToUlaw, UlawToLinear, "G.191 (truncation)", wantU, 0)
	checkEncoder(t, "EncodeAlaw", EncodeAlaw, LinearToAlaw, AlawToLinear, "G.191 (truncation)", wantA, 0)
}

// g191Ulaw is ulaw_compress of the ITU-T G.191 Software Tools Library
// (g711.c), one sample, transcribed statement by statement: the 16-bit
// sample is truncated to 14 bits (one's complement for negatives), biased
// by 33, and the segment found by shifting.
func g191Ulaw(x int16) byte {
	var absno int16
	if x < 0 {
		absno = (^x)>>2 + 33
	} else {
		absno = x>>2 + 33
	}
	absno = min(absno, 0x1fff)
	segno := int16(1)
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 0x0008 - segno
	low := 0x000f - (absno>>segno)&0x000f
	code := high<<4 | low
	if x >= 0 {
		code |= 0x0080
	}
	return byte(code)
}

// g191Alaw is alaw_compress of the ITU-T G.191 Software Tools Library
// (g711.c), one sample, transcribed statement by statement: the 16-bit
// sample's magnitude (one's complement for negatives) is shifted right by 4,
// truncating, then the exponent is found by shifting.
func g191Alaw(x int16) byte {
	var ix int16
	if x < 0 {
		ix = (^x) >> 4
	} else {
		ix = x >> 4
	}
	if ix > 15 {
		iexp := int16(1)
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if x >= 0 {
		ix |= 0x0080
	}
	return byte(ix ^ 0x0055)
}

// TestKnownValues pins well-known codes from G.711 and RFC 3551 practice.
// Encoder values near zero are those of G.191 (truncation); sox, which
// rounds, gives 0xff for -1 and -2 and 0x7e for -3.
func TestKnownValues(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"ulaw(0)", int(LinearToUlaw(0)), 0xff},
		{"ulaw(-1)", int(LinearToUlaw(-1)), 0x7f}, // -1..-4 truncate to negative zero
		{"ulaw(-4)", int(LinearToUlaw(-4)), 0x7f},
		{"ulaw(-5)", int(LinearToUlaw(-5)), 0x7e}, // first negative step
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

// Code fields (G.711 §2): after µ-law's inversion or A-law's even-bit
// toggle, bits 6..4 of a code are its segment.
const (
	segMask  = 0x70
	segShift = 4
)

// ulawErrOK and alawErrOK report whether y = decode(encode(x)) is within
// half a quantisation step of x; inputs beyond the largest code are compared
// with that code. No allowance is needed for the truncation to 14 or 13 bits:
// each decoded level lies in the middle of the input range that the G.191
// (truncating) encoder maps to its code. (sox's rounding encoder needed 2 and
// 4 more.)
func ulawErrOK(x, y int16) bool {
	c := min(max(int(x), -32124), 32124)
	seg := (^LinearToUlaw(x) & segMask) >> segShift
	step := 8 << seg
	return abs(c-int(y)) <= step/2
}

func alawErrOK(x, y int16) bool {
	c := min(max(int(x), -32256), 32256)
	seg := ((LinearToAlaw(x) ^ 0x55) & segMask) >> segShift
	step := 16 << max(int(seg)-1, 0)
	return abs(c-int(y)) <= step/2
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

// benchFrame is one 20 ms frame (160 samples) of a loud, varied signal:
// each benchmark op converts one frame, so ns/op is ns per frame.
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
