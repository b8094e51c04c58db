package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// BenchmarkReceiveRTCPOnRTPPort: an SR with a report block about us and an
// SDES CNAME, arriving on the RTP port (RFC 5761): demultiplex, validate,
// walk, take the SR time and the report block.
func BenchmarkReceiveRTCPOnRTPPort(b *testing.B) {
	s := benchStream(b)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	s.SetRemote(from, netip.AddrPort{})
	sr, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 7, NTPTime: 1 << 40, Reports: []rtcp.ReceptionReport{{SSRC: s.SSRC(), LastSenderReport: 7, Delay: 9}}},
		rtcp.NewCNAMESourceDescription(7, "bob@192.0.2.1"),
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		now = now.Add(time.Millisecond)
		s.handleRTP(sr, from, now)
	}
	b.StopTimer()
	if s.Stats().DroppedGarbage != 0 {
		b.Fatal("the SR was dropped")
	}
}
