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

// qualitySummary is the table of the call-quality cells.
func qualitySummary(cells []qualityCell, setupErr string) string {
	var s strings.Builder
	s.WriteString("\nCall quality under loss and jitter: speech (espeak-ng en-us, 165 wpm, Harvard sentences 1–7) said into the mouth channel of a private PulseAudio;\n" +
		"sender teaphone dial (PortAudio capture) → seeded relay (random loss, uniform jitter, RTP both ways) → receiver playing through ALSA/PulseAudio into its own channel;\n" +
		"the teaphone and baresip receivers are called at the same time with the same loss pattern. Scores of what each receiver played against what was said:\n" +
		"segSNR over active 20 ms frames (clamped −10..35 dB), impaired = active 5 ms sub-frames under 10 dB SNR, +delay = median mouth-to-ear against the 0%/0ms cell,\n" +
		"steps = changes of the best alignment by more than 2 ms between consecutive aligned 100 ms windows\n")
	if setupErr != "" {
		fmt.Fprintf(&s, "not measured: %s\n", oneLine(setupErr))
		return s.String()
	}
	fmt.Fprintf(&s, "%-6s %-9s | %-36s | %-36s | %s\n", "codec", "cell", "teaphone segSNR impaired +delay steps", "baresip segSNR impaired +delay steps", "goal (teaphone; baresip)")
	for _, c := range cells {
		fmt.Fprintf(&s, "%-6s %-9s | %s | %s | %s\n", c.Codec, c.Im, c.Teaphone.cols(), c.Baresip.cols(), goal(c))
	}
	for _, c := range cells {
		if c.Im.Loss == 0 && c.Im.Jitter == 0 {
			fmt.Fprintf(&s, "%s clean cell mouth-to-ear: teaphone %s, baresip %s\n", c.Codec, c.Teaphone.delayText(), c.Baresip.delayText())
			if c.Teaphone.Err == "" && c.Teaphone.Impaired > 0.05 {
				fmt.Fprintf(&s, "%s: %.0f %% of the clean cell is already \"impaired\": a codec that does not keep the waveform (Opus) scores low on SNR without any loss;\n"+
					"    read its other cells against its clean cell (the goals are G.711's)\n", c.Codec, 100*c.Teaphone.Impaired)
			}
		}
	}
	s.WriteString("Where the impairment comes from: RTP packets the relay dropped toward the receiver (of those sent), runs of impaired sub-frames in what\n" +
		"each receiver played (gaps of one sub-frame joined; about one run per loss that hit speech) × their mean length, and teaphone's own\n" +
		"call recording (its jitter buffer and concealment output, before the sound card) scored the same way, with its playback counters:\n")
	for _, c := range cells {
		fmt.Fprintf(&s, "  %-6s %-9s relay dropped %3d/%-4d | teaphone %s | baresip %s | teaphone's recording ", c.Codec, c.Im,
			c.Teaphone.Dropped, c.Teaphone.Dropped+c.Teaphone.Forwarded, c.Teaphone.runs(), c.Baresip.runs())
		if c.Rec.Err != "" {
			fmt.Fprintf(&s, "not measured: %s\n", oneLine(c.Rec.Err))
			continue
		}
		fmt.Fprintf(&s, "segSNR %4.1f dB, impaired %5.2f %%, %s, %d steps %s\n", c.Rec.SegSNR, 100*c.Rec.Impaired, c.Rec.runs(), c.Rec.Steps, c.Teaphone.Note)
	}
	return s.String()
}

func (s qualityScore) runs() string {
	if s.Err != "" {
		return "not measured"
	}
	return fmt.Sprintf("%3d runs × %4.1f ms", s.Runs, s.RunLen*1000*subFrame/latRate)
}

func (s qualityScore) delayText() string {
	if !s.haveDelay {
		return "not measured"
	}
	return fmt.Sprintf("%.1f ms", ms(s.Delay))
}

func (s qualityScore) cols() string {
	if s.Err != "" {
		return fmt.Sprintf("%-36s", "not measured: "+truncate(oneLine(s.Err), 22))
	}
	added := "     n/a"
	if s.haveAdded {
		added = fmt.Sprintf("%+8.1f", s.addedDelay)
	}
	return fmt.Sprintf("%8.1f dB %6.2f %% %s ms %4d", s.SegSNR, 100*s.Impaired, added, s.Steps)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// goal is the verdict of issue 14's goals for the cells that have one.
func goal(c qualityCell) string {
	var check func(s qualityScore) string
	switch {
	case c.Im.Loss == 0.03 && c.Im.Jitter == 0:
		check = func(s qualityScore) string { return metOrNot(s.Impaired <= goalLossImpaired) }
		return "≤3 % impaired: " + both(c, check)
	case c.Im.Loss == 0 && c.Im.Jitter == 60*time.Millisecond:
		check = func(s qualityScore) string {
			return metOrNot(s.SubFrames > 0 && s.Impaired == 0 && s.haveAdded && s.addedDelay <= goalJitterDelayMs)
		}
		return "0 % impaired, ≤ +70 ms: " + both(c, check)
	}
	return ""
}

func both(c qualityCell, check func(qualityScore) string) string {
	f := func(s qualityScore) string {
		if s.Err != "" {
			return "not measured"
		}
		return check(s)
	}
	return f(c.Teaphone) + "; " + f(c.Baresip)
}

// formatCell names an impairment cell: "3%/20ms".
func formatCell(loss float64, jitter time.Duration) string {
	return fmt.Sprintf("%g%%/%dms", 100*loss, jitter.Milliseconds())
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
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
