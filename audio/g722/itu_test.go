package g722

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The ITU-T G.722 Appendix II digital test sequences are ITU copyright and
// are not in this repository. To run TestITUVectors, put the ASCII files
// (g722-ascii/ of the G.722 software distribution: T1C1.XMT, T2R1.COD, …)
// in a directory and name it in G722_ITU_DIR; missing pairs are skipped.
//
// The sequences bypass the QMF (Appendix II): an .XMT word w feeds both
// sub-band encoders with w>>1; a .COD word holds the octet in its high
// byte; .RC1 (lower sub-band, mode 1) and .RC0 (higher sub-band) words are
// the reconstructed signal shifted left by one. Each file starts and ends
// with a line of reset words (0x0001), which are not samples.

// ituEncode pairs an encoder input with its expected codes, ituDecode a
// decoder input with its expected lower and higher sub-band outputs.
var (
	ituEncode = [][2]string{{"T1C1.XMT", "T2R1.COD"}, {"T1C2.XMT", "T2R2.COD"}}
	ituDecode = [][3]string{
		{"T2R1.COD", "T3L1.RC1", "T3H1.RC0"},
		{"T2R2.COD", "T3L2.RC1", "T3H2.RC0"},
		{"T1D3.COD", "T3L3.RC1", "T3H3.RC0"},
	}
)

func TestITUVectors(t *testing.T) {
	dir := os.Getenv("G722_ITU_DIR")
	if dir == "" {
		t.Skip("G722_ITU_DIR not set: ITU-T G.722 Appendix II sequences not available")
	}
	ran := 0
	for _, p := range ituEncode {
		in, want := readITU(t, dir, p[0]), readITU(t, dir, p[1])
		if in == nil || want == nil {
			continue
		}
		ran++
		t.Run(p[0], func(t *testing.T) {
			if len(in) != len(want) {
				t.Fatalf("%d input words, %d codes", len(in), len(want))
			}
			e := NewEncoder()
			for i, w := range in {
				x := int32(int16(w)) >> 1
				il := e.lower.encodeLower(x)
				ih := e.higher.encodeHigher(x)
				if got := byte(ih<<6 | il); got != byte(want[i]>>8) {
					t.Fatalf("word %d: code %#02x, %s says %#02x", i, got, p[1], want[i]>>8)
				}
			}
		})
	}
	for _, p := range ituDecode {
		in, wantL, wantH := readITU(t, dir, p[0]), readITU(t, dir, p[1]), readITU(t, dir, p[2])
		if in == nil || wantL == nil || wantH == nil {
			continue
		}
		ran++
		t.Run(p[0], func(t *testing.T) {
			if len(in) != len(wantL) || len(in) != len(wantH) {
				t.Fatalf("%d codes, %d and %d outputs", len(in), len(wantL), len(wantH))
			}
			d := NewDecoder()
			for i, w := range in {
				c := byte(w >> 8)
				rl := d.lower.decodeLower(int(c & 0x3f))
				rh := d.higher.decodeHigher(int(c >> 6))
				if uint16(rl<<1) != wantL[i] || uint16(rh<<1) != wantH[i] {
					t.Fatalf("word %d, code %#02x: lower %d higher %d, %s/%s say %d %d",
						i, c, rl<<1, rh<<1, p[1], p[2], int16(wantL[i]), int16(wantH[i]))
				}
			}
		})
	}
	if ran == 0 {
		t.Fatalf("no complete pair of sequences in %s", dir)
	}
}

// readITU reads an Appendix II ASCII sequence: comment lines /* … */, then
// lines of 16 hexadecimal words and a check byte, the two's complement of
// the sum of the line's 64 characters. It returns the words without the
// reset lines at either end, or nil if the file is missing.
func readITU(t *testing.T, dir, name string) []uint16 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		t.Logf("%s: not in %s, skipped", name, dir)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][16]uint16
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "/*") {
			continue
		}
		if len(line) != 66 {
			t.Fatalf("%s:%d: %d characters, want 66", name, n, len(line))
		}
		var sum byte
		for i := range 64 {
			sum += line[i]
		}
		check, err := strconv.ParseUint(line[64:], 16, 8)
		if err != nil || byte(check) != -sum {
			t.Fatalf("%s:%d: check byte %s, the line sums to %#02x", name, n, line[64:], -sum)
		}
		var words [16]uint16
		for i := range words {
			w, err := strconv.ParseUint(line[4*i:4*i+4], 16, 16)
			if err != nil {
				t.Fatalf("%s:%d: %v", name, n, err)
			}
			words[i] = uint16(w)
		}
		lines = append(lines, words)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	reset := [16]uint16{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	if len(lines) < 2 || lines[0] != reset || lines[len(lines)-1] != reset {
		t.Fatalf("%s: does not start and end with a reset line", name)
	}
	var out []uint16
	for _, l := range lines[1 : len(lines)-1] {
		out = append(out, l[:]...)
	}
	return out
}
