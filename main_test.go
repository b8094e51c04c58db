package main

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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
	"github.com/teaphone/teaphone/ui/keys"
)

type toneProvider float64

func (hz toneProvider) CallAudio(phone.SessionID) (audio.Source, audio.Sink, func()) {
	return tone.NewSine(float64(hz), 0.3), nil, func() {}
}

// TestCallThroughPortAudio runs a call whose audio plays through real
// PortAudio, on the ALSA file device of notes/portaudio-headless.md: the far
// end's 1 kHz tone, played out of the call, is read back from the device's
// output file and analysed.
func TestCallThroughPortAudio(t *testing.T) {
	if !portaudio.Available {
		if os.Getenv("CI") == "true" {
			t.Fatal("this build has no PortAudio (needs cgo and portaudio19-dev)")
		}
		t.Skip("no PortAudio in this build")
	}
	conf, _ := filepath.Abs("audio/portaudio/testdata/asound-test.conf")
	out := filepath.Join(t.TempDir(), "out.raw")
	t.Setenv("ALSA_CONFIG_PATH", conf)
	t.Setenv("AUDIO_TEST_OUT", out)
	t.Setenv("TEAPHONE_AUDIO_PACE", "1") // the file device has no clock of its own

	dev, err := portaudio.Open(portaudio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rate := dev.Output().Rate
	hub := device.NewHub(dev)

	// RTP ports below the peers' (20000+) and the kernel's ephemeral range.
	ports := 19000
	a, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: ports, RTPPortMax: ports + 399, Audio: hubAudio{hub},
		Handler: phone.HandlerFunc(func(phone.IncomingCall) phone.Decision { return phone.Accept() })})
	if err != nil {
		t.Fatal(err)
	}
	b, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: ports + 400, RTPPortMax: ports + 799, Audio: toneProvider(1000)})
	if err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{})
	var once sync.Once
	for _, p := range []*phone.Phone{a, b} {
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		go func(p *phone.Phone) {
			for ev := range p.Events() {
				if ce, ok := ev.(phone.CallEvent); ok && ce.State == phone.StateActive {
					once.Do(func() { close(connected) })
				}
			}
		}(p)
	}
	id, err := b.Dial(context.Background(), "sip:alice@"+a.LocalAddr(), phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not connect")
	}
	time.Sleep(2500 * time.Millisecond)
	_ = b.Hangup(id)
	t0 := time.Now()
	b.Close()
	t1 := time.Now()
	a.Close()
	t.Logf("close: caller %v, callee %v", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	// The call's frames were played as soon as the engine had them (the
	// playback loop followed the engine's play ticks), not on the loop's
	// own schedule.
	if st := dev.Stats(); st.FollowedFrames < 100 {
		t.Errorf("device stats %+v: want most of the call's 2.5 s (125 frames) followed", st)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ch := dev.Output().Channels
	samples := make([]int16, 0, len(raw)/2/ch)
	for i := 0; i+2*ch <= len(raw); i += 2 * ch {
		samples = append(samples, int16(binary.LittleEndian.Uint16(raw[i:])))
	}
	if len(samples) < rate {
		t.Fatalf("played %d samples at %d Hz: less than a second", len(samples), rate)
	}
	// The device plays silence before the call and after it (while the
	// phones close): analyse the 20 ms frames that carry sound.
	frame := rate / 50
	var loud []int16
	for off := 0; off+frame <= len(samples); off += frame {
		if f := samples[off : off+frame]; analyze.DBFS(f) > -40 {
			loud = append(loud, f...)
		}
	}
	share := analyze.ToneShare(loud, rate, 1000)
	t.Logf("played %.2f s at %d Hz: %.2f s of sound, 1 kHz share %.2f, %.1f dBFS",
		float64(len(samples))/float64(rate), rate, float64(len(loud))/float64(rate), share, analyze.DBFS(loud))
	if len(loud) < 2*rate || share < 0.8 || analyze.DBFS(loud) < -30 {
		t.Errorf("the call's 1 kHz tone did not come out of the sound card: %.2f s of sound, share %.2f, %.1f dBFS",
			float64(len(loud))/float64(rate), share, analyze.DBFS(loud))
	}
}

// TestConfigKeyActionsMatchTheKeyMap: [ui.keys] accepts exactly the actions
// the UI's key map can remap (config keeps its own list: it must not
// import the UI).
func TestConfigKeyActionsMatchTheKeyMap(t *testing.T) {
	got, want := config.KeyActions(), slices.Clone(keys.Actions)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("config.KeyActions() = %v\nkeys.Actions        = %v", got, want)
	}
}

// TestVersion: "teaphone version" and "teaphone --version" print the
// version, the Go version and whether PortAudio is compiled in.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out, errOut strings.Builder
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("teaphone %s: %v (stderr %q)", args[0], err, errOut.String())
		}
		pa := "PortAudio: not compiled in"
		if portaudio.Available {
			pa = "PortAudio: compiled in"
		}
		for _, want := range []string{"teaphone ", runtime.Version(), pa} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("teaphone %s printed\n%s\nwant it to contain %q", args[0], out.String(), want)
			}
		}
	}
}
