package portaudio

import (
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/audio/tone"
)

// These tests cover the pure-Go parts of the backend (conversion, pacing,
// the loops on a fake stream, config checks); they run in every build.

func drain(r *mix.Ring) []int16 {
	var out []int16
	f := make([]int16, r.FrameSamples())
	for r.Read(f) {
		out = append(out, f...)
	}
	return out
}

func TestCaptureConvStereo48k(t *testing.T) {
	const rate, ch = 48000, 2
	ring := mix.NewRing(100, audio.FrameSamples, mix.DropNewest)
	c, err := newCaptureConv(rate, 8000, ch, framesPer20ms(rate), ring)
	if err != nil {
		t.Fatal(err)
	}
	mono := sine(rate, 440, rate, 0.25)
	buf := make([]int16, framesPer20ms(rate)*ch)
	frames := 0
	for i := 0; i+framesPer20ms(rate) <= len(mono); i += framesPer20ms(rate) {
		for j := range framesPer20ms(rate) {
			buf[2*j], buf[2*j+1] = mono[i+j], mono[i+j]
		}
		frames += c.push(buf)
	}
	got := drain(ring)
	if frames != 50 || len(got) != 50*audio.FrameSamples {
		t.Errorf("1 s at 48 kHz gave %d frames (%d samples), want 50", frames, len(got))
	}
	body := got[800:]
	if f := analyze.DominantFrequency(body, 8000); math.Abs(f-440) > 1 {
		t.Errorf("frequency = %.1f, want 440", f)
	}
	if r := analyze.RMS(body); math.Abs(r-0.25/math.Sqrt2) > 0.01 {
		t.Errorf("RMS = %.3f, want %.3f", r, 0.25/math.Sqrt2)
	}
	if a := testing.AllocsPerRun(50, func() { c.push(buf); drain0(ring) }); a != 0 {
		t.Errorf("push allocates %.1f times per buffer", a)
	}
}

func drain0(r *mix.Ring) {
	var f [audio.FrameSamples]int16
	for r.Read(f[:]) {
	}
}

// An odd rate whose 20 ms is not a whole number of samples still gives
// 50 frames a second.
func TestCaptureConvOddRate(t *testing.T) {
	const rate = 11025
	ring := mix.NewRing(100, audio.FrameSamples, mix.DropNewest)
	n := framesPer20ms(rate)
	c, err := newCaptureConv(rate, 8000, 1, n, ring)
	if err != nil {
		t.Fatal(err)
	}
	in := sine(10*rate, 1000, rate, 0.5)
	frames := 0
	for i := 0; i+n <= len(in); i += n {
		frames += c.push(in[i : i+n])
		drain0(ring)
	}
	want := (len(in) / n * n) * 8000 / rate / audio.FrameSamples
	if frames < want-1 || frames > want {
		t.Errorf("%d frames from %d samples at %d Hz, want %d", frames, len(in)/n*n, rate, want)
	}
}

func TestPlaybackConv(t *testing.T) {
	for _, tc := range []struct{ rate, ch int }{{8000, 1}, {44100, 2}, {48000, 1}, {11025, 1}} {
		mixer := mix.NewMixer(audio.FrameSamples)
		mixer.Add(tone.NewSine(1000, 0.5))
		n := framesPer20ms(tc.rate)
		p, err := newPlaybackConv(tc.rate, 8000, tc.ch, n, mixer)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]int16, n*tc.ch)
		var out []int16
		pulled := 0
		for range 50 {
			pulled += p.fill(buf)
			for j := range n {
				if tc.ch == 2 && buf[2*j] != buf[2*j+1] {
					t.Fatalf("%d Hz: channels differ", tc.rate)
				}
				out = append(out, buf[j*tc.ch])
			}
		}
		if pulled < 49 || pulled > 51 {
			t.Errorf("%d Hz: pulled %d frames for 1 s, want 50", tc.rate, pulled)
		}
		body := out[len(out)/4:]
		if len(body) > tc.rate/4 {
			body = body[:tc.rate/4]
		}
		if f := analyze.DominantFrequency(body, tc.rate); math.Abs(f-1000) > 2 {
			t.Errorf("%d Hz: frequency = %.1f, want 1000", tc.rate, f)
		}
		if r := analyze.RMS(body); math.Abs(r-0.5/math.Sqrt2) > 0.02 {
			t.Errorf("%d Hz: RMS = %.3f", tc.rate, r)
		}
		if a := testing.AllocsPerRun(50, func() { p.fill(buf) }); a != 0 {
			t.Errorf("%d Hz: fill allocates %.1f times per buffer", tc.rate, a)
		}
	}
}

func TestPacer(t *testing.T) {
	done := make(chan struct{})
	p := newPacer(true, 160, 8000) // 20 ms buffers
	start := time.Now()
	for range 10 {
		if !p.wait(done) {
			t.Fatal("wait returned false")
		}
		p.advance()
	}
	if el := time.Since(start); el < 170*time.Millisecond || el > 400*time.Millisecond {
		t.Errorf("10 paced buffers of 20 ms took %v, want about 180 ms", el)
	}
	go func() { time.Sleep(5 * time.Millisecond); close(done) }()
	start = time.Now()
	for p.wait(done) {
		p.advance()
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("wait took %v to notice done", el)
	}

	// Unpaced, a loop far ahead of real time turns pacing on, once.
	q := newPacer(false, 160, 8000)
	turnedOn := 0
	for range 200 { // 4 s of audio at once
		if q.advance() {
			turnedOn++
		}
	}
	if turnedOn != 1 || !q.on {
		t.Errorf("pacing turned on %d times (on=%v), want once", turnedOn, q.on)
	}
}

// fakeIO stands in for a blocking stream on a 1 ms clock.
type fakeIO struct {
	mu    sync.Mutex
	calls int
	fail  map[int]error // errors to return at these call numbers
	buf   []int16
	seen  []int16 // playback: what was written
}

func (f *fakeIO) call(fill bool) error {
	time.Sleep(time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if fill {
		for i := range f.buf {
			f.buf[i] = int16(f.calls)
		}
	} else {
		f.seen = append(f.seen, f.buf...)
	}
	return f.fail[f.calls]
}

var (
	errXrun   = errors.New("xrun")
	errBroken = errors.New("broken")
)

func TestLoopsOnFakeStreams(t *testing.T) {
	var logged strings.Builder
	var logMu sync.Mutex
	d := newDevice(slog.New(slog.NewTextHandler(lockedWriter{&logged, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug})), 8000)
	d.in = StreamInfo{Device: "fake", Rate: 8000, Channels: 1}
	d.out = StreamInfo{Device: "fake", Rate: 8000, Channels: 1}
	released := 0
	d.release = func() error { released++; return nil }
	in := &fakeIO{buf: make([]int16, 160), fail: map[int]error{3: errXrun, 5: errBroken}}
	out := &fakeIO{buf: make([]int16, 160), fail: map[int]error{2: errXrun, 4: errBroken}}
	capConv, _ := newCaptureConv(8000, 8000, 1, 160, d.capture)
	playConv, _ := newPlaybackConv(8000, 8000, 1, 160, d.mixer)
	lio := func(f *fakeIO, fill bool) loopIO {
		return loopIO{
			io:      func() error { return f.call(fill) },
			buf:     f.buf,
			isXrun:  func(err error) bool { return err == errXrun },
			errText: func(err error) string { return err.Error() },
		}
	}
	d.wg.Add(2)
	go d.runCapture(lio(in, true), capConv, newPacer(false, 160, 8000))
	go d.runPlayback(lio(out, false), playConv, newPacer(false, 160, 8000))

	f := make([]int16, audio.FrameSamples)
	for range 10 {
		d.Sink().WriteFrame(constFrame(7))
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil || released != 1 {
		t.Errorf("second Close = %v, release called %d times", err, released)
	}
	s := d.Stats()
	t.Logf("stats %+v", s)
	if s.Overflows != 1 || s.Underflows != 1 || s.Errors != 2 {
		t.Errorf("stats %+v: want 1 overflow, 1 underflow, 2 errors", s)
	}
	if s.LastError == nil || !strings.Contains(s.LastError.Error(), "broken") {
		t.Errorf("last error %v", s.LastError)
	}
	in.mu.Lock()
	if s.CaptureFrames != uint64(in.calls-1) { // the failed read queued nothing
		t.Errorf("captured %d frames in %d reads (one failed)", s.CaptureFrames, in.calls)
	}
	in.mu.Unlock()
	out.mu.Lock()
	sevens := 0
	for _, v := range out.seen {
		if v == 7 {
			sevens++
		}
	}
	out.mu.Unlock()
	if sevens < 5*160 {
		t.Errorf("played %d samples of the sink's frames, want most of 10 frames", sevens)
	}
	// Closed: the capture ring is empty, so the source is silent.
	d.Source().ReadFrame(f)
	if analyze.Peak(f) != 0 {
		t.Error("source not silent after Close")
	}
	logMu.Lock()
	defer logMu.Unlock()
	for _, want := range []string{"op=capture err=\"capture: broken\"", "op=playback err=\"playback: broken\"", "capture overflow", "playback underflow"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
}

type lockedWriter struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func constFrame(v int16) []int16 {
	f := make([]int16, audio.FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

func TestLogWorthy(t *testing.T) {
	var got []uint64
	for n := uint64(1); n <= 2000; n++ {
		if logWorthy(n) {
			got = append(got, n)
		}
	}
	if want := []uint64{1, 10, 100, 1000}; !equalU64(got, want) {
		t.Errorf("logged at %v, want %v", got, want)
	}
}

func equalU64(a, b []uint64) bool {
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

func TestCheckALSAConfig(t *testing.T) {
	dir := t.TempDir()
	good, _ := filepath.Abs("testdata/asound-test.conf")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	include := write("include.conf", "</usr/share/alsa/alsa.conf>\n")
	comment := write("comment.conf", "# pcm.!default is missing\npcm.x { type null }\n")
	for _, tc := range []struct{ value, want string }{
		{"", ""},
		{good, ""},
		{include, ""},
		{good + ":" + include, ""},
		{good + " " + filepath.Join(dir, "gone.conf"), "ALSA_CONFIG_PATH names a missing file " + filepath.Join(dir, "gone.conf")},
		{comment, `without a pcm called "default"`},
		{write("blank.conf", "  \n# x\n"), "names an empty configuration"},
	} {
		t.Setenv("ALSA_CONFIG_PATH", tc.value)
		err := checkALSAConfig()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ALSA_CONFIG_PATH=%q: %v", tc.value, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ALSA_CONFIG_PATH=%q: error %v, want %q", tc.value, err, tc.want)
		}
	}
}

func TestErrorTexts(t *testing.T) {
	if got := noMatchingDevice(true, "foo").Error(); got != "no input device matching \"foo\" (run `teaphone devices` to list them)" {
		t.Errorf("got %q", got)
	}
	if !errors.Is(noDefaultDevice(false), ErrNoDevice) || !errors.Is(noMatchingDevice(false, "x"), ErrNoDevice) {
		t.Error("device errors do not match ErrNoDevice")
	}
	if got := ErrUnavailable.Error(); got != "this build has no PortAudio support (built with CGO_ENABLED=0 or -tags noportaudio)" {
		t.Errorf("ErrUnavailable = %q", got)
	}
}

// TestNoSoundCardErrors: no default device, or no PortAudio at all, means
// no sound card (main then runs with audio off); a named device that is
// missing does not.
func TestNoSoundCardErrors(t *testing.T) {
	for _, err := range []error{noDefaultDevice(false), noDefaultDevice(true), ErrUnavailable} {
		if !errors.Is(err, device.ErrNoSoundCard) {
			t.Errorf("%q does not match device.ErrNoSoundCard", err)
		}
	}
	if errors.Is(noMatchingDevice(false, "USB"), device.ErrNoSoundCard) {
		t.Error("a missing named device matches device.ErrNoSoundCard")
	}
}

// In a build without PortAudio, Open and Devices say so.
func TestUnavailableBuild(t *testing.T) {
	if Available {
		t.Skip("this build has PortAudio")
	}
	if _, err := Open(Config{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Open: %v, want ErrUnavailable", err)
	}
	if _, err := Devices(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Devices: %v, want ErrUnavailable", err)
	}
}
