package opus

import (
	"math/rand/v2"
	"testing"
)

// encodeAll encodes pcm with c, one packet per 20 ms frame.
func encodeAll(t *testing.T, c EncoderConfig, pcm []int16) [][]byte {
	t.Helper()
	enc, err := NewEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	packets := make([][]byte, len(pcm)/FrameSamples)
	buf := make([]byte, MaxPayload)
	for i := range packets {
		n, err := enc.Encode(buf, pcm[i*FrameSamples:(i+1)*FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		packets[i] = append([]byte(nil), buf[:n]...)
	}
	return packets
}

// lossRun decodes packets but those marked in lost, which it replaces by
// one of three policies, and returns the decoded signal:
//
//	"zero": a lost frame is silence
//	"plc":  a lost frame is concealed (Conceal)
//	"fec":  rebuilt from the next packet when it arrived (DecodeFEC), else concealed
func lossRun(t *testing.T, packets [][]byte, lost []bool, policy string) (out []int16, rebuilt int) {
	t.Helper()
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	frames := len(packets)
	out = make([]int16, frames*FrameSamples)
	for i := range packets {
		dst := out[i*FrameSamples : (i+1)*FrameSamples]
		var err error
		switch {
		case !lost[i]:
			_, err = dec.Decode(dst, packets[i])
		case policy == "zero":
		case policy == "fec" && i+1 < frames && !lost[i+1]:
			_, err = dec.DecodeFEC(dst, packets[i+1])
			rebuilt++
		default:
			_, err = dec.Conceal(dst)
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	return out, rebuilt
}

// TestLossConcealment: under 10 % random loss, FEC from the next packet
// plus concealment where that is lost too brings the signal far closer to
// the loss-free decoding than zero-filling the gaps (what G.711 without
// concealment would do), and closer than concealment alone. The SNRs are
// measured against the loss-free decoding of the same packets, so that
// only the losses count, not the coding.
func TestLossConcealment(t *testing.T) {
	requireOpus(t)
	pcm := speechLike(10*SampleRate, 7)
	frames := len(pcm) / FrameSamples
	// Exactly 10 % of the frames, at random places (some in a row), lost.
	lost := make([]bool, frames)
	nlost := frames / 10
	for _, i := range rand.New(rand.NewPCG(14, 10)).Perm(frames)[:nlost] {
		lost[i] = true
	}
	with := encodeAll(t, ConfigFor(LocalParams()), pcm) // useinbandfec=1
	without := encodeAll(t, ConfigFor(Params{}), pcm)   // useinbandfec=0
	none := make([]bool, frames)
	clean, _ := lossRun(t, with, none, "zero")
	zero, _ := lossRun(t, with, lost, "zero")
	plc, _ := lossRun(t, with, lost, "plc")
	fec, rebuilt := lossRun(t, with, lost, "fec")
	noCopy, _ := lossRun(t, without, lost, "fec")
	cleanOff, _ := lossRun(t, without, none, "zero")
	zeroSNR, plcSNR, fecSNR, noCopySNR := snr(clean, zero), snr(clean, plc), snr(clean, fec), snr(cleanOff, noCopy)
	t.Logf("%d of %d frames lost (%.1f %%), %d rebuilt from the next packet's FEC", nlost, frames,
		100*float64(nlost)/float64(frames), rebuilt)
	t.Logf("SNR against the loss-free decoding: zero-fill %.1f dB, PLC %.1f dB, FEC+PLC %.1f dB "+
		"(FEC+PLC with an encoder told useinbandfec=0: %.1f dB)", zeroSNR, plcSNR, fecSNR, noCopySNR)
	if fecSNR < zeroSNR+3 {
		t.Errorf("FEC+PLC SNR %.1f dB is not 3 dB better than zero-filling (%.1f dB)", fecSNR, zeroSNR)
	}
	if fecSNR < plcSNR+1 {
		t.Errorf("FEC+PLC SNR %.1f dB is not 1 dB better than PLC alone (%.1f dB)", fecSNR, plcSNR)
	}
	if fecSNR < noCopySNR+1 {
		t.Errorf("FEC+PLC SNR %.1f dB is not 1 dB better than without the FEC copy (%.1f dB): is FEC encoded?", fecSNR, noCopySNR)
	}
}
