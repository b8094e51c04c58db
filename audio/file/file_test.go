package file

import (
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/wav"
)

// writeWAV writes interleaved samples as a 16-bit WAV.
func writeWAV(t *testing.T, path string, rate, channels int, samples []int16) {
	t.Helper()
	w, err := wav.Create(path, rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrames(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll pulls frames until io.EOF (at most max frames).
func readAll(t *testing.T, src audio.Source, max int) (out []int16, eof bool) {
	t.Helper()
	frame := make([]int16, audio.FrameSamples)
	for range max {
		err := src.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
	return out, false
}

func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i*7 - 10000)
	}
	return s
}

func sine(n, rate int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

// Test8kMono: an 8 kHz mono file comes out sample for sample, the last
// frame padded with silence, then io.EOF.
func Test8kMono(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	want := ramp(1000) // 6.25 frames
	writeWAV(t, path, 8000, 1, want)
	s, err := OpenSource(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Rate() != 8000 || s.Channels() != 1 || s.Duration() != 125e6 {
		t.Errorf("Rate %d Channels %d Duration %v", s.Rate(), s.Channels(), s.Duration())
	}
	got, eof := readAll(t, s, 100)
	if !eof || len(got) != 7*160 {
		t.Fatalf("%d samples, eof %v", len(got), eof)
	}
	for i := range got {
		w := int16(0)
		if i < len(want) {
			w = want[i]
		}
		if got[i] != w {
			t.Fatalf("sample %d = %d, want %d", i, got[i], w)
		}
	}
	if err := s.ReadFrame(make([]int16, 160)); !errors.Is(err, io.EOF) {
		t.Errorf("after EOF: %v", err)
	}
}

func TestLoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loop.wav")
	want := ramp(250)
	writeWAV(t, path, 8000, 1, want)
	s, err := OpenSource(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, eof := readAll(t, s, 20)
	if eof {
		t.Fatal("looping source ended")
	}
	for i := range got {
		if got[i] != want[i%250] {
			t.Fatalf("sample %d = %d, want %d", i, got[i], want[i%250])
		}
	}
	// An empty file ends even when looping.
	empty := filepath.Join(t.TempDir(), "empty.wav")
	writeWAV(t, empty, 8000, 1, nil)
	s2, err := OpenSource(empty, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, eof := readAll(t, s2, 5); !eof {
		t.Error("empty looping file did not end")
	}
}

// TestResampleDownmix: a 48 kHz stereo file plays as 8 kHz mono with its
// frequency, level and length kept.
func TestResampleDownmix(t *testing.T) {
	for _, rate := range []int{48000, 44100, 16000} {
		path := filepath.Join(t.TempDir(), "s.wav")
		mono := sine(rate, rate, 1000, 0.5) // 1 s
		st := make([]int16, 2*len(mono))
		for i, v := range mono {
			st[2*i], st[2*i+1] = v, v/3 // right quieter: the average is 2/3
		}
		writeWAV(t, path, rate, 2, st)
		s, err := OpenSource(path, false)
		if err != nil {
			t.Fatal(err)
		}
		got, eof := readAll(t, s, 200)
		s.Close()
		if !eof || len(got) < 8000 || len(got) > 8000+160 {
			t.Fatalf("%d Hz: %d samples, eof %v", rate, len(got), eof)
		}
		mid := got[800:7200]
		if f := analyze.DominantFrequency(mid, 8000); math.Abs(f-1000) > 0.5 {
			t.Errorf("%d Hz: %.2f Hz", rate, f)
		}
		wantDB := analyze.DBFS(mono) + 20*math.Log10(2.0/3)
		if d := analyze.DBFS(mid) - wantDB; math.Abs(d) > 0.1 {
			t.Errorf("%d Hz: level off by %.2f dB", rate, d)
		}
	}
}

func TestSinkRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	k, err := CreateSink(path)
	if err != nil {
		t.Fatal(err)
	}
	want := ramp(160 * 30)
	for off := 0; off < len(want); off += 160 {
		if err := k.WriteFrame(want[off : off+160]); err != nil {
			t.Fatal(err)
		}
	}
	if k.Duration() != 600e6 {
		t.Errorf("Duration %v", k.Duration())
	}
	if err := k.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	got, rate, ch, err := wav.ReadFile(path)
	if err != nil || rate != 8000 || ch != 1 || len(got) != len(want) {
		t.Fatalf("%d samples %d Hz %d ch %v", len(got), rate, ch, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d", i)
		}
	}
}

func TestStereo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	s, err := CreateStereo(path)
	if err != nil {
		t.Fatal(err)
	}
	left := ramp(500) // longer than one interleave buffer
	right := []int16{1, 2, 3}
	if err := s.WriteStereo(left, right); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteStereo(nil, []int16{9}); err != nil {
		t.Fatal(err)
	}
	if s.Duration() != 501*125*1000 {
		t.Errorf("Duration %v", s.Duration())
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, rate, ch, err := wav.ReadFile(path)
	if err != nil || rate != 8000 || ch != 2 || len(got) != 2*501 {
		t.Fatalf("%d samples %d Hz %d ch %v", len(got), rate, ch, err)
	}
	for i := range 500 {
		r := int16(0)
		if i < 3 {
			r = right[i]
		}
		if got[2*i] != left[i] || got[2*i+1] != r {
			t.Fatalf("frame %d = %d/%d, want %d/%d", i, got[2*i], got[2*i+1], left[i], r)
		}
	}
	if got[1000] != 0 || got[1001] != 9 {
		t.Errorf("last frame %v", got[1000:])
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenSource(filepath.Join(dir, "missing.wav"), false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	junk := filepath.Join(dir, "junk.wav")
	os.WriteFile(junk, []byte("not a wav at all"), 0o644)
	if _, err := OpenSource(junk, false); !errors.Is(err, wav.ErrNotWAV) {
		t.Errorf("junk file: %v", err)
	}
	if _, err := CreateSink(filepath.Join(dir, "no", "dir.wav")); err == nil {
		t.Error("CreateSink in a missing directory succeeded")
	}
	if _, err := CreateStereo(filepath.Join(dir, "no", "dir.wav")); err == nil {
		t.Error("CreateStereo in a missing directory succeeded")
	}
	// A truncated file plays what it has, then ends.
	path := filepath.Join(dir, "cut.wav")
	writeWAV(t, path, 8000, 1, ramp(800))
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-501], 0o644)
	s, err := OpenSource(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, eof := readAll(t, s, 10)
	if !eof || len(got) != 4*160 || got[548] != ramp(800)[548] || got[549] != 0 {
		t.Errorf("truncated: %d samples, eof %v", len(got), eof)
	}
}

// TestSoxFile plays a 44.1 kHz stereo file made by sox.
func TestSoxFile(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sox not found (required when CI=true)")
		}
		t.Skip("sox not found")
	}
	path := filepath.Join(t.TempDir(), "sox.wav")
	out, err := exec.Command(sox, "-D", "-V1", "-n", "-r", "44100", "-c", "2", "-b", "16", path,
		"synth", "0.5", "sine", "700", "vol", "0.5").CombinedOutput()
	if err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	s, err := OpenSource(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, eof := readAll(t, s, 100)
	if !eof || len(got) < 4000 || len(got) > 4160 {
		t.Fatalf("%d samples, eof %v", len(got), eof)
	}
	if f := analyze.DominantFrequency(got[400:3600], 8000); math.Abs(f-700) > 0.5 {
		t.Errorf("%.2f Hz", f)
	}
}

func TestNoAllocs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.wav")
	writeWAV(t, path, 48000, 2, sine(2*48000*3, 48000, 440, 0.3))
	s, err := OpenSource(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	frame := make([]int16, audio.FrameSamples)
	if a := testing.AllocsPerRun(200, func() { s.ReadFrame(frame) }); a != 0 {
		t.Errorf("Source.ReadFrame: %v allocs/op", a)
	}
	k, _ := CreateSink(filepath.Join(dir, "out.wav"))
	defer k.Close()
	if a := testing.AllocsPerRun(200, func() { k.WriteFrame(frame) }); a != 0 {
		t.Errorf("Sink.WriteFrame: %v allocs/op", a)
	}
	st, _ := CreateStereo(filepath.Join(dir, "st.wav"))
	defer st.Close()
	if a := testing.AllocsPerRun(200, func() { st.WriteStereo(frame, frame) }); a != 0 {
		t.Errorf("Stereo.WriteStereo: %v allocs/op", a)
	}
}

func BenchmarkSource48kStereo(b *testing.B) {
	path := filepath.Join(b.TempDir(), "in.wav")
	w, _ := wav.Create(path, 48000, 2)
	w.WriteFrames(make([]int16, 2*48000))
	w.Close()
	s, err := OpenSource(path, true)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	frame := make([]int16, audio.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		s.ReadFrame(frame)
	}
}
