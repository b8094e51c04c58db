//go:build linux

package media

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkDrain: the clock's receive path with N streams, each with one
// packet waiting in its socket (or none: "empty"): recvmmsg, control
// messages, source address, source lock and statistics, playout buffer
// push. Sending the packets is not timed. ns/pkt is per packet (per stream
// when empty).
func BenchmarkDrain(b *testing.B) {
	for _, n := range []int{1, 100, 500} {
		for _, empty := range []bool{false, true} {
			name := fmt.Sprintf("streams=%d", n)
			if empty {
				name += "/empty"
			}
			b.Run(name, func(b *testing.B) { benchDrain(b, n, empty) })
		}
	}
}

func benchDrain(b *testing.B, n int, empty bool) {
	e := NewEngine(testEngineOptions()...)
	b.Cleanup(func() { _ = e.Close() })
	src := listenUDP(b)
	var streams []*Stream
	var to []netip.AddrPort
	for range n {
		s, err := e.NewStream(StreamConfig{RTP: listenUDP(b), Codec: "PCMU", DTMFPayloadType: -1, Remote: addrOf(src)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		s.mu.Lock()
		s.started = true // driven by hand, not by the clock
		ok := s.drainOnTick()
		s.mu.Unlock()
		if !ok {
			b.Fatal("the RTP socket cannot be drained by the clock")
		}
		streams = append(streams, s)
		to = append(to, addrOf(s.rtpConn))
	}
	rx := newRxBatch()
	pkt := rtpPacket(0, 0, 0, 7, false, make([]byte, 160))
	var out [maxPacket]byte
	var digits []rune
	seq := uint16(0)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if !empty {
			seq++
			putRTPHeader(pkt, false, 0, seq, uint32(seq)*160, 7)
			for _, a := range to {
				_, _ = src.WriteToUDPAddrPort(pkt, a)
			}
		}
		b.StartTimer()
		for _, s := range streams {
			digits = rx.drain(s, digits[:0])
		}
		b.StopTimer()
		for _, s := range streams {
			// Keep the playout buffers from filling up (untimed).
			s.mu.Lock()
			s.jb.Pop(time.Now(), out[:])
			s.mu.Unlock()
		}
		b.StartTimer()
	}
	b.StopTimer()
	per := n
	if !empty {
		var got uint64
		for _, s := range streams {
			got += s.Stats().RxPackets
		}
		if got < uint64(b.N-1)*uint64(n)*9/10 {
			b.Fatalf("%d packets received of %d sent", got, b.N*n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*per), "ns/pkt")
	b.ReportMetric(float64(rx.calls)/float64(b.N*per), "syscalls/pkt")
}
