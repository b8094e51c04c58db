//go:build linux && cgo && !noportaudio

package portaudio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/resample"
	"github.com/teaphone/teaphone/audio/wav"
)

// The echo canceller on a real echo path: a private PulseAudio whose
// loopback module feeds what the phone plays (the null sink "spk") back,
// delayed and attenuated, into the sink whose monitor is the phone's
// microphone ("room"), where a near-end talker (pacat) is mixed in too. The
// phone's side is this package's Device, opened on those through ALSA's
// pulse plugin, with the far end's speech added to its playback mixer.
// parecord records the microphone (room.monitor) independently: that is the
// echo without cancellation, against which the Device's captured frames
// are the residual.
const (
	pulseRate      = 8000
	loopbackMs     = 60   // module-loopback's latency: the "acoustic" delay
	loopbackVolume = 0.4  // its sink-input volume (linear): -8 dB
	farSecs        = 22.0 // the far end talks this long
	nearFrom       = 14.0 // seconds into it the near end starts (double talk)
	leadIn         = 1.0  // seconds of silence before the far end
)

// TestEchoCancelOnPulseAudio measures ERLE with the canceller off and on,
// how long it takes to converge, and that a near-end talker survives
// double talk. It needs pulseaudio, pulseaudio-utils and the ALSA pulse
// plugin (libasound2-plugins), which make test installs; without them it
// skips (fails under CI=true). About 55 s.
func TestEchoCancelOnPulseAudio(t *testing.T) {
	requirePortAudio(t)
	requireAEC(t)
	if testing.Short() {
		t.Skip("-short: the PulseAudio echo test takes about a minute")
	}
	for _, bin := range []string{"pulseaudio", "pacat", "parecord", "pactl"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but %s is missing (make test installs pulseaudio and pulseaudio-utils)", bin)
			}
			t.Skipf("skipping: %s is not installed (apt-get install pulseaudio pulseaudio-utils libasound2-plugins)", bin)
		}
	}
	if !pulsePluginInstalled() {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but the ALSA pulse plugin (libasound2-plugins) is missing")
		}
		t.Skip("skipping: the ALSA pulse plugin is not installed (apt-get install libasound2-plugins)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	pu := startTestPulse(t, ctx)

	far, what := farEndSpeech(t)
	near := nearEndTalker(int((farSecs + leadIn) * pulseRate))
	t.Logf("far end: %s; echo path: module-loopback %d ms, volume %.2f (%.1f dB); near end: 1 kHz tone spurts from %.0f s",
		what, loopbackMs, loopbackVolume, 20*math.Log10(loopbackVolume), nearFrom)

	var results []echoRun
	for _, on := range []bool{false, true} {
		r := runEchoCall(t, ctx, pu, on, far, near)
		results = append(results, r)
	}
	off, on := results[0], results[1]
	t.Logf("echo path: the echo in the microphone is %.1f dB against the far end played", off.echoGain)
	t.Logf("AEC off: ERLE %.1f dB", off.erle)
	t.Logf("AEC on:  ERLE %.1f dB (over %.0f-%.0f s); converged (ERLE ≥ 20 dB from then on, 1 s blocks) after %v; aligner's delay %v, the filter's main tap at %v (%.2f of its energy); %d frames clamped",
		on.erle, erleFrom, nearFrom-0.5, on.converged, on.stats.EchoDelay, on.tap, on.tapShare, on.stats.EchoClamped)
	t.Logf("double talk: near-end tone out %+.1f dB from its level in the microphone (AEC off: %+.1f dB); all but the tone %.1f dB below the echo in; ERLE in the near end's pauses %.1f dB (AEC off: %.1f dB)",
		on.nearLevel, off.nearLevel, on.dtERLE, on.pauseERLE, off.pauseERLE)
	if math.Abs(off.erle) > 1 {
		t.Errorf("AEC off: ERLE %.1f dB, want about 0 (the measurement is wrong)", off.erle)
	}
	if on.erle < 25 {
		t.Errorf("AEC on: ERLE %.1f dB, want at least 25 (%d playback underflows: each moves the echo path)", on.erle, on.stats.Underflows)
	}
	if on.converged < 0 || on.converged > 8*time.Second {
		t.Errorf("AEC on: converged after %v, want within 8 s (%d playback underflows: each moves the echo path)", on.converged, on.stats.Underflows)
	}
	if math.Abs(on.nearLevel) > 4 {
		t.Errorf("double talk: the near-end tone comes out %+.1f dB from its level, want within 4 dB", on.nearLevel)
	}
}

const erleFrom = 6.0 // seconds into the far end's talk: the ERLE window starts (after convergence)

type echoRun struct {
	erle, echoGain, nearLevel, dtERLE float64
	pauseERLE                         float64       // in the near end's pauses during double talk
	converged                         time.Duration // -1: never
	tap                               time.Duration
	tapShare                          float64
	stats                             Stats
}

// runEchoCall opens the Device on the private PulseAudio, plays far into
// its playback mixer and near into the room, and records both the
// microphone (parecord) and the Device's captured frames.
func runEchoCall(t *testing.T, ctx context.Context, pu *testPulse, aecOn bool, far, near []int16) echoRun {
	t.Helper()
	dir := t.TempDir()
	rawPath := filepath.Join(dir, "mic.raw")
	nearPath := filepath.Join(dir, "near.raw")
	writeRaw(t, nearPath, near)

	// TEAPHONE_ECHO_TEST_RATE=16000 (say) opens the device at that rate:
	// both the microphone and the reference are then resampled;
	// TEAPHONE_ECHO_TEST_LATENCY=40ms asks for that device latency.
	var rate float64
	if v := os.Getenv("TEAPHONE_ECHO_TEST_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil {
			t.Fatalf("TEAPHONE_ECHO_TEST_RATE=%q: %v", v, err)
		}
	}
	// 40 ms rather than the default 20: a playback underflow plays a gap,
	// which moves the echo path and makes the canceller adapt again, and a
	// loaded machine (make test runs packages in parallel) underflows at
	// 20 ms now and then.
	latency := 40 * time.Millisecond
	if v := os.Getenv("TEAPHONE_ECHO_TEST_LATENCY"); v != "" { // Config.Latency
		var err error
		if latency, err = time.ParseDuration(v); err != nil {
			t.Fatalf("TEAPHONE_ECHO_TEST_LATENCY=%q: %v", v, err)
		}
	}
	// TEAPHONE_ECHO_TEST_FRAMERATE=48000 runs the Device (and so the
	// canceller) at that frame rate, as a phone with Opus does; the far
	// end is resampled up to it and the capture back down for analysis.
	frameRate := pulseRate
	if v := os.Getenv("TEAPHONE_ECHO_TEST_FRAMERATE"); v != "" {
		if _, err := fmt.Sscan(v, &frameRate); err != nil {
			t.Fatalf("TEAPHONE_ECHO_TEST_FRAMERATE=%q: %v", v, err)
		}
	}
	d := openTest(t, Config{EchoCancel: aecOn, NoiseSuppress: true, Rate: rate, Latency: latency, FrameRate: frameRate})
	if d.Input().Rate == 0 || d.Output().Rate == 0 {
		t.Fatalf("device without both directions: %+v %+v", d.Input(), d.Output())
	}
	rec := pu.start(t, ctx, "parecord", "parecord", "--raw", "--device=room.monitor", "--format=s16le",
		fmt.Sprintf("--rate=%d", pulseRate), "--channels=1", "--latency-msec=20", rawPath)
	time.Sleep(300 * time.Millisecond) // parecord connected
	// The far end, through the mixer as a call's audio would be; the near
	// end into the room, started together.
	var farSrc audio.Source = &sliceSource{s: far}
	if frameRate != pulseRate {
		fs, err := resample.NewSource(farSrc, pulseRate, frameRate)
		if err != nil {
			t.Fatal(err)
		}
		farSrc = fs
	}
	d.Playback().Add(farSrc)
	talker := pu.start(t, ctx, "pacat near", "pacat", "-p", "--raw", "--device=room", "--format=s16le",
		fmt.Sprintf("--rate=%d", pulseRate), "--channels=1", "--latency-msec=20", nearPath)
	n := int((farSecs+leadIn)*pulseRate)/audio.FrameSamples + 25
	out := captureFrames(t, d, n)
	if frameRate != pulseRate {
		rs, err := resample.New(frameRate, pulseRate)
		if err != nil {
			t.Fatal(err)
		}
		down := make([]int16, rs.MaxOut(len(out)))
		k, _ := rs.Process(down, out)
		out = down[:k]
	}
	rec.stop()
	talker.stop()
	st := d.Stats()
	var run echoRun
	run.stats = st
	if d.echo != nil {
		run.tap, run.tapShare = d.echo.canc.EchoDelay()
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	mic := readRaw(t, rawPath)
	t.Logf("AEC %v: captured %d frames, parecord %d samples; device %+v", aecOn, len(out)/audio.FrameSamples, len(mic), st)

	// Line the recordings up on the echo's onset, then refine by
	// cross-correlating the first second (before the canceller converges
	// the output is the microphone).
	a, b := onset(mic), onset(out)
	if a < 0 || b < 0 {
		t.Fatalf("no echo in the recordings (onsets %d, %d): is the loopback running?", a, b)
	}
	lag, peak := analyze.CrossCorrelateDelay(mic[a:a+pulseRate/2], out[b:b+pulseRate/2], pulseRate/10)
	b += lag
	t.Logf("AEC %v: onsets %d (parecord) and %d (device), refined by %d samples (correlation %.2f)", aecOn, a, b, lag, peak)
	// Where the near end starts in the microphone: by cross-correlation
	// with what pacat played (it started with the far end, but the far
	// end's way to the microphone is longer).
	ns0 := int((leadIn + nearFrom) * pulseRate)
	nlag, npeak := analyze.CrossCorrelateDelay(near[ns0-pulseRate/4:ns0+pulseRate], mic[ns0-pulseRate/4:ns0+pulseRate], pulseRate/2)
	nearAt := float64(ns0+nlag-a) / pulseRate // seconds after the echo's onset
	t.Logf("AEC %v: the near end starts %.3f s after the echo's onset (correlation %.2f)", aecOn, nearAt, npeak)
	mic, out = mic[a:], out[b:]
	farAt := onset(far)
	w := func(x []int16, from, to float64) []int16 {
		i, j := int(from*pulseRate), min(int(to*pulseRate), len(x))
		if i >= j {
			t.Fatalf("recording too short: %d samples, want %d", len(x), int(to*pulseRate))
		}
		return x[i:j]
	}
	run.erle = erle(w(mic, erleFrom, nearFrom-0.5), w(out, erleFrom, nearFrom-0.5))
	run.echoGain = 10 * math.Log10(energy16(w(mic, erleFrom, nearFrom-0.5))/energy16(w(far[farAt:], erleFrom, nearFrom-0.5)))
	// The echo path's delay over the run (the far end as the mixer gave it
	// against the microphone): it grows wherever the playback played a gap
	// (an underflow) or the sound server took more into its buffers.
	var drift []string
	for s := 1.0; s+1.5 < nearFrom; s += 2 {
		fs := far[farAt+int(s*pulseRate):][:pulseRate]
		ms := mic[int((s-0.25)*pulseRate):][:pulseRate+pulseRate/2]
		lag, peak := analyze.CrossCorrelateDelay(fs, ms, pulseRate/4)
		if peak > 0.3 {
			drift = append(drift, fmt.Sprintf("%.0fs:%+dms", s, (lag-pulseRate/4)*1000/pulseRate))
		}
	}
	t.Logf("AEC %v: the echo's delay after its onset, by time: %s", aecOn, strings.Join(drift, " "))
	// Convergence: 1 s blocks every 0.25 s; the first time from which every
	// block with far-end sound has ERLE ≥ 20 dB.
	run.converged = -1
	for s := nearFrom - 1.5; s >= 0; s -= 0.25 {
		m, o := w(mic, s, s+1), w(out, s, s+1)
		if analyze.DBFS(m) < -50 {
			continue
		}
		if erle(m, o) < 20 {
			run.converged = time.Duration((s + 1) * float64(time.Second))
			break
		}
		run.converged = 0
	}
	// Double talk: from 1 s into it to its end.
	nm, no := w(mic, nearAt+1, farSecs-0.5), w(out, nearAt+1, farSecs-0.5)
	toneIn := analyze.ToneShare(nm, pulseRate, 1000) * energy16(nm)
	toneOut := analyze.ToneShare(no, pulseRate, 1000) * energy16(no)
	run.nearLevel = 10 * math.Log10(toneOut/toneIn)
	run.dtERLE = 10 * math.Log10((energy16(nm)-toneIn)/math.Max(energy16(no)-toneOut, 1))
	// The near end's pauses during double talk: the far end alone again,
	// so the echo left there says whether the filter held.
	var pm, po float64
	for s := nearAt; s+1.65 < farSecs; s += 1.7 {
		pm += energy16(w(mic, s+1.25, s+1.65))
		po += energy16(w(out, s+1.25, s+1.65))
	}
	run.pauseERLE = 10 * math.Log10(pm/math.Max(po, 1))
	return run
}

func erle(mic, out []int16) float64 {
	return 10 * math.Log10(energy16(mic)/math.Max(energy16(out), 1))
}

// onset returns the first sample of the first 20 ms frame above -45 dBFS,
// or -1.
func onset(x []int16) int {
	f := pulseRate / 50
	for off := 0; off+f <= len(x); off += f {
		if analyze.DBFS(x[off:off+f]) > -45 {
			return off
		}
	}
	return -1
}

// sliceSource plays s, then io.EOF.
type sliceSource struct {
	s   []int16
	off int
}

func (s *sliceSource) ReadFrame(dst []int16) error {
	if s.off >= len(s.s) {
		return io.EOF
	}
	n := copy(dst, s.s[s.off:])
	clear(dst[n:])
	s.off += n
	return nil
}

// farEndSpeech returns leadIn seconds of silence, then farSecs of the far
// end at pulseRate: espeak-ng reading a text when it is installed (and
// TEAPHONE_ECHO_TEST_FAR is not "synthetic"), else this package's
// synthetic speech-like signal.
func farEndSpeech(t *testing.T) ([]int16, string) {
	n := int((farSecs + leadIn) * pulseRate)
	s := make([]int16, int(leadIn*pulseRate), n)
	if path, err := exec.LookPath("espeak-ng"); err == nil && os.Getenv("TEAPHONE_ECHO_TEST_FAR") != "synthetic" {
		wavPath := filepath.Join(t.TempDir(), "far.wav")
		text := "The quick brown fox jumps over the lazy dog. A softphone for the terminal places calls through the sound card. " +
			"When the far end talks on a loudspeaker, the microphone hears it again, and the echo canceller must take it out. " +
			"It learns the path from the speaker to the microphone within a few seconds, and follows it while both sides talk. " +
			"Seven hundred and forty two, eighteen, ninety nine. The rain in Spain stays mainly in the plain."
		cmd := exec.Command(path, "-s", "160", "-w", wavPath, text)
		if out, err := cmd.CombinedOutput(); err == nil {
			if v, rate, ch, err := wav.ReadFile(wavPath); err == nil && ch == 1 {
				r, err := resample.New(rate, pulseRate)
				if err == nil {
					res := make([]int16, r.MaxOut(len(v)))
					k, _ := r.Process(res, v)
					for len(s) < n { // loop the text to fill farSecs
						s = append(s, res[:min(k, n-len(s))]...)
					}
					return s, fmt.Sprintf("espeak-ng (%.1f s of speech, looped)", float64(k)/pulseRate)
				}
			}
		} else {
			t.Logf("espeak-ng failed (%v: %s); using the synthetic far end", err, out)
		}
	}
	return append(s, farEnd(n-len(s), pulseRate, 11)...), "synthetic speech-like signal (band noise and harmonics under a syllable envelope)"
}

// nearEndTalker returns n samples of the near end: silence until leadIn +
// nearFrom seconds, then 1 kHz tone spurts (1.2 s on, 0.5 s off) at -26
// dBFS: spurts, not a steady tone, which the noise suppressor would learn
// as noise.
func nearEndTalker(n int) []int16 {
	s := make([]int16, n)
	amp := math.Sqrt2 * 32768 * math.Pow(10, -26.0/20)
	for i := int((leadIn + nearFrom) * pulseRate); i < n; i++ {
		ts := float64(i)/pulseRate - leadIn - nearFrom
		if math.Mod(ts, 1.7) < 1.2 {
			s[i] = audio.Int16(amp * math.Sin(2*math.Pi*1000*float64(i)/pulseRate))
		}
	}
	return s
}

func pulsePluginInstalled() bool {
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu/alsa-lib", "/usr/lib/aarch64-linux-gnu/alsa-lib", "/usr/lib/alsa-lib", "/usr/lib64/alsa-lib"} {
		if _, err := os.Stat(filepath.Join(dir, "libasound_module_pcm_pulse.so")); err == nil {
			return true
		}
	}
	return false
}

// testPulse is a private PulseAudio daemon on a socket in a temp dir.
type testPulse struct {
	dir, server string
}

// startTestPulse starts the daemon with the echo path (see the top of the
// file) and points this process's ALSA default device at it (spk to play,
// room.monitor to capture). Everything it starts is stopped and waited for
// at the end of the test, and its directory removed.
func startTestPulse(t *testing.T, ctx context.Context) *testPulse {
	t.Helper()
	dir, err := os.MkdirTemp("", "tpe") // short: socket paths are limited to 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "native")
	conf := fmt.Sprintf(`load-module module-native-protocol-unix socket=%[1]s auth-anonymous=1
load-module module-null-sink sink_name=spk rate=%[2]d channels=1 format=s16le
load-module module-null-sink sink_name=room rate=%[2]d channels=1 format=s16le
load-module module-loopback source=spk.monitor sink=room latency_msec=%[3]d adjust_time=0 source_dont_move=true sink_dont_move=true remix=false
set-default-sink spk
set-default-source room.monitor
`, sock, pulseRate, loopbackMs)
	if err := os.WriteFile(filepath.Join(dir, "echo.pa"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	pu := &testPulse{dir: dir, server: "unix:" + sock}
	daemon := pu.start(t, ctx, "pulseaudio", "pulseaudio", "-n", "-F", filepath.Join(dir, "echo.pa"), "--daemonize=no",
		"--exit-idle-time=-1", "--disable-shm=yes", "--use-pid-file=no", "--realtime=no", "--high-priority=no", "--log-target=stderr")
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 100 || daemon.exited() {
			t.Fatalf("pulseaudio did not start: %s", daemon.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Keep-alive streams: an idle null sink sleeps and stalls new streams.
	for _, sink := range []string{"spk", "room"} {
		pu.start(t, ctx, "keepalive "+sink, "pacat", "-p", "--raw", "--device="+sink, "--format=s16le",
			fmt.Sprintf("--rate=%d", pulseRate), "--channels=1", "--latency-msec=10", "/dev/zero")
	}
	// The loopback's volume: the echo's attenuation.
	time.Sleep(500 * time.Millisecond)
	out, err := pu.command(ctx, "pactl", "list", "short", "sink-inputs").CombinedOutput()
	if err != nil {
		t.Fatalf("pactl list: %v: %s", err, out)
	}
	found := false
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) >= 4 && strings.Contains(line, "loopback") {
			if o, err := pu.command(ctx, "pactl", "set-sink-input-volume", f[0], fmt.Sprint(loopbackVolume)).CombinedOutput(); err != nil {
				t.Fatalf("pactl set-sink-input-volume: %v: %s", err, o)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("no loopback sink input: %s", out)
	}
	alsa := filepath.Join(dir, "asound.conf")
	if err := os.WriteFile(alsa, []byte(`pcm.!default {
    type asym
    playback.pcm { type pulse device "spk" }
    capture.pcm { type pulse device "room.monitor" }
}
ctl.!default { type pulse }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range pu.env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("ALSA_CONFIG_PATH", alsa)
	t.Setenv(PaceEnv, "")
	time.Sleep(2 * time.Second) // the null sinks' first sleep cycle
	return pu
}

func (pu *testPulse) env() []string {
	return []string{"PULSE_SERVER=" + pu.server, "HOME=" + pu.dir, "XDG_RUNTIME_DIR=" + pu.dir}
}

func (pu *testPulse) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, name, args...)
	c.Env = append(os.Environ(), pu.env()...)
	c.Dir = pu.dir
	return c
}

// testProc is a started subprocess in its own process group.
type testProc struct {
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
	once sync.Once
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// start starts a PulseAudio client (or the daemon) of pu; it is stopped at
// the end of the test if not before.
func (pu *testPulse) start(t *testing.T, ctx context.Context, what, name string, args ...string) *testProc {
	t.Helper()
	c := exec.Command(name, args...)
	c.Env = append(os.Environ(), pu.env()...)
	c.Dir = pu.dir
	p := &testProc{cmd: c, out: &syncBuf{}, done: make(chan struct{})}
	c.Stdout, c.Stderr = p.out, p.out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	go func() {
		_ = c.Wait()
		close(p.done)
	}()
	go func() { // the test's time bound
		select {
		case <-ctx.Done():
			p.stop()
		case <-p.done:
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *testProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *testProc) output() string {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	return p.out.b.String()
}

// stop sends SIGTERM, waits up to 3 s, then SIGKILLs the process group,
// and always waits. Idempotent.
func (p *testProc) stop() {
	p.once.Do(func() {
		if !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
}
