package media

import (
	"net/netip"
	"testing"
	"time"
)

// BenchmarkSendPathSRTP is BenchmarkSendPath with SRTP: the frame is also
// protected (AES-CM + HMAC-SHA1-80, or AES-GCM) before it is sent.
func BenchmarkSendPathSRTP(b *testing.B) {
	for _, suite := range []string{SuiteAESCM128SHA1x80, SuiteAEADAES128GCM} {
		b.Run(suite, func(b *testing.B) {
			s := benchStream(b)
			ka, _ := testKeys(suite)
			if err := s.SetSRTP(ka); err != nil {
				b.Fatal(err)
			}
			s.mu.Lock()
			dst, src, codec := s.dst, s.src, s.codec
			s.mu.Unlock()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s.sendFrame(dst, src, false, codec, 0, s.tx.pcm[:160], 160)
				s.tx.ts += 160
			}
		})
	}
}

// BenchmarkReceivePathSRTP is BenchmarkReceivePath with SRTP: the packet
// is authenticated and decrypted first. Packets are protected ahead, in
// batches, with the timer stopped.
func BenchmarkReceivePathSRTP(b *testing.B) {
	for _, suite := range []string{SuiteAESCM128SHA1x80, SuiteAEADAES128GCM} {
		b.Run(suite, func(b *testing.B) {
			s := benchStream(b)
			ka, kb := testKeys(suite)
			if err := s.SetSRTP(kb); err != nil {
				b.Fatal(err)
			}
			tx := newSender(b, ka)
			from := netip.MustParseAddrPort("127.0.0.1:40000")
			s.SetRemote(from, netip.AddrPort{})
			const batch = 1024
			pkts := make([][]byte, batch)
			for i := range pkts {
				pkts[i] = make([]byte, 0, maxPacket)
			}
			plain := rtpPacket(0, 0, 0, 7, false, make([]byte, 160))
			now := time.Now()
			var out [maxPacket]byte
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%batch == 0 {
					b.StopTimer()
					for j := range pkts {
						k := i + j
						putRTPHeader(plain, false, 0, uint16(k), uint32(k*160), 7)
						pkts[j] = append(pkts[j][:0], tx.protect(b, plain)...)
					}
					b.StartTimer()
				}
				now = now.Add(20 * time.Millisecond)
				s.handleRTP(pkts[i%batch], from, now)
				s.mu.Lock()
				n, st := s.jb.Pop(now, out[:])
				s.mu.Unlock()
				s.playFrame(discardSink{}, s.codec, st, out[:n], nil, s.tx.out[:160])
			}
			b.StopTimer()
			if st := s.Stats(); st.DroppedSRTP != 0 || (b.N > 10 && st.RxPackets == 0) {
				b.Fatalf("packets dropped: %+v", st)
			}
		})
	}
}
