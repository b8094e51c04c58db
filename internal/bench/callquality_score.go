//go:build unix

package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio/resample"
	"github.com/teaphone/teaphone/audio/wav"
	"github.com/teaphone/teaphone/internal/quality"
)

// recordSpeech records the bus (3 channels) while paplay plays the speech
// into the mouth channel, and returns the channels.
func recordSpeech(t *testing.T, pu *pulse, speech string) ([3][]float64, error) {
	var ch [3][]float64
	raw := filepath.Join(t.TempDir(), "bus.raw")
	rec, err := startProc(t, "parecord", pu.cmd("parecord", "--raw", "--device=bus.monitor", "--format=s16le",
		"--rate=8000", "--channels=3", "--channel-map=aux0,aux1,aux2", "--latency-msec=20", raw))
	if err != nil {
		return ch, err
	}
	time.Sleep(300 * time.Millisecond)
	play, err := startProc(t, "paplay", pu.cmd("paplay", "--device=micfeed", speech))
	if err != nil {
		rec.stop()
		return ch, err
	}
	select {
	case <-play.done:
	case <-time.After(2 * time.Minute):
		play.stop()
		rec.stop()
		return ch, fmt.Errorf("paplay did not finish: %s", tail(play.out.String(), 400))
	}
	if !play.cmd.ProcessState.Success() {
		rec.stop()
		return ch, fmt.Errorf("paplay: %v: %s", play.cmd.ProcessState, tail(play.out.String(), 400))
	}
	time.Sleep(1200 * time.Millisecond) // the ears lag the mouth
	rec.stop()
	b, err := os.ReadFile(raw)
	if err != nil {
		return ch, err
	}
	keep(t, raw, "bus.raw")
	n := len(b) / 6
	for c := range ch {
		ch[c] = make([]float64, n)
		for i := range n {
			ch[c][i] = float64(int16(binary.LittleEndian.Uint16(b[6*i+2*c:])))
		}
	}
	return ch, nil
}

// score aligns ear with mouth (globally within [minLag, minLag+1 s] …
// any lag when minLag < 0, then per 100 ms window) and scores it.
func score(mouth, ear []float64, silence float64, minLag, rate int) (s qualityScore) {
	lo, hi := minLag, minLag+rate
	if minLag < 0 {
		lo, hi = -len(mouth), len(ear)
	}
	lag, peak := quality.GlobalLag(mouth, ear, lo, hi)
	if peak < 0.2 {
		s.Err = fmt.Sprintf("the received speech does not match what was sent (correlation %.2f at %.1f ms)", peak, 1000*float64(lag)/float64(rate))
		return s
	}
	// A receiver that resamples may be a fraction of a sample off: align
	// that first, or the fraction alone reads as noise.
	frac := quality.SubSampleLag(mouth, ear, lag)
	whole := math.Floor(frac)
	ear, lag = quality.Shift(ear, frac-whole), int(whole)
	ws := quality.LocalLags(mouth, ear, alignWindow, lag, searchRadius, silence)
	for _, w := range ws {
		if w.Active {
			s.Active++
		}
		if w.Confident(minPeak) {
			s.Confident++
		}
	}
	med, ok := quality.MedianLag(ws, minPeak)
	if !ok {
		s.Err = "no window could be aligned"
		return s
	}
	s.Delay, s.haveDelay = time.Duration(med)*time.Second/time.Duration(rate), true
	s.Steps = quality.Steps(ws, minPeak, stepTolerance)
	al := quality.Aligned(mouth, ear, ws, minPeak, lag, subFrame)
	s.SegSNR, _ = quality.SegSNR(mouth, al, segFrame, silence)
	s.Impaired, s.SubFrames = quality.Impaired(mouth, al, subFrame, silence, impairedLimitDB)
	s.Runs, s.RunLen = quality.ImpairedRuns(mouth, al, subFrame, silence, impairedLimitDB, 1)
	sp := quality.Narrowband.Score(mouth, al, silence)
	s.SpecSNR, s.SpecImp, s.SpecFrames = sp.Mean(), sp.Impaired(quality.SpectralImpairedDB), len(sp.FrameDB)
	return s
}

// scoreRecording scores the remote (left) channel of teaphone's own call
// recording: what its jitter buffer and decoder gave the sound card.
func scoreRecording(mouth []float64, dir string, silence float64) qualityScore {
	files, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
	if len(files) != 1 {
		return qualityScore{Err: fmt.Sprintf("%d call recordings, want 1", len(files))}
	}
	x, rate, chans, err := wav.ReadFile(files[0])
	if err != nil {
		return qualityScore{Err: err.Error()}
	}
	if chans != 2 {
		return qualityScore{Err: fmt.Sprintf("recording has %d channels, want 2", chans)}
	}
	mono := make([]int16, len(x)/2)
	for i := range mono {
		mono[i] = x[2*i]
	}
	if rate != latRate { // a wideband call is recorded at its own rate
		rs, err := resample.New(rate, latRate)
		if err != nil {
			return qualityScore{Err: err.Error()}
		}
		out := make([]int16, rs.MaxOut(len(mono)))
		n, err := rs.Process(out, mono)
		if err != nil {
			return qualityScore{Err: err.Error()}
		}
		mono = out[:n]
	}
	left := make([]float64, len(mono))
	for i, v := range mono {
		left[i] = float64(v)
	}
	s := score(mouth, left, silence, -1, latRate)
	s.Delay, s.haveDelay = 0, false // another clock: not a delay
	return s
}

// keep copies a file of a cell into $TEAPHONE_BENCH_KEEP/<test name>/ when
// that is set, for a closer look after the run.
func keep(t *testing.T, path, name string) {
	dir := os.Getenv("TEAPHONE_BENCH_KEEP")
	if dir == "" {
		return
	}
	dst := filepath.Join(dir, strings.NewReplacer("/", "_", "%", "pct").Replace(t.Name()))
	b, err := os.ReadFile(path)
	if err == nil {
		err = os.MkdirAll(dst, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dst, name), b, 0o644)
	}
	if err != nil {
		t.Logf("keep %s: %v", name, err)
	}
}
