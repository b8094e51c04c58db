package opus

import "testing"

// Benchmarks: ns/op is the time for one 20 ms frame (960 samples, 48 kHz
// mono) of speech-like audio, with teaphone's own encoder set-up
// (ConfigFor(LocalParams()): full band, 32 kbit/s, FEC, no DTX).
//
//	go test -run '^$' -bench . -benchmem ./audio/opus/

// benchPackets returns a second of speech-like audio and its packets.
func benchPackets(b testing.TB) ([]int16, [][]byte) {
	requireOpus(b)
	pcm := speechLike(SampleRate, 3)
	enc, err := NewEncoder(ConfigFor(LocalParams()))
	if err != nil {
		b.Fatal(err)
	}
	var packets [][]byte
	buf := make([]byte, MaxPayload)
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		n, err := enc.Encode(buf, pcm[off:off+FrameSamples])
		if err != nil {
			b.Fatal(err)
		}
		packets = append(packets, append([]byte(nil), buf[:n]...))
	}
	return pcm, packets
}

func BenchmarkEncode(b *testing.B) {
	pcm, _ := benchPackets(b)
	enc, err := NewEncoder(ConfigFor(LocalParams()))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, MaxPayload)
	frames := len(pcm) / FrameSamples
	i := 0
	for b.Loop() {
		f := i % frames
		if _, err := enc.Encode(buf, pcm[f*FrameSamples:(f+1)*FrameSamples]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecode(b *testing.B) {
	_, packets := benchPackets(b)
	dec, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int16, FrameSamples)
	i := 0
	for b.Loop() {
		if _, err := dec.Decode(out, packets[i%len(packets)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecodeFEC(b *testing.B) {
	_, packets := benchPackets(b)
	dec, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int16, FrameSamples)
	i := 0
	for b.Loop() {
		if _, err := dec.DecodeFEC(out, packets[i%len(packets)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkConceal(b *testing.B) {
	_, packets := benchPackets(b)
	dec, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int16, FrameSamples)
	i := 0
	for b.Loop() {
		// One loss in five, as concealment fades out over a run of losses.
		var err error
		if i%5 == 0 {
			_, err = dec.Conceal(out)
		} else {
			_, err = dec.Decode(out, packets[i%len(packets)])
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}
