package main

import (
	"context"
	"encoding/binary"
	"fmt"
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
	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/keys"
)

type toneProvider float64

func (hz toneProvider) CallAudio(phone.SessionID, int) (audio.Source, audio.Sink, func()) {
	return tone.NewSine(float64(hz), 0.3), nil, func() {}
}

// TestCallThroughPortAudio runs a call whose audio plays through real
// PortAudio, on the ALSA file device of audio/portaudio/testdata: the far
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

// TestNoSoundCardAudioOff: on a machine without a sound card (an ALSA
// configuration with no device, or a build without PortAudio) the phone
// still starts when no audio backend was asked for explicitly: it says
// "no sound card — audio off" on stderr and in the log, and places a call
// with DTMF and a recording, its audio on the null device.
func TestNoSoundCardAudioOff(t *testing.T) {
	noDevice, _ := filepath.Abs("audio/portaudio/testdata/asound-nodevice.conf")
	t.Setenv("ALSA_CONFIG_PATH", noDevice)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	logFile, recDir := filepath.Join(dir, "teaphone.log"), filepath.Join(dir, "rec")

	// The far end answers every call and counts the digits it hears.
	far := sessions.New()
	if err := far.SetRules(sessions.AcceptAll(0)); err != nil {
		t.Fatal(err)
	}
	b, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: 19600, RTPPortMax: 19699, Handler: far})
	if err != nil {
		t.Fatal(err)
	}
	if err := far.Start(b); err != nil {
		t.Fatal(err)
	}
	sub := far.Subscribe()
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close(); b.Close(); _ = far.Close() })

	var out, errOut strings.Builder
	err = run(context.Background(), []string{"dial", "--config", cfg, "--log-file", logFile,
		"--listen", "127.0.0.1:0", "--rtp-ports", "19700-19799", "--events", "jsonl", "--record-dir", recDir,
		"--script", "dtmf 1; wait 500ms; hangup", "sip:bob@" + b.LocalAddr()}, &out, &errOut)
	if err != nil {
		t.Fatalf("teaphone dial: %v\nstderr: %s\nstdout: %s", err, errOut.String(), out.String())
	}
	const notice = "no sound card — audio off"
	if !strings.Contains(errOut.String(), notice) {
		t.Errorf("stderr lacks %q: %q", notice, errOut.String())
	}
	if log, _ := os.ReadFile(logFile); !strings.Contains(string(log), notice) {
		t.Errorf("log lacks %q:\n%s", notice, log)
	}
	if !strings.Contains(out.String(), `"state":"connected"`) {
		t.Errorf("the call did not connect:\n%s", out.String())
	}
	if recs, _ := filepath.Glob(filepath.Join(recDir, "*.wav")); len(recs) != 1 {
		t.Errorf("recordings %q, want one", recs)
	}
	digits := ""
	timeout := time.After(5 * time.Second)
wait:
	for {
		select {
		case ev := <-sub.C():
			if d, ok := ev.(sessions.DTMFEvent); ok && d.Received {
				digits += d.Digit
			}
			if c, ok := ev.(sessions.CallEvent); ok && c.Call.Ended() {
				break wait
			}
		case <-timeout:
			t.Fatal("the far end's call did not end")
		}
	}
	if digits != "1" {
		t.Errorf("the far end heard DTMF %q, want 1", digits)
	}
}

// TestOpenAudio: the sound card is the default; without one the phone runs
// with audio off unless the sound card or a device was asked for, which is
// then an error in one sentence.
func TestOpenAudio(t *testing.T) {
	noCard := func() (device.Device, error) {
		return nil, fmt.Errorf("no audio output device found: %w", device.ErrNoSoundCard)
	}
	card := device.NewNull()
	withCard := func() (device.Device, error) { return card, nil }
	tests := []struct {
		name     string
		edit     func(*config.Config)
		card     device.SoundCard
		wantName string // "" when an error is wanted
		wantOff  bool
	}{
		{"the sound card", func(*config.Config) {}, withCard, "sound card", false},
		{"no sound card: audio off", func(*config.Config) {}, noCard, "null", true},
		{"--audio portaudio without one", func(c *config.Config) { c.ApplyOverrides(config.Overrides{Audio: "portaudio"}) }, noCard, "", false},
		{"$TEAPHONE_AUDIO=portaudio without one", func(c *config.Config) {
			c.ApplyEnv(func(k string) (string, bool) { return "portaudio", k == config.EnvAudio })
		}, noCard, "", false},
		{"a named device without one", func(c *config.Config) { c.Media.OutputDevice = "USB" }, noCard, "", false},
		{"--audio null", func(c *config.Config) { c.ApplyOverrides(config.Overrides{Audio: "null"}) }, noCard, "null", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.edit(&cfg)
			a, err := openAudio(cfg, tt.card)
			if tt.wantName == "" {
				if err == nil || err.Error() != "no audio output device found: no sound card" {
					t.Fatalf("openAudio: %v, want the sound card's error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Device.Close()
			if a.name != tt.wantName || (a.Fallback != nil) != tt.wantOff {
				t.Errorf("audio %q, fallback %v; want %q, audio off %v", a.name, a.Fallback, tt.wantName, tt.wantOff)
			}
			if tt.wantOff && a.Notice() != "no sound card — audio off" {
				t.Errorf("notice %q", a.Notice())
			}
		})
	}
}

// answeringPeer starts a phone on 127.0.0.1 whose sessions Manager answers
// every call, with RTP on ports low..high; both close with the test.
func answeringPeer(t *testing.T, low, high int) *phone.Phone {
	t.Helper()
	far := sessions.New()
	if err := far.SetRules(sessions.AcceptAll(0)); err != nil {
		t.Fatal(err)
	}
	b, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: low, RTPPortMax: high, Handler: far})
	if err != nil {
		t.Fatal(err)
	}
	if err := far.Start(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); _ = far.Close() })
	return b
}
