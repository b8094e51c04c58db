package portaudio

// These tests drive real PortAudio through an ALSA "file" device
// (testdata/asound-test.conf, which explains its settings): playback lands
// in $AUDIO_TEST_OUT as raw S16_LE at the stream rate, capture reads
// $AUDIO_TEST_IN. The device has no clock, so the tests use Config.Pace.
// They set process-wide environment variables: never t.Parallel.
//
// Run them with the race detector as
//
//	go test -race -gcflags=github.com/gordonklaus/portaudio=-d=checkptr=0 ./audio/portaudio/
//
// (the binding passes an integer as a pointer, which checkptr rejects).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/tone"
)

// requirePortAudio skips a test in a build without PortAudio, except under
// CI=true, where that is a failure.
func requirePortAudio(t *testing.T) {
	t.Helper()
	if Available {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, but this test binary was built without PortAudio: %v", ErrUnavailable)
	}
	t.Skipf("skipping: %v", ErrUnavailable)
}

// useTestAudio points ALSA at the file device. input, if not nil, becomes
// the capture file (raw S16_LE); otherwise capture reads /dev/zero. It
// returns the playback file's path.
func useTestAudio(t *testing.T, input []int16) (out string) {
	t.Helper()
	requirePortAudio(t)
	conf, err := filepath.Abs("testdata/asound-test.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out = filepath.Join(dir, "out.raw")
	t.Setenv("ALSA_CONFIG_PATH", conf)
	t.Setenv("AUDIO_TEST_OUT", out)
	t.Setenv(PaceEnv, "")
	if input != nil {
		in := filepath.Join(dir, "in.raw")
		writeRaw(t, in, input)
		t.Setenv("AUDIO_TEST_IN", in)
	} else {
		t.Setenv("AUDIO_TEST_IN", "/dev/zero")
	}
	return out
}

func sine(n int, freq, rate, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/rate)))
	}
	return s
}

func writeRaw(t *testing.T, path string, s []int16) {
	t.Helper()
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, s)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readRaw(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	binary.Read(bytes.NewReader(b), binary.LittleEndian, s)
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func openTest(t *testing.T, cfg Config) *Device {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	d, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// playFrames writes n frames of src through d's Sink, keeping the sink's
// ring between one and three frames full so the paced device neither
// starves nor drops.
func playFrames(t *testing.T, d *Device, src audio.Source, n int) {
	t.Helper()
	f := make([]int16, audio.FrameSamples)
	deadline := time.Now().Add(time.Duration(n)*audio.FrameDuration + 5*time.Second)
	for written := 0; written < n; {
		if time.Now().After(deadline) {
			t.Fatalf("the device did not take %d frames in time (took %d)", n, written)
		}
		if d.sink.Len() >= 3 {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		src.ReadFrame(f)
		if err := d.Sink().WriteFrame(f); err != nil {
			t.Fatal(err)
		}
		written++
	}
	for d.sink.Len() > 0 && time.Now().Before(deadline) { // let it play out
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(3 * audio.FrameDuration)
}

// captureFrames reads n frames from d's capture buffer as soon as each
// arrives (so none is dropped or padded).
func captureFrames(t *testing.T, d *Device, n int) []int16 {
	t.Helper()
	frame := audio.FrameSamplesAt(d.SampleRate())
	got := make([]int16, 0, n*frame)
	f := make([]int16, frame)
	deadline := time.Now().Add(time.Duration(n)*audio.FrameDuration + 5*time.Second)
	for len(got) < n*frame {
		if time.Now().After(deadline) {
			t.Fatalf("captured only %d of %d frames in time", len(got)/frame, n)
		}
		if d.capture.Len() == 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		d.Source().ReadFrame(f)
		got = append(got, f...)
	}
	return got
}

// trimSilence drops leading and trailing zero samples.
func trimSilence(s []int16) []int16 {
	for len(s) > 0 && s[0] == 0 {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}

func TestDevicesListsDefault(t *testing.T) {
	useTestAudio(t, nil)
	infos, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", infos)
	if len(infos) != 1 {
		t.Fatalf("got %d devices, want 1 (the test config's default)", len(infos))
	}
	want := Info{Index: 0, Name: "default", HostAPI: "ALSA", MaxInputChannels: 128, MaxOutputChannels: 128,
		DefaultSampleRate: 44100, DefaultInput: true, DefaultOutput: true}
	if infos[0] != want {
		t.Errorf("device = %+v, want %+v", infos[0], want)
	}
}

func TestPlaybackTone(t *testing.T) {
	out := useTestAudio(t, nil)
	d := openTest(t, Config{Pace: true})
	if got := d.Output(); got.Rate != 8000 || got.Channels != 1 || got.Device != "default" || !got.Paced {
		t.Errorf("output stream = %+v, want default at 8000 Hz mono, paced", got)
	}
	start := time.Now()
	playFrames(t, d, tone.NewSine(1000, 0.5), 50) // 1 s
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("1 s of audio played in %v: not paced", el)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	got := readRaw(t, out)
	tone := trimSilence(got)
	t.Logf("played %d samples, %d after trimming silence; stats %+v", len(got), len(tone), d.Stats())
	if len(tone) < 7900 || len(tone) > 8100 {
		t.Errorf("%d samples of tone, want about 8000 (1 s)", len(tone))
	}
	if f := analyze.DominantFrequency(tone, 8000); math.Abs(f-1000) > 2 {
		t.Errorf("frequency = %.1f Hz, want 1000", f)
	}
	if share := analyze.ToneShare(tone, 8000, 1000); share < 0.99 {
		t.Errorf("1 kHz share = %.3f, want ~1 (gaps or distortion)", share)
	}
	if r := analyze.RMS(tone); math.Abs(r-0.5/math.Sqrt2) > 0.01 {
		t.Errorf("RMS = %.3f, want %.3f", r, 0.5/math.Sqrt2)
	}
}

func TestCaptureBitExact(t *testing.T) {
	in := sine(3*8000, 440, 8000, 0.25) // longer than the read: after EOF the file device repeats stale data
	useTestAudio(t, in)
	d := openTest(t, Config{Pace: true, Output: NoDevice})
	if got := d.Input(); got.Rate != 8000 || got.Channels != 1 {
		t.Errorf("input stream = %+v, want 8000 Hz mono", got)
	}
	if d.Output() != (StreamInfo{}) || d.Playback() != nil || d.Sink() != device.Discard {
		t.Errorf("output stream = %+v, want none (no playback mixer, a discarding sink)", d.Output())
	}
	start := time.Now()
	got := captureFrames(t, d, 50)
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("1 s of audio captured in %v: not paced", el)
	}
	// The first read skips a backlog (device.Buffer), so the capture may
	// start a frame or two into the file; from there it must be exact.
	k := 0
	for k < 5 && !slicesEqual(got[:audio.FrameSamples], in[k*audio.FrameSamples:(k+1)*audio.FrameSamples]) {
		k++
	}
	t.Logf("capture starts at frame %d of the file", k)
	if k == 5 || !slicesEqual(got, in[k*audio.FrameSamples:k*audio.FrameSamples+len(got)]) {
		t.Errorf("captured audio is not a contiguous second of the input file")
	}
	if f := analyze.DominantFrequency(got, 8000); math.Abs(f-440) > 1 {
		t.Errorf("frequency = %.1f Hz, want 440", f)
	}
}

// TestCaptureThroughHub reads the capture the way the media engine does:
// two calls through a device.Hub on a 20 ms ticker.
func TestCaptureThroughHub(t *testing.T) {
	useTestAudio(t, sine(3*8000, 440, 8000, 0.25))
	d := openTest(t, Config{Pace: true})
	h := device.NewHub(d)
	srcA, _, relA := h.CallAudio()
	srcB, _, relB := h.CallAudio()
	defer relA()
	defer relB()
	a := make([]int16, audio.FrameSamples)
	b := make([]int16, audio.FrameSamples)
	var got []int16
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	for range 50 {
		<-tick.C
		srcA.ReadFrame(a)
		srcB.ReadFrame(b)
		if !slicesEqual(a, b) {
			t.Fatal("the two calls got different frames")
		}
		got = append(got, a...)
	}
	active := analyze.ActiveFrames(got, 8000, -30)
	t.Logf("%d of 50 frames active; stats %+v", active, d.Stats())
	if active < 40 {
		t.Errorf("only %d of 50 frames carried audio", active)
	}
	// Two free-running 20 ms clocks: a frame may be repeated as silence or
	// skipped at the start, so judge the frames, not the phase continuity.
	for i, share := range analyze.FrameToneShares(got, 8000, 440) {
		if share != 0 && share < 0.95 {
			t.Errorf("frame %d: 440 Hz share = %.3f", i, share)
		}
	}
	if share := analyze.ToneShare(got, 8000, 440); share < 0.95 {
		t.Errorf("440 Hz share = %.3f", share)
	}
}

func TestResampled48k(t *testing.T) {
	const rate = 48000
	out := useTestAudio(t, sine(3*rate, 440, rate, 0.25))
	d := openTest(t, Config{Pace: true, Rate: rate})
	if d.Output().Rate != rate || d.Input().Rate != rate {
		t.Fatalf("streams at %d/%d Hz, want %d", d.Input().Rate, d.Output().Rate, rate)
	}
	done := make(chan []int16)
	go func() { done <- captureFrames(t, d, 50) }()
	playFrames(t, d, tone.NewSine(1000, 0.5), 50)
	captured := <-done
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	played := trimSilence(readRaw(t, out))
	t.Logf("played %d samples at %d Hz", len(played), rate)
	if len(played) < rate*9/10 {
		t.Fatalf("played %d samples, want about %d", len(played), rate)
	}
	mid := played[len(played)/4 : len(played)/4+rate/4] // 250 ms from the middle (analysis at 48 kHz is slow)
	if f := analyze.DominantFrequency(mid, rate); math.Abs(f-1000) > 2 {
		t.Errorf("played frequency = %.1f Hz, want 1000", f)
	}
	if share := analyze.ToneShare(mid, rate, 1000); share < 0.99 {
		t.Errorf("played 1 kHz share = %.3f", share)
	}
	if r := analyze.RMS(mid); math.Abs(r-0.5/math.Sqrt2) > 0.02 {
		t.Errorf("played RMS = %.3f, want %.3f", r, 0.5/math.Sqrt2)
	}

	body := captured[800:] // skip the resampler's start-up
	if f := analyze.DominantFrequency(body, 8000); math.Abs(f-440) > 1 {
		t.Errorf("captured frequency = %.1f Hz, want 440", f)
	}
	if share := analyze.ToneShare(body, 8000, 440); share < 0.99 {
		t.Errorf("captured 440 Hz share = %.3f", share)
	}
	if r := analyze.RMS(body); math.Abs(r-0.25/math.Sqrt2) > 0.01 {
		t.Errorf("captured RMS = %.3f, want %.3f", r, 0.25/math.Sqrt2)
	}
}

func TestPaceFromEnvironment(t *testing.T) {
	useTestAudio(t, nil)
	t.Setenv(PaceEnv, "1")
	d := openTest(t, Config{Input: NoDevice})
	if !d.Output().Paced {
		t.Errorf("%s=1 did not turn pacing on", PaceEnv)
	}
}

// TestUnpacedDevicePacesItself opens the unclocked device without pacing:
// the loops notice they run ahead of real time and pace themselves instead
// of spinning.
func TestUnpacedDevicePacesItself(t *testing.T) {
	useTestAudio(t, nil)
	d := openTest(t, Config{})
	time.Sleep(300 * time.Millisecond)
	s1 := d.Stats()
	time.Sleep(500 * time.Millisecond)
	s2 := d.Stats()
	perSecond := float64(s2.PlaybackFrames-s1.PlaybackFrames) / 0.5
	t.Logf("stats %+v; %.0f playback frames/s after settling", s2, perSecond)
	if perSecond < 30 || perSecond > 70 {
		t.Errorf("playback runs at %.0f frames/s, want about 50 (real time)", perSecond)
	}
	if !s2.AutoPaced {
		t.Error("Stats.AutoPaced is false")
	}
	if s2.CaptureFrames < 100 { // it ran fast (2 s ahead) before pacing
		t.Errorf("capture frames = %d", s2.CaptureFrames)
	}
}

func TestOpenErrors(t *testing.T) {
	useTestAudio(t, nil)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad output name", Config{Output: "foo"}, "no output device matching \"foo\" (run `teaphone devices` to list them)"},
		{"bad input name", Config{Input: "foo"}, "no input device matching \"foo\" (run `teaphone devices` to list them)"},
		{"bad index", Config{Output: "7"}, "no output device matching \"7\" (run `teaphone devices` to list them)"},
	} {
		d, err := Open(tc.cfg)
		if err == nil {
			d.Close()
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%s: error %q, want %q", tc.name, err, tc.want)
		}
		if !errors.Is(err, ErrNoDevice) {
			t.Errorf("%s: error does not match ErrNoDevice", tc.name)
		}
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing to open", Config{Input: NoDevice, Output: NoDevice}, `audio input and output are both "none"`},
		{"bad rate", Config{Rate: 12}, "audio sample rate 12 Hz is out of range"},
	} {
		if _, err := Open(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// By name and by index.
	for _, name := range []string{"default", "DEF", "0"} {
		d, err := Open(Config{Input: name, Output: name, Pace: true})
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		if d.Input().Device != "default" || d.Output().Device != "default" {
			t.Errorf("Open(%q) opened %q/%q", name, d.Input().Device, d.Output().Device)
		}
		d.Close()
	}
}

// TestALSAConfigErrors checks the configurations that would make PortAudio
// abort the process: they must give an error before it is initialised.
func TestALSAConfigErrors(t *testing.T) {
	requirePortAudio(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.conf")
	os.WriteFile(empty, []byte("\n# nothing\n"), 0o644)
	noDefault, _ := filepath.Abs("testdata/asound-nodefault.conf")
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.conf"), "ALSA_CONFIG_PATH names a missing file " + filepath.Join(dir, "missing.conf") + " (fix or unset it; ALSA would abort the program)"},
		{empty, "ALSA_CONFIG_PATH=" + empty + " names an empty configuration"},
		{noDefault, `names a configuration without a pcm called "default"`},
	} {
		t.Setenv("ALSA_CONFIG_PATH", tc.path)
		if _, err := Open(Config{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open with ALSA_CONFIG_PATH=%s: error %v, want %q", tc.path, err, tc.want)
		}
		if _, err := Devices(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Devices with ALSA_CONFIG_PATH=%s: error %v, want %q", tc.path, err, tc.want)
		}
	}
}

func TestNoDeviceAtAll(t *testing.T) {
	requirePortAudio(t)
	conf, _ := filepath.Abs("testdata/asound-nodevice.conf")
	t.Setenv("ALSA_CONFIG_PATH", conf)
	infos, err := Devices()
	if err != nil || len(infos) != 0 {
		t.Errorf("Devices() = %v, %v; want none", infos, err)
	}
	_, err = Open(Config{})
	want := "no audio output device found: PortAudio sees no usable sound card and no sound server is reachable (run `teaphone devices`, or use --audio null)"
	if err == nil || err.Error() != want {
		t.Errorf("Open: %v\nwant: %s", err, want)
	}
	if !errors.Is(err, ErrNoDevice) {
		t.Error("error does not match ErrNoDevice")
	}
	_, err = Open(Config{Output: NoDevice})
	if err == nil || !strings.HasPrefix(err.Error(), "no audio input device found: ") {
		t.Errorf("Open without output: %v", err)
	}
}

// TestSharedInitialisation uses Devices while a Device is open, and two
// Devices at once: PortAudio stays initialised until the last user.
func TestSharedInitialisation(t *testing.T) {
	useTestAudio(t, nil)
	before := runtime.NumGoroutine()
	d1 := openTest(t, Config{Input: NoDevice, Pace: true})
	d2 := openTest(t, Config{Output: NoDevice, Pace: true})
	if infos, err := Devices(); err != nil || len(infos) != 1 {
		t.Errorf("Devices() with two devices open = %v, %v", infos, err)
	}
	if err := d1.Close(); err != nil {
		t.Error(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := d2.Stats().CaptureFrames; n == 0 {
		t.Error("the second device stopped capturing when the first closed")
	}
	if err := d2.Close(); err != nil {
		t.Error(err)
	}
	if infos, err := Devices(); err != nil || len(infos) != 1 {
		t.Errorf("Devices() after closing = %v, %v", infos, err)
	}
	// Nothing holds PortAudio now, so the next user initialises it again
	// and checks the ALSA configuration first.
	t.Setenv("ALSA_CONFIG_PATH", filepath.Join(t.TempDir(), "missing.conf"))
	if _, err := Devices(); err == nil || !strings.Contains(err.Error(), "missing file") {
		t.Errorf("PortAudio still initialised after every user closed (Devices: %v)", err)
	}
	time.Sleep(20 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before opening, %d after closing", before, after)
	}
}

// TestLibraryNoiseSilenced runs Devices in a child process with the stock
// ALSA configuration (on a machine without a sound card, ALSA and JACK
// print about 100 lines) and checks stderr stays clean.
func TestLibraryNoiseSilenced(t *testing.T) {
	requirePortAudio(t)
	if os.Getenv("TEAPHONE_PA_CHILD") == "devices" {
		infos, err := Devices()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d devices", len(infos))
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("ALSA and JACK hooks are Linux only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLibraryNoiseSilenced$", "-test.v")
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "ALSA_CONFIG_PATH=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "TEAPHONE_PA_CHILD=devices")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	for _, noise := range []string{"ALSA lib", "jack", "JackShm", "Cannot connect to server"} {
		if strings.Contains(stderr.String()+stdout.String(), noise) {
			t.Errorf("library noise %q reached the terminal:\n%s", noise, stderr.String())
		}
	}
}

func slicesEqual(a, b []int16) bool {
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
