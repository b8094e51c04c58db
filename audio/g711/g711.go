// Package g711 converts between 16-bit linear PCM and ITU-T G.711 µ-law
// (PCMU) and A-law (PCMA) codes, in the slice shape the rest of teaphone
// uses.
//
// The companding itself is github.com/zaf/g711, called one sample
// at a time through its EncodeUlawFrame/DecodeUlawFrame and
// EncodeAlawFrame/DecodeAlawFrame; its slice and io helpers allocate a new
// buffer per call, so this package does not use them. Those per-sample
// functions inline, and the slice functions here never allocate and never
// fail: they convert min(len(dst), len(src)) samples and return that
// count, so a 20 ms frame is converted with
//
//	n := g711.EncodeUlaw(payload[:audio.FrameSamples], frame)
//
// How the codes compare with other implementations (the tests check each
// statement over all 65 536 inputs and all 256 codes):
//
//   - Decoding gives the same sample as sox for every code.
//   - Encoding is that of the ITU-T G.191 reference g711.c: the sample is
//     truncated to 14 bits (µ-law) or 13 bits (A-law) before compression.
//   - sox rounds to 14 or 13 bits instead, so its encoder gives another
//     code for the inputs just next to a decision threshold: 510 µ-law and
//     1 020 A-law inputs of 65 536, each the neighbouring code, one
//     quantisation step away.
package g711

import zaf "github.com/zaf/g711"

// LinearToUlaw encodes one 16-bit linear sample as a µ-law code.
func LinearToUlaw(s int16) byte { return zaf.EncodeUlawFrame(s) }

// UlawToLinear decodes one µ-law code to a 16-bit linear sample.
func UlawToLinear(u byte) int16 { return zaf.DecodeUlawFrame(u) }

// LinearToAlaw encodes one 16-bit linear sample as an A-law code.
func LinearToAlaw(s int16) byte { return zaf.EncodeAlawFrame(s) }

// AlawToLinear decodes one A-law code to a 16-bit linear sample.
func AlawToLinear(a byte) int16 { return zaf.DecodeAlawFrame(a) }

// EncodeUlaw encodes linear samples from src into µ-law codes in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func EncodeUlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = zaf.EncodeUlawFrame(s)
	}
	return n
}

// DecodeUlaw decodes µ-law codes from src into linear samples in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func DecodeUlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, u := range src {
		dst[i] = zaf.DecodeUlawFrame(u)
	}
	return n
}

// EncodeAlaw encodes linear samples from src into A-law codes in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func EncodeAlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = zaf.EncodeAlawFrame(s)
	}
	return n
}

// DecodeAlaw decodes A-law codes from src into linear samples in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func DecodeAlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, a := range src {
		dst[i] = zaf.DecodeAlawFrame(a)
	}
	return n
}
