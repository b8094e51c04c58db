package device

import (
	"math"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// frameDBFS is a frame's RMS level in dBFS, as the meter reports it.
func frameDBFS(frame []int16) float64 { return msDBFS(meanSquare(frame)) }

func TestFrameDBFS(t *testing.T) {
	sine := make([]int16, audio.FrameSamples)
	for i := range sine {
		sine[i] = int16(16384 * math.Sin(2*math.Pi*1000*float64(i)/audio.SampleRate))
	}
	for _, tc := range []struct {
		name  string
		frame []int16
		want  float64
	}{
		{"silence", make([]int16, audio.FrameSamples), SilentDBFS},
		{"full-scale square", constFrame(-32768), 0},
		{"sine at half scale", sine, -9.03},
		{"one LSB", constFrame(1), -90},
		{"empty", nil, SilentDBFS},
	} {
		if got := frameDBFS(tc.frame); math.Abs(got-tc.want) > 0.05 {
			t.Errorf("%s: %.2f dBFS, want %.2f", tc.name, got, tc.want)
		}
	}
}

// TestInputLevel: the hub's meter reports the loudest frame a call read
// since the last look, then starts again; nothing before any call reads,
// nothing once reading stopped.
func TestInputLevel(t *testing.T) {
	d, err := NewTone(1000) // the headless tone source
	if err != nil {
		t.Fatal(err)
	}
	h := NewHub(d)
	if _, ok := h.InputLevel(); ok {
		t.Fatal("a level before any call read the microphone")
	}
	src, _, release := h.CallAudio()
	defer release()
	frame := make([]int16, audio.FrameSamples)
	for range 5 {
		if err := src.ReadFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	db, ok := h.InputLevel()
	if want := frameDBFS(frame); !ok || math.Abs(db-want) > 0.5 || db < -40 {
		t.Fatalf("InputLevel = %.1f, %v; want about %.1f dBFS (the tone)", db, ok, want)
	}
	if db, ok := h.InputLevel(); !ok || db != SilentDBFS {
		t.Errorf("second look without a new frame = %.1f, %v; want the floor", db, ok)
	}
	h.mu.Lock()
	h.level.at = time.Now().Add(-time.Second) // reading stopped a second ago
	h.mu.Unlock()
	if _, ok := h.InputLevel(); ok {
		t.Error("a level a second after the last frame")
	}
	if a := testing.AllocsPerRun(100, func() { _ = src.ReadFrame(frame); _, _ = h.InputLevel() }); a != 0 {
		t.Errorf("reading and metering allocate %v times", a)
	}
}
