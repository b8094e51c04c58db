package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/portaudio"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/ui"
)

// useTestCard points PortAudio at the ALSA file device (see
// audio/portaudio/testdata) through a copy of its configuration that the
// test may change, paced with the wall clock. It returns the copy's path.
func useTestCard(t *testing.T) string {
	t.Helper()
	if !portaudio.Available {
		if os.Getenv("CI") == "true" {
			t.Fatal("this build has no PortAudio (needs cgo and portaudio19-dev)")
		}
		t.Skip("no PortAudio in this build")
	}
	b, err := os.ReadFile("audio/portaudio/testdata/asound-test.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "asound.conf")
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALSA_CONFIG_PATH", conf)
	t.Setenv("TEAPHONE_AUDIO_PACE", "1")
	return conf
}

// writeTone writes secs of a hz sine as the file device's capture input.
func writeTone(t *testing.T, path string, hz float64, secs int) {
	t.Helper()
	src := tone.NewSine(hz, 0.3)
	var b bytes.Buffer
	frame := make([]int16, audio.FrameSamples)
	for range secs * 50 {
		_ = src.ReadFrame(frame)
		_ = binary.Write(&b, binary.LittleEndian, frame)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readPlayed reads what the file device played (mono or the left channel).
func readPlayed(t *testing.T, path string, channels int) []int16 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	for i := 0; i+2*channels <= len(raw); i += 2 * channels {
		out = append(out, int16(binary.LittleEndian.Uint16(raw[i:])))
	}
	return out
}

// firstLoud returns when the first 20 ms frame with sound starts, -1 if none.
func firstLoud(s []int16, rate int) time.Duration {
	n := rate / 50
	for off := 0; off+n <= len(s); off += n {
		if analyze.DBFS(s[off:off+n]) > -40 {
			return time.Duration(off) * time.Second / time.Duration(rate)
		}
	}
	return -1
}

// farEnd is the other phone of the call: it plays a 1 kHz tone and keeps
// what it hears.
type farEnd struct {
	mu    sync.Mutex
	heard []int16
}

func (f *farEnd) CallAudio(phone.SessionID, int) (audio.Source, audio.Sink, func()) {
	return tone.NewSine(1000, 0.3), audio.SinkFunc(func(src []int16) error {
		f.mu.Lock()
		f.heard = append(f.heard, src...)
		f.mu.Unlock()
		return nil
	}), func() {}
}

func (f *farEnd) since(n int) []int16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.heard[min(n, len(f.heard)):])
}

// TestSwitchDevicesDuringCall switches the microphone, then the speaker,
// in the middle of a call through real PortAudio: the call stays up, the
// far end hears the new microphone, and the call plays on the new speaker
// at once.
func TestSwitchDevicesDuringCall(t *testing.T) {
	useTestCard(t)
	dir := t.TempDir()
	in1, in2 := filepath.Join(dir, "in1.raw"), filepath.Join(dir, "in2.raw")
	out1, out2 := filepath.Join(dir, "out1.raw"), filepath.Join(dir, "out2.raw")
	writeTone(t, in1, 440, 10)
	writeTone(t, in2, 2000, 10)
	t.Setenv("AUDIO_TEST_IN", in1)
	t.Setenv("AUDIO_TEST_OUT", out1)

	dev, err := portaudio.Open(portaudio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rate, channels := dev.Output().Rate, dev.Output().Channels
	sd, err := newSoundDevices(config.Default(), dev, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	hub := device.NewHub(sd.main)

	far := &farEnd{}
	a, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: 18000, RTPPortMax: 18399, Audio: hubAudio{hub},
		Handler: phone.HandlerFunc(func(phone.IncomingCall) phone.Decision { return phone.Accept() })})
	if err != nil {
		t.Fatal(err)
	}
	b, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: 18400, RTPPortMax: 18799, Audio: far})
	if err != nil {
		t.Fatal(err)
	}
	connected, ended := make(chan struct{}), make(chan struct{})
	var once, endOnce sync.Once
	for _, p := range []*phone.Phone{a, b} {
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		go func() {
			for ev := range p.Events() {
				if ce, ok := ev.(phone.CallEvent); ok {
					switch {
					case ce.State == phone.StateActive:
						once.Do(func() { close(connected) })
					case ce.State == phone.StateTerminated:
						endOnce.Do(func() { close(ended) })
					}
				}
			}
		}()
	}
	defer a.Close()
	defer b.Close()
	id, err := b.Dial(context.Background(), "sip:alice@"+a.LocalAddr(), phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not connect")
	}
	time.Sleep(time.Second)

	// The microphone: the far end hears 440 Hz, then 2 kHz.
	mark := len(far.since(0))
	t.Setenv("AUDIO_TEST_IN", in2)
	t0 := time.Now()
	if err := sd.Use(ui.RoleInput, "default"); err != nil {
		t.Fatal(err)
	}
	t.Logf("switching the microphone took %v", time.Since(t0).Round(time.Millisecond))
	time.Sleep(time.Second)
	heard := far.since(mark)
	before, after := far.since(0)[:mark], heard[min(len(heard), 8000*3/10):] // 300 ms after the switch on
	if s := analyze.ToneShare(before[max(0, len(before)-8000/2):], 8000, 440); s < 0.8 {
		t.Errorf("before the switch the far end heard 440 Hz with share %.2f", s)
	}
	if s := analyze.ToneShare(after, 8000, 2000); len(after) < 8000/2 || s < 0.8 {
		t.Errorf("after the switch the far end heard %d samples, 2 kHz share %.2f", len(after), s)
	}
	// How soon the new microphone was heard: the first frame with 2 kHz.
	for off := 0; off+160 <= len(heard); off += 160 {
		if analyze.ToneShare(heard[off:off+160], 8000, 2000) > 0.8 {
			t.Logf("the far end heard the new microphone %v after the switch began", time.Duration(off/8)*time.Millisecond)
			break
		}
	}

	// The speaker: the call's 1 kHz continues in the new output file.
	t.Setenv("AUDIO_TEST_OUT", out2)
	t0 = time.Now()
	if err := sd.Use(ui.RoleOutput, "default"); err != nil {
		t.Fatal(err)
	}
	t.Logf("switching the speaker took %v", time.Since(t0).Round(time.Millisecond))
	time.Sleep(1500 * time.Millisecond)
	select {
	case <-ended:
		t.Fatal("the call ended during the switches")
	default:
	}
	_ = b.Hangup(id)

	played1 := readPlayed(t, out1, channels)
	played2 := readPlayed(t, out2, channels)
	if s := analyze.ToneShare(played1[rate:], rate, 1000); s < 0.8 {
		t.Errorf("the first speaker played 1 kHz with share %.2f", s)
	}
	lead := firstLoud(played2, rate)
	t.Logf("the new speaker played the call %v after its stream opened; it played %.2f s", lead, float64(len(played2))/float64(rate))
	if lead < 0 || lead > 200*time.Millisecond {
		t.Errorf("the new speaker started playing the call after %v, want within 200 ms", lead)
	}
	if tail := played2[min(len(played2), rate/5):min(len(played2), rate)]; analyze.ToneShare(tail, rate, 1000) < 0.8 {
		t.Errorf("the new speaker does not play the call's 1 kHz")
	}
	if in, out := sd.main.Devices(); in == out || in == device.Device(dev) || out == device.Device(dev) {
		t.Errorf("the first device is still in use after both switches")
	}
}

// TestListRescansWhenIdle: a device added to the ALSA configuration (as a
// headset plugged in) is listed once no call is up, the devices in use are
// opened again, and during a call the list stays as it was with a note.
func TestListRescansWhenIdle(t *testing.T) {
	conf := useTestCard(t)
	t.Setenv("AUDIO_TEST_OUT", filepath.Join(t.TempDir(), "out.raw"))
	dev, err := portaudio.Open(portaudio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := newSoundDevices(config.Default(), dev, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	var busy bool
	sd.idle = func() bool { return !busy }
	names := func(l ui.AudioDevices) []string {
		var out []string
		for _, d := range l.Devices {
			out = append(out, d.Name)
		}
		return out
	}

	l, err := sd.List()
	if err != nil || !slices.Equal(names(l), []string{"default"}) || l.Input != "default" || l.Output != "default" || l.Ring != "" {
		t.Fatalf("List = %+v, %v", l, err)
	}
	// Plug in a headset.
	time.Sleep(10 * time.Millisecond) // a new modification time
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(f, "\npcm.headset {\n type asym\n playback.pcm { type file slave.pcm { type null } format \"raw\" file \"/dev/null\" }\n"+
		" capture.pcm { type file slave.pcm { type null } format \"raw\" file \"/dev/null\" infile \"/dev/zero\" }\n}\n")
	f.Close()

	busy = true
	if l, _ := sd.List(); !slices.Equal(names(l), []string{"default"}) || l.Note == "" {
		t.Errorf("during a call: List = %+v, want the old list and a note", l)
	}
	busy = false
	t0 := time.Now()
	l, err = sd.List()
	if err != nil || !slices.Contains(names(l), "headset") || l.Input != "default" || l.Output != "default" {
		t.Fatalf("after the headset came: List = %+v, %v", l, err)
	}
	t.Logf("the rescan took %v", time.Since(t0).Round(time.Millisecond))
	if in, _ := sd.main.Devices(); in == device.Device(dev) {
		t.Error("the device was not opened again")
	}
	if err := sd.Use(ui.RoleRing, "headset"); err != nil {
		t.Fatal(err)
	}
	if l, _ := sd.List(); l.Ring != "headset" {
		t.Errorf("ring %q after choosing the headset", l.Ring)
	}
	if err := sd.Use(ui.RoleOutput, "no such card"); err == nil {
		t.Error("a missing device was accepted")
	} else {
		t.Logf("choosing a missing device: %v", err)
	}
	if l, _ := sd.List(); l.Output != "default" {
		t.Errorf("output %q after a failed switch", l.Output)
	}
}
