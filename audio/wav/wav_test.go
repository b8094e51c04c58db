package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chunk is one RIFF chunk for buildWAV.
type chunk struct {
	id   string
	data []byte
}

// buildWAV assembles a RIFF/WAVE file from chunks, padding odd sizes.
func buildWAV(chunks ...chunk) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range chunks {
		body.WriteString(c.id)
		binary.Write(&body, binary.LittleEndian, uint32(len(c.data)))
		body.Write(c.data)
		if len(c.data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// fmtChunk builds a plain fmt chunk.
func fmtChunk(tag, channels, rate, bits int) chunk {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(tag))
	le.PutUint16(b[2:], uint16(channels))
	le.PutUint32(b[4:], uint32(rate))
	le.PutUint32(b[8:], uint32(rate*channels*bits/8))
	le.PutUint16(b[12:], uint16(channels*bits/8))
	le.PutUint16(b[14:], uint16(bits))
	return chunk{"fmt ", b}
}

// extFmtChunk builds a WAVE_FORMAT_EXTENSIBLE fmt chunk for sub-format tag.
func extFmtChunk(tag, channels, rate, bits int) chunk {
	c := fmtChunk(formatExtensible, channels, rate, bits)
	ext := make([]byte, 24)
	le := binary.LittleEndian
	le.PutUint16(ext[0:], 22)
	le.PutUint16(ext[2:], uint16(bits))
	le.PutUint32(ext[4:], 0)
	le.PutUint16(ext[8:], uint16(tag))
	copy(ext[10:], subformatTail)
	c.data = append(c.data, ext...)
	return c
}

func s16(v ...int16) []byte {
	b := make([]byte, 2*len(v))
	for i, s := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

func TestDecodeFormats(t *testing.T) {
	f32 := func(v ...float32) []byte {
		b := make([]byte, 4*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
		}
		return b
	}
	f64 := func(v ...float64) []byte {
		b := make([]byte, 8*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
		}
		return b
	}
	tests := []struct {
		name     string
		file     []byte
		rate, ch int
		format   Format
		want     []int16
	}{
		{"pcm16 mono", buildWAV(fmtChunk(1, 1, 8000, 16), chunk{"data", s16(0, 1, -1, 32767, -32768)}),
			8000, 1, FormatPCM, []int16{0, 1, -1, 32767, -32768}},
		{"pcm16 stereo 48k", buildWAV(fmtChunk(1, 2, 48000, 16), chunk{"data", s16(1, 2, 3, 4)}),
			48000, 2, FormatPCM, []int16{1, 2, 3, 4}},
		{"pcm8", buildWAV(fmtChunk(1, 1, 8000, 8), chunk{"data", []byte{0x80, 0x00, 0xff, 0x81}}),
			8000, 1, FormatPCM, []int16{0, -32768, 32512, 256}},
		{"pcm24", buildWAV(fmtChunk(1, 1, 8000, 24), chunk{"data", []byte{0xff, 0x34, 0x12, 0x00, 0x00, 0x80}}),
			8000, 1, FormatPCM, []int16{0x1234, -32768}},
		{"pcm32", buildWAV(fmtChunk(1, 1, 8000, 32), chunk{"data", []byte{0xff, 0xff, 0x34, 0x12}}),
			8000, 1, FormatPCM, []int16{0x1234}},
		{"float32", buildWAV(fmtChunk(3, 1, 8000, 32), chunk{"data", f32(0, 0.5, -1, 2, float32(math.NaN()))}),
			8000, 1, FormatFloat, []int16{0, 16384, -32768, 32767, 0}},
		{"float64", buildWAV(fmtChunk(3, 1, 8000, 64), chunk{"data", f64(-0.5, 0.25)}),
			8000, 1, FormatFloat, []int16{-16384, 8192}},
		{"ulaw", buildWAV(fmtChunk(7, 1, 8000, 8), chunk{"data", []byte{0xff, 0x80, 0x00}}),
			8000, 1, FormatUlaw, []int16{0, 32124, -32124}},
		{"alaw", buildWAV(fmtChunk(6, 1, 8000, 8), chunk{"data", []byte{0xd5, 0xaa}}),
			8000, 1, FormatAlaw, []int16{8, 32256}},
		{"extensible pcm16", buildWAV(extFmtChunk(1, 1, 16000, 16), chunk{"data", s16(7, -7)}),
			16000, 1, FormatPCM, []int16{7, -7}},
		{"chunks before and after, odd sizes", buildWAV(chunk{"JUNK", []byte{1, 2, 3}}, fmtChunk(1, 1, 8000, 16),
			chunk{"LIST", []byte("abcde")}, chunk{"data", s16(5, 6)}, chunk{"LIST", []byte("x")}),
			8000, 1, FormatPCM, []int16{5, 6}},
		{"empty data", buildWAV(fmtChunk(1, 1, 8000, 16), chunk{"data", nil}), 8000, 1, FormatPCM, []int16{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, seekable := range []bool{true, false} {
				var src io.Reader = bytes.NewReader(tt.file)
				if !seekable {
					src = struct{ io.Reader }{src}
				}
				r, err := NewReader(src)
				if err != nil {
					t.Fatal(err)
				}
				if r.Rate() != tt.rate || r.Channels() != tt.ch || r.Format() != tt.format {
					t.Errorf("got %d Hz %d ch %s, want %d Hz %d ch %s", r.Rate(), r.Channels(), r.Format(), tt.rate, tt.ch, tt.format)
				}
				got := readAll(t, r)
				if !equal(got, tt.want) {
					t.Errorf("seekable=%v: samples %v, want %v", seekable, got, tt.want)
				}
			}
			got, rate, ch, err := Decode(tt.file)
			if err != nil || rate != tt.rate || ch != tt.ch || !equal(got, tt.want) {
				t.Errorf("Decode = %v, %d, %d, %v", got, rate, ch, err)
			}
		})
	}
}

func readAll(t *testing.T, r *Reader) []int16 {
	t.Helper()
	out := []int16{}
	buf := make([]int16, 3*r.Channels()) // small on purpose: many calls
	for {
		n, err := r.ReadSamples(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("ReadSamples: %v", err)
		}
		if n%r.Channels() != 0 {
			t.Fatalf("ReadSamples returned %d, not whole frames", n)
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

func TestBadInput(t *testing.T) {
	good := buildWAV(fmtChunk(1, 1, 8000, 16), chunk{"data", s16(1, 2, 3)})
	replace := func(off int, b ...byte) []byte {
		c := bytes.Clone(good)
		copy(c[off:], b)
		return c
	}
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"short", []byte("RIF"), ErrNotWAV},
		{"text", []byte("hello, this is not a wav file"), ErrNotWAV},
		{"not WAVE", replace(8, 'A', 'V', 'I', ' '), ErrNotWAV},
		{"RIFX", replace(0, 'R', 'I', 'F', 'X'), ErrUnsupported},
		{"RF64", replace(0, 'R', 'F', '6', '4'), ErrUnsupported},
		{"header only", good[:12], ErrMalformed},
		{"RIFF cut", good[:8], ErrTruncated},
		{"fmt cut", good[:30], ErrTruncated},
		{"no data chunk", buildWAV(fmtChunk(1, 1, 8000, 16)), ErrMalformed},
		{"data before fmt", buildWAV(chunk{"data", s16(1)}, fmtChunk(1, 1, 8000, 16)), ErrMalformed},
		{"two fmt", buildWAV(fmtChunk(1, 1, 8000, 16), fmtChunk(1, 1, 8000, 16), chunk{"data", nil}), ErrMalformed},
		{"fmt too small", buildWAV(chunk{"fmt ", make([]byte, 14)}, chunk{"data", nil}), ErrMalformed},
		{"mp3", buildWAV(fmtChunk(0x55, 1, 8000, 0), chunk{"data", nil}), ErrUnsupported},
		{"adpcm", buildWAV(fmtChunk(2, 1, 8000, 4), chunk{"data", nil}), ErrUnsupported},
		{"pcm 12-bit", buildWAV(fmtChunk(1, 1, 8000, 12), chunk{"data", nil}), ErrUnsupported},
		{"ulaw 16-bit", buildWAV(fmtChunk(7, 1, 8000, 16), chunk{"data", nil}), ErrUnsupported},
		{"float 16-bit", buildWAV(fmtChunk(3, 1, 8000, 16), chunk{"data", nil}), ErrUnsupported},
		{"zero channels", buildWAV(fmtChunk(1, 0, 8000, 16), chunk{"data", nil}), ErrUnsupported},
		{"too many channels", buildWAV(fmtChunk(1, 99, 8000, 16), chunk{"data", nil}), ErrUnsupported},
		{"zero rate", buildWAV(fmtChunk(1, 1, 0, 16), chunk{"data", nil}), ErrUnsupported},
		{"extensible short", buildWAV(chunk{"fmt ", fmtChunk(formatExtensible, 1, 8000, 16).data}, chunk{"data", nil}), ErrMalformed},
		{"skipped chunk cut", buildWAV(fmtChunk(1, 1, 8000, 16), chunk{"LIST", make([]byte, 100)})[:60], ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, seekable := range []bool{true, false} {
				var src io.Reader = bytes.NewReader(tt.file)
				if !seekable {
					src = struct{ io.Reader }{src}
				}
				_, err := NewReader(src)
				if !errors.Is(err, tt.want) {
					t.Errorf("seekable=%v: err = %v, want %v", seekable, err, tt.want)
				}
			}
		})
	}
}

func TestTruncatedData(t *testing.T) {
	file := buildWAV(fmtChunk(1, 2, 8000, 16), chunk{"data", s16(1, 2, 3, 4, 5, 6)})
	cut := file[:len(file)-3] // last frame incomplete
	got, _, _, err := Decode(cut)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
	if !equal(got, []int16{1, 2, 3, 4}) {
		t.Errorf("samples before the cut = %v", got)
	}
	// Every prefix of a valid file: an error or a prefix of the samples, no panic.
	for i := range file {
		s, _, _, _ := Decode(file[:i])
		if !equal(s, []int16{1, 2, 3, 4, 5, 6}[:len(s)]) {
			t.Errorf("prefix %d: samples %v", i, s)
		}
	}
}

func TestUnknownSize(t *testing.T) {
	file := buildWAV(fmtChunk(1, 1, 8000, 16), chunk{"data", s16(1, 2, 3)})
	binary.LittleEndian.PutUint32(file[4:], unknownSize)
	binary.LittleEndian.PutUint32(file[40:], unknownSize)
	file = append(file, 0x7) // a stray odd byte at the end is ignored
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != -1 || r.Duration() != -1 {
		t.Errorf("Len = %d, Duration = %v; want -1", r.Len(), r.Duration())
	}
	if got := readAll(t, r); !equal(got, []int16{1, 2, 3}) {
		t.Errorf("samples = %v", got)
	}
}

func TestShortBuffer(t *testing.T) {
	r, err := NewReader(bytes.NewReader(buildWAV(fmtChunk(1, 2, 8000, 16), chunk{"data", s16(1, 2)})))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.ReadSamples(make([]int16, 1)); n != 0 || err != io.ErrShortBuffer {
		t.Errorf("ReadSamples(1 sample, 2 ch) = %d, %v", n, err)
	}
	if n, err := r.ReadSamples(nil); n != 0 || err != nil {
		t.Errorf("ReadSamples(nil) = %d, %v", n, err)
	}
}

func TestWriteRead(t *testing.T) {
	for _, tc := range []struct{ rate, ch int }{{8000, 1}, {48000, 2}, {44100, 1}, {16000, 3}} {
		path := filepath.Join(t.TempDir(), "x.wav")
		w, err := Create(path, tc.rate, tc.ch)
		if err != nil {
			t.Fatal(err)
		}
		// More than the staging buffer, written in 20 ms-ish pieces.
		var want []int16
		frame := make([]int16, 160*tc.ch)
		for k := range 60 {
			for i := range frame {
				frame[i] = int16(k*1000 + i - 30000)
			}
			if err := w.WriteFrames(frame); err != nil {
				t.Fatal(err)
			}
			want = append(want, frame...)
		}
		if w.Len() != int64(len(want)/tc.ch) {
			t.Errorf("Len = %d, want %d", w.Len(), len(want)/tc.ch)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := w.WriteFrames(frame); !errors.Is(err, ErrClosed) {
			t.Errorf("write after close: %v", err)
		}
		got, rate, ch, err := ReadFile(path)
		if err != nil || rate != tc.rate || ch != tc.ch || !equal(got, want) {
			t.Fatalf("ReadFile: %d samples, %d Hz, %d ch, %v", len(got), rate, ch, err)
		}
		st, _ := os.Stat(path)
		if st.Size() != int64(headerSize+2*len(want)) {
			t.Errorf("file size %d, want %d", st.Size(), headerSize+2*len(want))
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if r.Len() != int64(len(want)/tc.ch) || r.Duration() != time.Duration(len(want)/tc.ch)*time.Second/time.Duration(tc.rate) {
			t.Errorf("Len %d Duration %v", r.Len(), r.Duration())
		}
		first := readAll(t, r)
		if err := r.Rewind(); err != nil {
			t.Fatal(err)
		}
		if again := readAll(t, r); !equal(first, again) || !equal(first, want) {
			t.Errorf("after Rewind: %d samples", len(again))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadSamples(frame); !errors.Is(err, ErrClosed) {
			t.Errorf("read after close: %v", err)
		}
	}
}

// TestHeaderBytes pins the exact header layout.
func TestHeaderBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.wav")
	w, err := Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrames([]int16{0x0102, -2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := []byte("RIFF\x28\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x04\x00\x00\x00\x02\x01\xfe\xff")
	if !bytes.Equal(got, want) {
		t.Errorf("file =\n%q\nwant\n%q", got, want)
	}
}

// TestFlushMidway: after Flush the file on disk is complete and valid.
func TestFlushMidway(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.wav")
	w, err := Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteFrames([]int16{1, 2, 3})
	if got, _, _, err := ReadFile(path); err != nil || len(got) != 0 {
		t.Errorf("before Flush: %v %v (unknown size, nothing on disk yet)", got, err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.WriteFrames([]int16{4})
	if got, _, _, err := ReadFile(path); err != nil || !equal(got, []int16{1, 2, 3}) {
		t.Errorf("after Flush: %v %v", got, err)
	}
	w.Close()
	if got, _, _, err := ReadFile(path); err != nil || !equal(got, []int16{1, 2, 3, 4}) {
		t.Errorf("after Close: %v %v", got, err)
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "x.wav"), 8000, 0); !errors.Is(err, ErrUnsupported) {
		t.Errorf("0 channels: %v", err)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "x.wav"), 0, 1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("rate 0: %v", err)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), 8000, 1); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
	w, err := Create(filepath.Join(t.TempDir(), "x.wav"), 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteFrames([]int16{1, 2, 3}); err == nil {
		t.Error("odd sample count for stereo accepted")
	}
}

func TestNoAllocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	w, err := Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	if a := testing.AllocsPerRun(500, func() { w.WriteFrames(frame) }); a != 0 {
		t.Errorf("WriteFrames: %v allocs/op", a)
	}
	w.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if a := testing.AllocsPerRun(400, func() { r.ReadSamples(frame) }); a != 0 {
		t.Errorf("ReadSamples: %v allocs/op", a)
	}
}

// requireSox returns the sox path or skips (fails when CI=true).
func requireSox(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sox")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sox not found (required when CI=true): apt-get install sox")
		}
		t.Skip("sox not found")
	}
	return p
}

// TestSox reads files sox writes in each encoding and checks that sox reads ours.
func TestSox(t *testing.T) {
	sox := requireSox(t)
	dir := t.TempDir()
	// Reference signal: a 16-bit stereo ramp written by us, converted by sox.
	src := filepath.Join(dir, "src.wav")
	w, err := Create(src, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref := make([]int16, 2*4000)
	for i := range ref {
		ref[i] = int16(i*16 - 32000)
	}
	w.WriteFrames(ref)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(sox, append([]string{"-D", "-V1"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v\n%s", args, err, out)
		}
	}
	// sox reads our file sample for sample.
	raw := filepath.Join(dir, "out.raw")
	run(src, "-t", "raw", "-e", "signed", "-b", "16", raw)
	b, _ := os.ReadFile(raw)
	if !bytes.Equal(b, s16(ref...)) {
		t.Error("sox reads our WAV differently")
	}
	tests := []struct {
		name   string
		args   []string
		format Format
		tol    int // allowed difference from the 16-bit reference
	}{
		{"pcm16", []string{"-e", "signed", "-b", "16"}, FormatPCM, 0},
		{"pcm8", []string{"-e", "unsigned", "-b", "8"}, FormatPCM, 256},
		{"pcm24", []string{"-e", "signed", "-b", "24"}, FormatPCM, 0},
		{"pcm32", []string{"-e", "signed", "-b", "32"}, FormatPCM, 0},
		{"float32", []string{"-e", "floating-point", "-b", "32"}, FormatFloat, 0},
		{"float64", []string{"-e", "floating-point", "-b", "64"}, FormatFloat, 0},
		{"ulaw", []string{"-e", "u-law"}, FormatUlaw, 1100},
		{"alaw", []string{"-e", "a-law"}, FormatAlaw, 1100},
		{"pcm16 3ch extensible", []string{"-e", "signed", "-b", "16", "-c", "3"}, FormatPCM, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".wav")
			run(append(append([]string{src}, tt.args...), out)...)
			got, rate, ch, err := ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := Open(out)
			defer r.Close()
			if r.Format() != tt.format {
				t.Errorf("format %s, want %s", r.Format(), tt.format)
			}
			if tt.tol < 0 { // channel-count change: check shape only
				if ch != 3 || rate != 8000 || len(got) != 3*4000 {
					t.Errorf("%d Hz %d ch %d samples", rate, ch, len(got))
				}
				return
			}
			if rate != 8000 || ch != 2 || len(got) != len(ref) {
				t.Fatalf("%d Hz %d ch %d samples", rate, ch, len(got))
			}
			for i := range ref {
				if d := int(got[i]) - int(ref[i]); d > tt.tol || d < -tt.tol {
					t.Fatalf("sample %d = %d, want %d±%d", i, got[i], ref[i], tt.tol)
				}
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	f.Add(buildWAV(fmtChunk(1, 1, 8000, 16), chunk{"data", s16(1, 2, 3)}))
	f.Add(buildWAV(fmtChunk(1, 2, 44100, 24), chunk{"data", make([]byte, 12)}))
	f.Add(buildWAV(extFmtChunk(3, 1, 8000, 32), chunk{"data", make([]byte, 8)}))
	f.Add(buildWAV(fmtChunk(7, 1, 8000, 8), chunk{"LIST", []byte("abc")}, chunk{"data", []byte{1, 2, 3}}))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		samples, rate, ch, err := Decode(b)
		if err == nil && (rate < 1 || ch < 1 || ch > MaxChannels || len(samples)%ch != 0) {
			t.Fatalf("accepted: rate %d ch %d, %d samples", rate, ch, len(samples))
		}
		if len(samples) > len(b) {
			t.Fatalf("%d samples from %d bytes", len(samples), len(b))
		}
		// The streaming path over a non-seekable reader agrees.
		r, err := NewReader(struct{ io.Reader }{bytes.NewReader(b)})
		if err != nil {
			return
		}
		buf := make([]int16, 7*r.Channels())
		total := 0
		for range len(b) + 2 {
			n, err := r.ReadSamples(buf)
			total += n
			if err != nil {
				break
			}
		}
		if total != len(samples) {
			t.Fatalf("stream read %d samples, Decode %d", total, len(samples))
		}
	})
}
