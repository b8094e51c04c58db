//go:build unix

package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/quality"
)

// qualitySummary is the table of the call-quality cells.
func qualitySummary(cells []qualityCell, setupErr string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "\nCall quality under loss and jitter: speech (espeak-ng en-us, 165 wpm, Harvard sentences 1–7) said into the mouth channel of a private PulseAudio;\n"+
		"sender teaphone dial (PortAudio capture) → seeded relay (random loss, uniform jitter, RTP both ways) → receiver playing through ALSA/PulseAudio into its own channel;\n"+
		"the teaphone and baresip receivers are called at the same time with the same loss pattern. Scores of what each receiver played against what was said:\n"+
		"wave = waveform SNR: segSNR over active 20 ms frames (clamped −10..35 dB), imp = active 5 ms sub-frames under 10 dB (phase-sensitive: G.711 only);\n"+
		"spec = spectral SNR of the magnitude spectra (Hann, 20 ms frames every 10 ms, 100–3800 Hz, phase ignored): mean over active frames,\n"+
		"imp = active frames under %g dB (a frame played as silence is 0 dB; the measure for Opus); +delay = median mouth-to-ear against the 0%%/0ms cell,\n"+
		"st = steps: changes of the best alignment by more than 2 ms between consecutive aligned 100 ms windows\n", quality.SpectralImpairedDB)
	if setupErr != "" {
		fmt.Fprintf(&s, "not measured: %s\n", oneLine(setupErr))
		return s.String()
	}
	const head = "wave dB   imp% | spec dB   imp% |  +delay st"
	fmt.Fprintf(&s, "%-16s | %-44s | %-44s |\n", "", "teaphone", "baresip")
	fmt.Fprintf(&s, "%-6s %-9s | %s | %s | %s\n", "codec", "cell", head, head, "goal (teaphone; baresip)")
	for _, c := range cells {
		fmt.Fprintf(&s, "%-6s %-9s | %s | %s | %s\n", c.Codec, c.Im, c.Teaphone.cols(), c.Baresip.cols(), goal(c))
	}
	for _, c := range cells {
		if c.Im.Loss == 0 && c.Im.Jitter == 0 {
			fmt.Fprintf(&s, "%s clean cell mouth-to-ear: teaphone %s, baresip %s\n", c.Codec, c.Teaphone.delayText(), c.Baresip.delayText())
			if c.Teaphone.Err == "" && c.Teaphone.Impaired > 0.05 {
				fmt.Fprintf(&s, "%s: %.0f %% of the clean cell is \"impaired\" on waveform SNR (%.2f %% on the spectral measure): a codec that does not keep\n"+
					"    the waveform (Opus) scores low on waveform SNR without any loss; its goals are judged on the spectral measure\n",
					c.Codec, 100*c.Teaphone.Impaired, 100*c.Teaphone.SpecImp)
			}
		}
	}
	s.WriteString("Where the impairment comes from: RTP packets the relay dropped toward the receiver (of those sent), runs of impaired sub-frames in what\n" +
		"each receiver played (waveform measure; gaps of one sub-frame joined; about one run per loss that hit speech) × their mean length, and\n" +
		"teaphone's own call recording (its jitter buffer and concealment output, before the sound card) scored the same way, with its playback counters:\n")
	for _, c := range cells {
		fmt.Fprintf(&s, "  %-6s %-9s relay dropped %3d/%-4d | teaphone %s | baresip %s | teaphone's recording ", c.Codec, c.Im,
			c.Teaphone.Dropped, c.Teaphone.Dropped+c.Teaphone.Forwarded, c.Teaphone.runs(), c.Baresip.runs())
		if c.Rec.Err != "" {
			fmt.Fprintf(&s, "not measured: %s\n", oneLine(c.Rec.Err))
			continue
		}
		fmt.Fprintf(&s, "wave %4.1f dB %5.2f %%, spec %4.1f dB %5.2f %%, %s, %d steps %s\n", c.Rec.SegSNR, 100*c.Rec.Impaired,
			c.Rec.SpecSNR, 100*c.Rec.SpecImp, c.Rec.runs(), c.Rec.Steps, c.Teaphone.Note)
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
		return fmt.Sprintf("%-44s", "not measured: "+truncate(oneLine(s.Err), 30))
	}
	added := "    n/a"
	if s.haveAdded {
		added = fmt.Sprintf("%+7.1f", s.addedDelay)
	}
	return fmt.Sprintf("%7.1f %6.2f | %7.1f %6.2f | %s ms %2d", s.SegSNR, 100*s.Impaired, s.SpecSNR, 100*s.SpecImp, added, s.Steps)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// goal is the verdict of issue 14's goals for the cells that have one:
// G.711 on both measures (waveform; spectral), Opus on the spectral one.
func goal(c qualityCell) string {
	g711 := c.Codec == "PCMU" || c.Codec == "PCMA"
	lossOK := func(limit float64, spectral bool) func(s qualityScore) string {
		return func(s qualityScore) string {
			if spectral {
				return metOrNot(s.SpecImp <= limit)
			}
			return metOrNot(s.Impaired <= limit)
		}
	}
	jitterOK := func(spectral bool) func(s qualityScore) string {
		return func(s qualityScore) string {
			imp, n := s.Impaired, s.SubFrames
			if spectral {
				imp, n = s.SpecImp, s.SpecFrames
			}
			return metOrNot(n > 0 && imp == 0 && s.haveAdded && s.addedDelay <= goalJitterDelayMs)
		}
	}
	switch {
	case c.Im.Loss == 0.03 && c.Im.Jitter == 0 && g711:
		return "≤3 % impaired: wave " + both(c, lossOK(goalLossImpaired, false)) + ", spec " + both(c, lossOK(goalLossImpaired, true))
	case c.Im.Loss == 0.03 && c.Im.Jitter == 0:
		return "≤1 % impaired (spec): " + both(c, lossOK(goalOpusImpaired, true))
	case c.Im.Loss == 0 && c.Im.Jitter == 60*time.Millisecond && g711:
		return "0 % impaired, ≤ +70 ms: wave " + both(c, jitterOK(false)) + ", spec " + both(c, jitterOK(true))
	case c.Im.Loss == 0 && c.Im.Jitter == 60*time.Millisecond:
		floor := func(s qualityScore) string {
			if !s.haveClean {
				return "n/a"
			}
			return fmt.Sprintf("%.2f %%", 100*s.cleanSpecImp)
		}
		return "0 % impaired (spec), ≤ +70 ms: " + both(c, jitterOK(true)) +
			" (the clean cell: " + floor(c.Teaphone) + "; " + floor(c.Baresip) + ")"
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
