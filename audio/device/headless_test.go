package device

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/file"
	"github.com/teaphone/teaphone/audio/tone"
)

func readFrames(t *testing.T, src audio.Source, n int) []int16 {
	t.Helper()
	out := make([]int16, 0, n*audio.FrameSamples)
	f := make([]int16, audio.FrameSamples)
	for range n {
		if err := src.ReadFrame(f); err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		out = append(out, f...)
	}
	return out
}

func TestOpenNull(t *testing.T) {
	d, err := Open("null")
	if err != nil {
		t.Fatal(err)
	}
	if d.Playback() != nil {
		t.Error("null device has a playback mixer")
	}
	if got := analyze.Peak(readFrames(t, d.Source(), 5)); got != 0 {
		t.Errorf("null capture peak = %v, want silence", got)
	}
	if err := d.Sink().WriteFrame(make([]int16, audio.FrameSamples)); err != nil {
		t.Error(err)
	}
	if err := d.Close(); err != nil {
		t.Error(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenTone(t *testing.T) {
	d, err := Open("tone:440")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := readFrames(t, d.Source(), 50)
	if f := analyze.DominantFrequency(got, audio.SampleRate); math.Abs(f-440) > 1 {
		t.Errorf("frequency = %.1f Hz, want 440", f)
	}
	if r := analyze.RMS(got); math.Abs(r-ToneAmplitude/math.Sqrt2) > 0.01 {
		t.Errorf("RMS = %.3f, want %.3f", r, ToneAmplitude/math.Sqrt2)
	}
	d.Close()
	if p := analyze.Peak(readFrames(t, d.Source(), 1)); p != 0 {
		t.Errorf("closed device capture peak = %v, want silence", p)
	}
}

func TestOpenFileLoops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.wav")
	w, err := file.CreateSink(path)
	if err != nil {
		t.Fatal(err)
	}
	sine := tone.NewSine(1000, 0.5)
	f := make([]int16, audio.FrameSamples)
	for range 10 { // 200 ms
		sine.ReadFrame(f)
		w.WriteFrame(f)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := Open("file:" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := readFrames(t, d.Source(), 50) // 1 s: five passes
	if share := analyze.ToneShare(got, audio.SampleRate, 1000); share < 0.99 {
		t.Errorf("1 kHz share = %.3f over 1 s of a looped 200 ms file", share)
	}
	if n := analyze.ActiveFrames(got, audio.SampleRate, -20); n != 50 {
		t.Errorf("%d of 50 frames active, want all (the file loops)", n)
	}
}

func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.wav")
	for _, tc := range []struct {
		spec, want string
		unknown    bool
	}{
		{"portaudio", `unknown audio backend "portaudio" (want null, tone:HZ, file:PATH or portaudio)`, true},
		{"", `unknown audio backend ""`, true},
		{"null:x", `unknown audio backend "null:x"`, true},
		{"tone:abc", `audio backend "tone:abc": want tone:HZ, e.g. tone:440`, false},
		{"tone:5000", "frequency must be between 0 and 4000 Hz", false},
		{"tone:-1", "frequency must be between 0 and 4000 Hz", false},
		{"tone:NaN", "frequency must be between 0 and 4000 Hz", false},
		{"file:", "want file:PATH to a WAV file", false},
		{"file:" + missing, "audio backend file: open " + missing + ": no such file", false},
	} {
		d, err := Open(tc.spec)
		if err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded", tc.spec)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %q, want it to contain %q", tc.spec, err, tc.want)
		}
		if got := errors.Is(err, ErrUnknownBackend); got != tc.unknown {
			t.Errorf("Open(%q): errors.Is(ErrUnknownBackend) = %v", tc.spec, got)
		}
	}
}

func TestHubOnHeadlessDevice(t *testing.T) {
	d, err := NewTone(1000)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := NewHub(d)
	srcA, sinkA, relA := h.CallAudio()
	srcB, _, relB := h.CallAudio()
	defer relB()
	a := make([]int16, audio.FrameSamples)
	b := make([]int16, audio.FrameSamples)
	var got []int16
	for range 25 {
		srcA.ReadFrame(a)
		srcB.ReadFrame(b)
		for i := range a {
			if a[i] != b[i] {
				t.Fatal("calls got different capture frames")
			}
		}
		got = append(got, a...)
		if err := sinkA.WriteFrame(a); err != nil {
			t.Fatal(err)
		}
	}
	// Both calls share one phase-continuous tone.
	if share := analyze.ToneShare(got, audio.SampleRate, 1000); share < 0.99 {
		t.Errorf("1 kHz share = %.3f", share)
	}
	h.PlayTone(tone.Ring())() // no playback: a no-op
	relA()
}
