//go:build cgo && !noopus

package opus

import (
	"math"
	"testing"

	hraban "gopkg.in/hraban/opus.v2"

	"github.com/teaphone/teaphone/audio/analyze"
)

// TestStereoDecodesToMono: a peer that sends stereo although teaphone said
// stereo=0 (RFC 7587 §6.1: a preference only) is still played, mixed down
// to mono: a 1 kHz tone at -12 dBFS in both channels comes back at 1 kHz,
// -12 dBFS.
func TestStereoDecodesToMono(t *testing.T) {
	enc, err := hraban.NewEncoder(SampleRate, 2, hraban.AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	mono := sine(SampleRate, 1000, -12)
	stereo := make([]int16, 2*len(mono))
	for i, v := range mono {
		stereo[2*i], stereo[2*i+1] = v, v
	}
	payload := make([]byte, MaxPayload)
	out := make([]int16, 0, len(mono))
	frame := make([]int16, FrameSamples)
	for off := 0; off+2*FrameSamples <= len(stereo); off += 2 * FrameSamples {
		n, err := enc.Encode(stereo[off:off+2*FrameSamples], payload)
		if err != nil {
			t.Fatal(err)
		}
		if payload[0]&0x04 == 0 {
			t.Fatalf("the packet's TOC byte %#x does not say stereo", payload[0])
		}
		m, err := dec.Decode(frame, payload[:n])
		if err != nil || m != FrameSamples {
			t.Fatalf("Decode = %d, %v", m, err)
		}
		out = append(out, frame[:m]...)
	}
	out = out[10*FrameSamples:]
	f, level := analyze.ZeroCrossingFrequency(out, SampleRate), analyze.DBFS(out)
	t.Logf("stereo 1000 Hz -12 dBFS in: %.2f Hz %.2f dBFS out, mono", f, level)
	if math.Abs(f-1000) > 3 || math.Abs(level+12) > 1 {
		t.Errorf("stereo 1 kHz at -12 dBFS came back as %.2f Hz at %.2f dBFS", f, level)
	}
}
