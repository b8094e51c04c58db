package media

import (
	"testing"

	"github.com/teaphone/teaphone/audio/opus"
)

// BenchmarkCallCodec is the codec's share of one call's CPU: one 20 ms
// frame encoded (a speech-like tone mix at the codec's rate) and one
// decoded, as every call does 50 times a second each way. ns/op × 50 / 1e7
// is the percentage of a core per call; the report's pct_core says it.
func BenchmarkCallCodec(b *testing.B) {
	for _, name := range []string{"PCMU", "G722", "opus"} {
		b.Run(name, func(b *testing.B) {
			if name == "opus" && !opus.Available {
				b.Skip("no Opus in this build")
			}
			info := defaultCodecs()[name]
			c, err := info.New("useinbandfec=1")
			if err != nil {
				b.Fatal(err)
			}
			frame := info.frameSamples()
			// A second of a tone mix, read a frame at a time.
			sig := make([]int16, info.AudioRate)
			_ = (&rateTone{freq: 440, rate: float64(info.AudioRate), amp: 4000}).ReadFrame(sig)
			hi := make([]int16, info.AudioRate)
			_ = (&rateTone{freq: 2650, rate: float64(info.AudioRate), amp: 2000}).ReadFrame(hi)
			for i := range sig {
				sig[i] += hi[i]
			}
			var pay [maxPacket]byte
			out := make([]int16, frame)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := i % 50 * frame
				n := c.Encode(pay[:], sig[k:k+frame])
				c.Decode(out, pay[:n])
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns*50/1e7, "pct_core")
		})
	}
}
