//go:build unix

package bench

import (
	"strings"
	"testing"
	"time"
)

// The goal lines judge G.711 on both measures and Opus on the spectral one.
func TestQualityGoal(t *testing.T) {
	lossy := impairment{Loss: 0.03}
	jittery := impairment{Jitter: 60 * time.Millisecond}
	opusLike := qualityScore{Impaired: 0.57, SubFrames: 2600, SpecImp: 0.005, SpecFrames: 1375}
	for _, tc := range []struct {
		name string
		cell qualityCell
		want string
	}{
		{"G.711 loss, both measures", qualityCell{Codec: "PCMU", Im: lossy,
			Teaphone: qualityScore{Impaired: 0.04, SpecImp: 0.02}, Baresip: qualityScore{Impaired: 0.02, SpecImp: 0.02}},
			"≤3 % impaired: wave NOT met; met, spec met; met"},
		{"Opus loss, spectral at 1 %", qualityCell{Codec: "opus", Im: lossy, Teaphone: opusLike,
			Baresip: qualityScore{Impaired: 0.5, SpecImp: 0.02}},
			"≤1 % impaired (spec): met; NOT met"},
		{"Opus jitter, spectral, with the clean floor", qualityCell{Codec: "opus", Im: jittery,
			Teaphone: qualityScore{SpecFrames: 1375, haveAdded: true, addedDelay: 60, haveClean: true},
			Baresip:  qualityScore{Err: "no call"}},
			"0 % impaired (spec), ≤ +70 ms: met; not measured (the clean cell: 0.00 %; n/a)"},
		{"no goal", qualityCell{Codec: "opus", Im: impairment{Loss: 0.1}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := goal(tc.cell); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	if s := qualitySummary([]qualityCell{{Codec: "opus", Im: lossy, Teaphone: opusLike, Baresip: opusLike}}, ""); !strings.Contains(s, "under 4 dB") {
		t.Fatalf("summary does not name the threshold:\n%s", s)
	}
}
