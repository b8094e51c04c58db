//go:build unix

package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
)

const (
	latRate      = 8000
	clickCount   = 10
	clickSpacing = 600 * time.Millisecond // > the largest delay searched
	clickLen     = 10 * time.Millisecond
	maxDelay     = 550 * time.Millisecond
)

// latencyResult is mouth-to-ear delay per click.
type latencyResult struct {
	Peer   string
	Delays []time.Duration // one per click found in the ear channel
	Clicks int             // clicks found in the mouth channel
	Runs   []string        // per independent run: median, or why it failed
	Note   string          // e.g. the device latencies the phones reported
	Err    string
}

// latencyRuns is how many independent setups (new processes, new streams)
// each latency figure is measured over: the delay is set when the streams
// start and then stays put, so it varies from setup to setup more than
// from click to click.
const latencyRuns = 3

// mergeRuns measures latencyRuns times and pools the clicks.
func mergeRuns(peer string, run func() latencyResult) latencyResult {
	res := latencyResult{Peer: peer}
	var errs []string
	for range latencyRuns {
		r := run()
		if r.Err != "" {
			errs = append(errs, r.Err)
			res.Runs = append(res.Runs, "failed")
			continue
		}
		_, med, _ := r.stats()
		res.Delays = append(res.Delays, r.Delays...)
		res.Clicks += r.Clicks
		res.Runs = append(res.Runs, fmt.Sprintf("%.1f", ms(med)))
		if r.Note != "" {
			if res.Note != "" {
				res.Note += "\n          "
			}
			res.Note += fmt.Sprintf("run %d: %s", len(res.Runs), r.Note)
		}
	}
	if len(res.Delays) == 0 {
		res.Err = strings.Join(errs, "; ")
	} else if len(errs) > 0 {
		res.Runs = append(res.Runs, "(a run failed: "+oneLine(errs[0])+")")
	}
	return res
}

func (r latencyResult) stats() (lo, med, hi time.Duration) {
	d := slices.Clone(r.Delays)
	slices.Sort(d)
	return d[0], d[len(d)/2], d[len(d)-1]
}

func (r latencyResult) String() string {
	if r.Err != "" {
		return fmt.Sprintf("%s mouth-to-ear: not measured: %s", r.Peer, r.Err)
	}
	lo, med, hi := r.stats()
	var s []string
	for _, d := range r.Delays {
		s = append(s, fmt.Sprintf("%.1f", ms(d)))
	}
	return fmt.Sprintf("%s mouth-to-ear over %d/%d clicks: min %.1f ms, median %.1f ms, max %.1f ms (run medians: %s; each click: %s)",
		r.Peer, len(r.Delays), r.Clicks, ms(lo), ms(med), ms(hi), strings.Join(r.Runs, " "), strings.Join(s, " "))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// clickSignal is 0.3 s of silence, then clickCount chirps (10 ms, 300→3000 Hz,
// Hann window, a sharp autocorrelation peak) clickSpacing apart, then 1 s of
// silence.
func clickSignal() []int16 {
	sp := int(clickSpacing.Seconds() * latRate)
	n := int(clickLen.Seconds() * latRate)
	pre := int(0.3 * latRate)
	x := make([]int16, pre+clickCount*sp+latRate)
	for c := range clickCount {
		off := pre + c*sp
		for i := range n {
			tt := float64(i) / latRate
			T := clickLen.Seconds()
			f0, f1 := 300.0, 3000.0
			ph := 2 * math.Pi * (f0*tt + (f1-f0)*tt*tt/(2*T))
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
			x[off+i] = int16(0.6 * 32767 * w * math.Sin(ph))
		}
	}
	return x
}

func writeWAV(path string, x []int16) error {
	b := make([]byte, 44+2*len(x))
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*len(x)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], latRate)
	binary.LittleEndian.PutUint32(b[28:], latRate*2)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*len(x)))
	for i, v := range x {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	return os.WriteFile(path, b, 0o644)
}

// recordClicks plays the clicks into micfeed while recording bus.monitor
// (stereo: left mouth, right ear) and returns both channels.
func recordClicks(t *testing.T, pu *pulse) (mouth, ear []int16, err error) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "clicks.wav")
	if err := writeWAV(wav, clickSignal()); err != nil {
		return nil, nil, err
	}
	raw := filepath.Join(dir, "bus.raw")
	rec, err := startProc(t, "parecord", pu.cmd("parecord", "--raw", "--device=bus.monitor", "--format=s16le",
		"--rate=8000", "--channels=2", "--latency-msec=20", raw))
	if err != nil {
		return nil, nil, err
	}
	time.Sleep(300 * time.Millisecond)
	play := pu.cmd("paplay", "--device=micfeed", wav)
	if out, err := play.CombinedOutput(); err != nil {
		rec.stop()
		return nil, nil, fmt.Errorf("paplay: %v: %s", err, out)
	}
	time.Sleep(time.Second)
	rec.stop()
	b, err := os.ReadFile(raw)
	if err != nil {
		return nil, nil, err
	}
	n := len(b) / 4
	mouth, ear = make([]int16, n), make([]int16, n)
	for i := range n {
		mouth[i] = int16(binary.LittleEndian.Uint16(b[4*i:]))
		ear[i] = int16(binary.LittleEndian.Uint16(b[4*i+2:]))
	}
	return mouth, ear, nil
}

// clickDelays finds the clicks in mouth and, for each, the delay at which
// it best matches ear (normalised cross-correlation over 0..maxDelay; a
// match needs a normalised peak of at least 0.5).
func clickDelays(mouth, ear []int16) (found int, delays []time.Duration) {
	var peak float64
	for _, v := range mouth {
		peak = max(peak, math.Abs(float64(v)))
	}
	if peak < 1000 {
		return 0, nil
	}
	thr := 0.2 * peak
	win := int(2 * clickLen.Seconds() * latRate)
	maxLag := int(maxDelay.Seconds() * latRate)
	for i := 0; i < len(mouth); i++ {
		if math.Abs(float64(mouth[i])) < thr {
			continue
		}
		start := max(i-int(0.005*latRate), 0)
		i += int(0.3 * latRate) // next click is clickSpacing later
		if start+win+maxLag > len(ear) {
			break
		}
		found++
		ref := mouth[start : start+win]
		var eRef float64
		for _, v := range ref {
			eRef += float64(v) * float64(v)
		}
		best, bestLag := 0.0, -1
		for lag := 0; lag <= maxLag; lag++ {
			var c, e float64
			for k, v := range ref {
				w := float64(ear[start+lag+k])
				c += float64(v) * w
				e += w * w
			}
			if e == 0 {
				continue
			}
			if r := c / math.Sqrt(eRef*e); r > best {
				best, bestLag = r, lag
			}
		}
		if bestLag >= 0 && best >= 0.5 {
			delays = append(delays, time.Duration(bestLag)*time.Second/latRate)
		}
	}
	return found, delays
}

func measureClicks(t *testing.T, pu *pulse, res *latencyResult) {
	mouth, ear, err := recordClicks(t, pu)
	if err != nil {
		res.Err = err.Error()
		return
	}
	res.Clicks, res.Delays = clickDelays(mouth, ear)
	if len(res.Delays) == 0 {
		res.Err = fmt.Sprintf("%d clicks played, none matched in the ear channel (ear peak %d)", res.Clicks, slices.Max(ear))
	}
}

// latencyTeaphone: teaphone A (dial) captures from mic, teaphone B (answer)
// plays to spk.
func latencyTeaphone(t *testing.T, b bins, pu *pulse) (res latencyResult) {
	res.Peer = "teaphone"
	envB, err := pu.alsaConf("tpB", "spk", "quiet.monitor")
	if err != nil {
		res.Err = err.Error()
		return
	}
	envA, err := pu.alsaConf("tpA", "junkA", "mic")
	if err != nil {
		res.Err = err.Error()
		return
	}
	ansB, port, err := startTeaphoneAnswer(t, b.teaphone, "portaudio", 4, 46000, 46998, "", envB)
	if err != nil {
		res.Err = err.Error()
		return
	}
	defer ansB.stop()

	dir := t.TempDir()
	cfg := "[sip]\nlisten = \"127.0.0.1:0\"\ntransports = [\"udp\"]\n[media]\nrtp_ports = [47000, 47998]\ncodecs = [\"PCMU\"]\naudio = \"portaudio\"\n"
	if err := os.WriteFile(filepath.Join(dir, "a.toml"), []byte(cfg), 0o644); err != nil {
		res.Err = err.Error()
		return
	}
	cmd := exec.Command(b.teaphone, "dial", "--config", filepath.Join(dir, "a.toml"), "--events", "jsonl",
		"--log-file", filepath.Join(dir, "a.log"), "--timeout", "30s", fmt.Sprintf("sip:bob@127.0.0.1:%d", port))
	cmd.Env = append(os.Environ(), envA...)
	cmd.Dir = dir
	dialA, err := startProc(t, "teaphone dial", cmd)
	if err != nil {
		res.Err = err.Error()
		return
	}
	defer dialA.stop()
	if err := dialA.waitOutput(`"state":"connected"`, 15*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "a.log"))
		res.Err = err.Error() + "\n" + tail(string(log), 800)
		return
	}
	time.Sleep(1500 * time.Millisecond) // let both devices and the jitter buffer settle
	measureClicks(t, pu, &res)
	// What PortAudio reported for the streams (A's capture, B's playback),
	// and B's playback counters (logged when its device closes).
	dialA.stop()
	ansB.stop()
	la, _ := os.ReadFile(filepath.Join(dir, "a.log"))
	lb, _ := os.ReadFile(filepath.Join(ansB.cmd.Dir, "teaphone.log"))
	res.Note = "PortAudio stream latency reported: A input " + logField(string(la), "input_latency") +
		", B output " + logField(string(lb), "output_latency") + "; B's playback: " +
		logField(string(lb), "played_frames") + " frames, " + logField(string(lb), "followed_frames") +
		" played as soon as the engine had them, " + logField(string(lb), "dropped_chunks") + " chunks dropped, " +
		logField(string(lb), "padded_chunks") + " padded, " + logField(string(lb), "underflows") + " underflows"
	return res
}

// latencyBaresip: the same with two baresips (alsa module through the
// pulse plugin, 8 kHz mono; startBaresip's "alsa" config).
func latencyBaresip(t *testing.T, pu *pulse) (res latencyResult) {
	res.Peer = "baresip"
	envB, err := pu.alsaConf("bsB", "spk", "quiet.monitor")
	if err != nil {
		res.Err = err.Error()
		return
	}
	envA, err := pu.alsaConf("bsA", "junkA", "mic")
	if err != nil {
		res.Err = err.Error()
		return
	}
	ports, err := peertest.FreePorts(6, 2)
	if err != nil {
		res.Err = err.Error()
		return
	}
	bob, err := startBaresip(t, baresipOpts{User: "bob", SIPPort: ports, Ctrl: ports + 2, RTPMin: 48000, RTPMax: 48998,
		MaxCalls: 4, Audio: "alsa", Env: envB})
	if err != nil {
		res.Err = err.Error()
		return
	}
	defer bob.stop()
	alice, err := startBaresip(t, baresipOpts{User: "alice", SIPPort: ports + 3, Ctrl: ports + 5, RTPMin: 49000, RTPMax: 49998,
		MaxCalls: 4, Audio: "alsa", Env: envA})
	if err != nil {
		res.Err = err.Error()
		return
	}
	defer alice.stop()
	ctl, err := dialBaresipCtrl(ports + 5)
	if err != nil {
		res.Err = "ctrl_tcp: " + err.Error()
		return
	}
	defer ctl.close()
	if err := ctl.command("dial", fmt.Sprintf("sip:bob@127.0.0.1:%d", ports)); err != nil {
		res.Err = err.Error()
		return
	}
	if err := ctl.waitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
		res.Err = err.Error() + "\n" + tail(alice.out.String(), 800)
		return
	}
	time.Sleep(1500 * time.Millisecond)
	measureClicks(t, pu, &res)
	return res
}

// logField returns the value of key=VALUE in the first log line that has it.
func logField(log, key string) string {
	i := strings.Index(log, " "+key+"=")
	if i < 0 {
		return "?"
	}
	v := log[i+len(key)+2:]
	if j := strings.IndexAny(v, " \n"); j >= 0 {
		v = v[:j]
	}
	return v
}
