package opus

import (
	"errors"
	"math"
	"testing"

	"github.com/teaphone/teaphone/audio/analyze"
)

// roundTrip encodes pcm (whole 20 ms frames) with c and decodes it.
func roundTrip(t *testing.T, c EncoderConfig, pcm []int16) []int16 {
	t.Helper()
	enc, err := NewEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, 0, len(pcm))
	payload := make([]byte, MaxPayload)
	frame := make([]int16, MaxFrameSamples)
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		n, err := enc.Encode(payload, pcm[off:off+FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		m, err := dec.Decode(frame, payload[:n])
		if err != nil || m != FrameSamples {
			t.Fatalf("Decode = %d, %v; want %d", m, err, FrameSamples)
		}
		out = append(out, frame[:m]...)
	}
	return out
}

// TestToneRoundTrip: a tone comes back at its frequency and level, up to
// 7 kHz (wideband speech). Above that, at 32 kbit/s, libopus codes the
// band coarsely (CELT band folding): a 12 kHz tone comes back at the right
// level but as noise around it.
func TestToneRoundTrip(t *testing.T) {
	requireOpus(t)
	for _, freq := range []float64{300, 1000, 3400, 7000} {
		in := sine(SampleRate, freq, -12)
		out := roundTrip(t, ConfigFor(LocalParams()), in)[10*FrameSamples:] // past the start-up
		f := analyze.ZeroCrossingFrequency(out, SampleRate)
		level := analyze.DBFS(out)
		share := analyze.ToneShare(out, SampleRate, freq)
		t.Logf("%5.0f Hz -12.0 dBFS in: %8.2f Hz %6.2f dBFS out, tone share %.3f", freq, f, level, share)
		if math.Abs(f-freq) > freq*0.002+1 {
			t.Errorf("%.0f Hz came back at %.2f Hz", freq, f)
		}
		if math.Abs(level+12) > 1 {
			t.Errorf("%.0f Hz at -12 dBFS came back at %.2f dBFS", freq, level)
		}
		if share < 0.95 {
			t.Errorf("%.0f Hz: only %.3f of the output energy is the tone", freq, share)
		}
	}
}

// TestMaxPlaybackRateHonoured: a peer playing at 8 kHz (maxplaybackrate=8000)
// gets narrowband: a 6 kHz tone is cut, 1 kHz passes; at 16000 6 kHz
// passes (RFC 7587 §6.1).
func TestMaxPlaybackRateHonoured(t *testing.T) {
	requireOpus(t)
	for _, tc := range []struct {
		fmtp   string
		freq   float64
		passes bool
	}{
		{"maxplaybackrate=8000", 1000, true},
		{"maxplaybackrate=8000", 6000, false},
		{"maxplaybackrate=16000", 6000, true},
		{"maxplaybackrate=16000", 12000, false},
	} {
		p, err := ParseFmtp(tc.fmtp)
		if err != nil {
			t.Fatal(err)
		}
		out := roundTrip(t, ConfigFor(p), sine(SampleRate, tc.freq, -12))[10*FrameSamples:]
		level := analyze.DBFS(out)
		t.Logf("%s: %.0f Hz at -12 dBFS comes back at %.1f dBFS", tc.fmtp, tc.freq, level)
		if tc.passes && level < -14 || !tc.passes && level > -40 {
			t.Errorf("%s: %.0f Hz came back at %.1f dBFS; want it to pass: %v", tc.fmtp, tc.freq, level, tc.passes)
		}
	}
}

// TestDTX: off by default, a frame of silence still costs a full packet;
// with usedtx=1 the encoder sends 1-2 byte packets in silence (RFC 7587
// §3.1.3).
func TestDTX(t *testing.T) {
	requireOpus(t)
	for _, fmtp := range []string{"useinbandfec=1", "usedtx=1"} {
		p, _ := ParseFmtp(fmtp)
		enc, err := NewEncoder(ConfigFor(p))
		if err != nil {
			t.Fatal(err)
		}
		silence := make([]int16, FrameSamples)
		payload := make([]byte, MaxPayload)
		tiny := 0
		for range 50 {
			n, err := enc.Encode(payload, silence)
			if err != nil {
				t.Fatal(err)
			}
			if n <= 2 {
				tiny++
			}
		}
		t.Logf("%s: %d of 50 silent frames encoded to at most 2 bytes", fmtp, tiny)
		if p.UseDTX != (tiny > 0) {
			t.Errorf("%s: %d packets of at most 2 bytes in a second of silence", fmtp, tiny)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	requireOpus(t)
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, FrameSamples)
	if _, err := dec.Decode(buf, nil); !errors.Is(err, ErrEmptyPayload) {
		t.Errorf("Decode(empty) = %v, want ErrEmptyPayload", err)
	}
	if _, err := dec.DecodeFEC(buf, nil); !errors.Is(err, ErrEmptyPayload) {
		t.Errorf("DecodeFEC(empty) = %v, want ErrEmptyPayload", err)
	}
	enc, err := NewEncoder(ConfigFor(LocalParams()))
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, MaxPayload)
	n, err := enc.Encode(payload, sine(FrameSamples, 440, -20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Decode(buf[:480], payload[:n]); err == nil {
		t.Error("Decode of a 20 ms packet into 10 ms of room succeeded")
	}
	if _, err := enc.Encode(payload, make([]int16, 100)); err == nil {
		t.Error("Encode of 100 samples (not an Opus frame size) succeeded")
	}
}

// TestUnavailable: a build without Opus says so from both constructors.
func TestUnavailable(t *testing.T) {
	if Available {
		t.Skip("this build has Opus")
	}
	if _, err := NewEncoder(EncoderConfig{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewEncoder = %v, want ErrUnavailable", err)
	}
	if _, err := NewDecoder(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewDecoder = %v, want ErrUnavailable", err)
	}
}

// TestNoAllocations: encoding, decoding, FEC and concealment of a frame
// allocate nothing.
func TestNoAllocations(t *testing.T) {
	requireOpus(t)
	enc, err := NewEncoder(ConfigFor(LocalParams()))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	pcm := speechLike(FrameSamples, 1)
	payload := make([]byte, MaxPayload)
	out := make([]int16, FrameSamples)
	n := 0
	for name, f := range map[string]func(){
		"Encode":    func() { n, _ = enc.Encode(payload, pcm) },
		"Decode":    func() { _, _ = dec.Decode(out, payload[:n]) },
		"DecodeFEC": func() { _, _ = dec.DecodeFEC(out, payload[:n]) },
		"Conceal":   func() { _, _ = dec.Conceal(out) },
	} {
		f()
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %.1f allocations per frame, want 0", name, a)
		}
	}
}
