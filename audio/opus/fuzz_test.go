package opus

import (
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary payloads to Decode, DecodeFEC and Conceal, as
// a peer (or anyone who can reach the RTP port) may: no panic, no crash in
// libopus, never more samples than the buffer, and the decoder keeps
// decoding good packets afterwards.
func FuzzDecode(f *testing.F) {
	_, packets := benchPackets(f)
	for _, p := range packets[:5] {
		f.Add(p)
	}
	for _, p := range [][]byte{
		{0xff},                   // code 3, no frame count
		{0xfc, 0xff, 0xff},       // code 3, 63 frames of 40 ms
		{0x0b, 0, 0, 0},          // SILK NB 60 ms
		{0x78, 0x01},             // CELT FB 10 ms, one byte
		make([]byte, 1500),       // zeros
		{0x03, 0x00, 0x00, 0x00}, // code 3 with zero frames
	} {
		f.Add(p)
	}
	good := packets[10]
	f.Fuzz(func(t *testing.T, payload []byte) {
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int16, MaxFrameSamples)
		n, err := dec.Decode(out, payload)
		if n < 0 || n > len(out) || err != nil && n != 0 {
			t.Fatalf("Decode = %d, %v", n, err)
		}
		if len(payload) == 0 && !errors.Is(err, ErrEmptyPayload) {
			t.Fatalf("Decode(empty) = %v", err)
		}
		// An invalid packet is refused; that error is no failure.
		_, _ = dec.DecodeFEC(out[:FrameSamples], payload)
		if _, err := dec.Conceal(out[:FrameSamples]); err != nil {
			t.Fatalf("Conceal after that payload: %v", err)
		}
		if n, err := dec.Decode(out, good); err != nil || n != FrameSamples {
			t.Fatalf("Decode of a good packet after that payload = %d, %v", n, err)
		}
	})
}
