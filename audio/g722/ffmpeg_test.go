package g722

import (
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// signals are the inputs testdata/gen.sh made and ran through ffmpeg
// (testdata/ffmpeg-version.txt says which).
var signals = []string{"tone1k", "tone6k", "sweep", "noise", "silence", "square"}

func readGz(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func readS16(t testing.TB, name string) []int16 {
	b := readGz(t, name)
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// TestEncodeMatchesFFmpeg: our encoder gives ffmpeg's octets exactly, fed
// one 20 ms frame at a time as the media path will.
func TestEncodeMatchesFFmpeg(t *testing.T) {
	for _, name := range signals {
		t.Run(name, func(t *testing.T) {
			in := readS16(t, name+".s16le.gz")
			want := readGz(t, name+".g722.gz")
			if len(want) != len(in)/2 {
				t.Fatalf("ffmpeg gave %d octets for %d samples", len(want), len(in))
			}
			got := make([]byte, len(in)/2)
			e := NewEncoder()
			for off := 0; off < len(in); off += FrameSamples {
				end := min(off+FrameSamples, len(in))
				if n := e.Encode(got[off/2:], in[off:end]); n != (end-off)/2 {
					t.Fatalf("Encode at %d: %d octets, want %d", off, n, (end-off)/2)
				}
			}
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("octet %d of %d: got %#02x, ffmpeg %#02x", i, len(want), got[i], want[i])
			}
		})
	}
}

// TestDecodeMatchesFFmpeg: our decoder on ffmpeg's octets gives ffmpeg's
// samples exactly, for the plain encodings and for one made with ffmpeg's
// trellis search (other code sequences than our encoder's).
func TestDecodeMatchesFFmpeg(t *testing.T) {
	if plain, trellis := readGz(t, "sweep.g722.gz"), readGz(t, "sweep.trellis.g722.gz"); firstDiff(plain, trellis) < 0 {
		t.Fatal("sweep.trellis.g722.gz is the plain encoding: gen.sh did not use the trellis")
	}
	for _, name := range append(signals, "sweep.trellis") {
		t.Run(name, func(t *testing.T) {
			in := readGz(t, name+".g722.gz")
			want := readS16(t, name+".dec.s16le.gz")
			if len(want) != 2*len(in) {
				t.Fatalf("ffmpeg gave %d samples for %d octets", len(want), len(in))
			}
			got := make([]int16, 2*len(in))
			d := NewDecoder()
			for off := 0; off < len(in); off += FrameBytes {
				end := min(off+FrameBytes, len(in))
				if n := d.Decode(got[2*off:], in[off:end]); n != 2*(end-off) {
					t.Fatalf("Decode at %d: %d samples, want %d", off, n, 2*(end-off))
				}
			}
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("sample %d of %d: got %d, ffmpeg %d", i, len(want), got[i], want[i])
			}
		})
	}
}

func firstDiff[T comparable](a, b []T) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
