package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestReportFields checks one RR built from known input: loss over a
// sequence wrap, LSR/DLSR, SDES CNAME, RR (not SR) when nothing was sent.
func TestReportFields(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	peerRTCP := listenUDP(t)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	s, err := e.NewStream(StreamConfig{
		RTP: listenUDP(t), RTCP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: -1,
		Remote: from, RemoteRTCP: addrOf(peerRTCP), CNAME: "alice@test",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Unix(1_800_000_000, 0)
	pay := make([]byte, 160)
	// 2 probation packets, then 100 more of which every 10th is missing,
	// across the 65535 -> 0 wrap.
	seq := uint16(65500)
	for i := range 102 {
		if i >= 2 && i%10 == 5 {
			seq++
			continue
		}
		s.handleRTP(rtpPacket(0, seq, uint32(seq)*160, 77, false, pay), from, now.Add(time.Duration(i)*20*time.Millisecond))
		seq++
	}
	srTime := now.Add(2 * time.Second)
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 77, NTPTime: ntpTime(srTime)}, rtcp.NewCNAMESourceDescription(77, "bob")})
	s.handleRTCP(sr, addrOf(peerRTCP), srTime, false)
	st := s.Stats()
	if st.RemoteSSRC != 77 || st.Lost != 10 || st.RxPackets != 91 {
		t.Fatalf("stats %+v", st)
	}
	s.sendRTCP(srTime.Add(500*time.Millisecond), false)

	buf := make([]byte, 1500)
	_ = peerRTCP.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := peerRTCP.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !validRTCP(buf[:n]) {
		t.Fatal("our RTCP fails the RFC 3550 A.2 checks")
	}
	pkts, err := rtcp.Unmarshal(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	rr, ok := pkts[0].(*rtcp.ReceiverReport)
	if !ok || len(rr.Reports) != 1 || rr.SSRC != s.SSRC() {
		t.Fatalf("first packet %#v", pkts[0])
	}
	b := rr.Reports[0]
	// base = 65501 (the second probation packet), highest = 65500+101 mod 2^16 = 65.
	if b.SSRC != 77 || b.TotalLost != 10 || b.LastSequenceNumber != 1<<16|65 {
		t.Errorf("report %+v", b)
	}
	if want := uint8(10 * 256 / 101); b.FractionLost < want-1 || b.FractionLost > want+1 {
		t.Errorf("fraction lost %d, want ~%d", b.FractionLost, want)
	}
	if b.LastSenderReport != ntpMiddle(srTime) || b.Delay != 32768 {
		t.Errorf("LSR %x DLSR %d, want %x 32768", b.LastSenderReport, b.Delay, ntpMiddle(srTime))
	}
	sdes, ok := pkts[1].(*rtcp.SourceDescription)
	if !ok || sdes.Chunks[0].Items[0].Text != "alice@test" {
		t.Errorf("second packet %#v", pkts[1])
	}
	// Next interval: nothing new, fraction 0.
	if f := s.rx.seq.FractionLost(); f != 0 {
		t.Errorf("fraction after an empty interval %d", f)
	}

	// RTT from a report about us: A − LSR − DLSR.
	ourSR := ntpMiddle(now)
	arrive := now.Add(150 * time.Millisecond)
	rep, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 77, Reports: []rtcp.ReceptionReport{{
		SSRC: s.SSRC(), LastSenderReport: ourSR, Delay: 65536 / 10, FractionLost: 64, TotalLost: 0xfffffe, Jitter: 80,
	}}}})
	s.handleRTCP(rep, addrOf(peerRTCP), arrive, false)
	st = s.Stats()
	if st.RTTMs < 49 || st.RTTMs > 51 {
		t.Errorf("RTT %.3f ms, want 50", st.RTTMs)
	}
	if st.RemoteLost != -2 || st.RemoteLossPct != 25 || st.RemoteJitterMs != 10 {
		t.Errorf("remote figures %+v", st)
	}
}

func TestLost24(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want uint32
	}{{0, 0}, {5, 5}, {-1, 0xffffff}, {1 << 30, 0x7fffff}, {-1 << 30, 0x800000}} {
		if got := lost24(c.in); got != c.want {
			t.Errorf("lost24(%d) = %x, want %x", c.in, got, c.want)
		}
	}
}

func TestNTPTime(t *testing.T) {
	tm := time.Date(2026, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	n := ntpTime(tm)
	if sec := n >> 32; sec != uint64(tm.Unix())+2208988800 {
		t.Errorf("seconds %d", sec)
	}
	if frac := uint32(n); frac != 1<<31 {
		t.Errorf("fraction %x", frac)
	}
}
