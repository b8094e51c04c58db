package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// readRTCPFrom waits up to d for one datagram on c and parses it as RTCP;
// nil when none came.
func readRTCPFrom(t *testing.T, c *net.UDPConn, d time.Duration) []rtcp.Packet {
	t.Helper()
	buf := make([]byte, maxPacket)
	_ = c.SetReadDeadline(time.Now().Add(d))
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil
	}
	if demux(buf[:n]) != kindRTCP {
		t.Fatalf("% x is not RTCP", buf[:min(n, 16)])
	}
	pkts, err := rtcp.Unmarshal(buf[:n])
	if err != nil {
		t.Fatalf("our RTCP does not parse: %v", err)
	}
	return pkts
}

// TestMuxRTCPOnRTPPort: with RTCPMux, an SR that arrives on the RTP port is
// taken as RTCP and leaves RTP reception alone (packets, playout buffer,
// last RTP time, latch); our report goes out of the RTP socket to the
// peer's RTP address, not to its RTCP port; an RR about us that arrives on
// the RTP port gives RTT and the remote's loss and jitter.
func TestMuxRTCPOnRTPPort(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	peerRTP, peerRTCP := listenUDP(t), listenUDP(t)
	s, err := e.NewStream(StreamConfig{
		RTP: listenUDP(t), RTCP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: -1,
		Remote: addrOf(peerRTP), RemoteRTCP: addrOf(peerRTCP), RTCPMux: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	from := addrOf(peerRTP)
	now := time.Unix(1_800_000_000, 0)
	for i := range 5 {
		s.handleRTP(rtpPacket(0, uint16(i), uint32(i)*160, 77, false, make([]byte, 160)), from, now.Add(time.Duration(i)*20*time.Millisecond))
	}
	before := s.Stats()
	s.mu.Lock()
	depth := s.jb.Delay()
	s.mu.Unlock()

	srTime := now.Add(time.Second)
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 77, NTPTime: ntpTime(srTime)}, rtcp.NewCNAMESourceDescription(77, "bob")})
	s.handleRTP(sr, from, srTime)
	st := s.Stats()
	if st.RTCPReceived != 1 || st.DroppedGarbage != 0 || st.DroppedForeign != 0 {
		t.Fatalf("after an SR on the RTP port: %+v", st)
	}
	if st.RxPackets != before.RxPackets || st.RxBytes != before.RxBytes || st.Lost != before.Lost ||
		!st.LastRTP.Equal(before.LastRTP) || st.Remote != before.Remote || st.JitterMs != before.JitterMs {
		t.Errorf("the SR changed RTP reception:\nbefore %+v\nafter  %+v", before, st)
	}
	s.mu.Lock()
	if d := s.jb.Delay(); d != depth {
		t.Errorf("playout delay %v, was %v", d, depth)
	}
	s.mu.Unlock()

	s.sendRTCP(srTime.Add(500*time.Millisecond), false)
	pkts := readRTCPFrom(t, peerRTP, 2*time.Second)
	if len(pkts) == 0 {
		t.Fatal("no RTCP on the peer's RTP port")
	}
	rr, ok := pkts[0].(*rtcp.ReceiverReport)
	if !ok || rr.SSRC != s.SSRC() || len(rr.Reports) != 1 || rr.Reports[0].SSRC != 77 ||
		rr.Reports[0].LastSenderReport != ntpMiddle(srTime) || rr.Reports[0].Delay != 32768 {
		t.Fatalf("our report %#v", pkts[0])
	}
	if got := readRTCPFrom(t, peerRTCP, 100*time.Millisecond); got != nil {
		t.Errorf("RTCP sent to the RTCP port while multiplexed: %v", got)
	}

	// The peer's RR about us, on the RTP port: RTT = A − LSR − DLSR.
	ourSR := ntpMiddle(now)
	rep, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 77, Reports: []rtcp.ReceptionReport{{
		SSRC: s.SSRC(), LastSenderReport: ourSR, Delay: 65536 / 10, FractionLost: 64, TotalLost: 3, Jitter: 80,
	}}}})
	s.handleRTP(rep, from, now.Add(150*time.Millisecond))
	st = s.Stats()
	if st.RTTMs < 49 || st.RTTMs > 51 || st.RemoteLost != 3 || st.RemoteLossPct != 25 || st.RemoteJitterMs != 10 {
		t.Errorf("from the RR on the RTP port: RTT %.3f ms (want 50), remote lost %d, loss %.1f %%, jitter %.1f ms",
			st.RTTMs, st.RemoteLost, st.RemoteLossPct, st.RemoteJitterMs)
	}
	if st.RxPackets != before.RxPackets || st.RTCPReceived != 2 {
		t.Errorf("after the RR: rx %d (want %d), RTCP %d (want 2)", st.RxPackets, before.RxPackets, st.RTCPReceived)
	}
	if !st.RTCPMux {
		t.Error("Stats.RTCPMux not set")
	}
}

// TestMuxFollowsRTPLatch: multiplexed, RTCP goes where RTP is latched
// (a NAT's address, not the SDP one); not multiplexed, RTCP that arrives
// on the RTP port does not move where RTCP goes.
func TestMuxFollowsRTPLatch(t *testing.T) {
	for _, mux := range []bool{true, false} {
		e := NewEngine(testEngineOptions()...)
		sdpRTP, sdpRTCP, nat := listenUDP(t), listenUDP(t), listenUDP(t)
		s, err := e.NewStream(StreamConfig{
			RTP: listenUDP(t), RTCP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: -1,
			Remote: addrOf(sdpRTP), RemoteRTCP: addrOf(sdpRTCP), RTCPMux: mux,
		})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for i := range 3 {
			s.handleRTP(rtpPacket(0, uint16(i), uint32(i)*160, 9, false, make([]byte, 160)), addrOf(nat), now)
		}
		rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 9}})
		s.handleRTP(rr, addrOf(nat), now)
		if st := s.Stats(); !st.Latched || st.Remote != addrOf(nat) || st.RTCPReceived != 1 {
			t.Fatalf("mux %v: not latched to the NAT's address: %+v", mux, st)
		}
		s.sendRTCP(now, false)
		want, other := nat, sdpRTCP
		if !mux {
			// RTCP follows RTP to the latched address's port + 1 (not
			// a socket of this test): neither of these gets it.
			want, other = nil, nat
		}
		if want != nil && readRTCPFrom(t, want, 2*time.Second) == nil {
			t.Errorf("mux %v: no RTCP at the latched RTP address", mux)
		}
		if got := readRTCPFrom(t, other, 100*time.Millisecond); got != nil {
			t.Errorf("mux %v: RTCP went to %v", mux, addrOf(other))
		}
		s.mu.Lock()
		dstRTCP := s.dstRTCP
		s.mu.Unlock()
		if !mux && dstRTCP != netip.AddrPortFrom(addrOf(nat).Addr(), addrOf(nat).Port()+1) {
			t.Errorf("not multiplexed: RTCP goes to %v after RTCP on the RTP port", dstRTCP)
		}
		_ = s.Close()
		_ = e.Close()
	}
}

// TestMuxEngine: two multiplexed streams on a running engine talk to each
// other: both compute RTT from the other's reports, RTCP arrives on the RTP
// sockets only (no RTCP goroutine runs, nothing is dropped), and switching
// multiplexing off starts the RTCP socket's goroutine.
func TestMuxEngine(t *testing.T) {
	e := NewEngine(append(testEngineOptions(), WithRTCPInterval(200*time.Millisecond))...)
	defer e.Close()
	rtpA, rtpB := listenUDP(t), listenUDP(t)
	rtcpA, rtcpB := listenUDP(t), listenUDP(t)
	mk := func(rtp, rtcpConn, peer *net.UDPConn) *Stream {
		s, err := e.NewStream(StreamConfig{
			RTP: rtp, RTCP: rtcpConn, Codec: "PCMU", DTMFPayloadType: -1, RTCPMux: true,
			Remote: addrOf(peer), Source: &toneSource{freq: 440, amp: 8000}, Sink: discardSink{},
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := mk(rtpA, rtcpA, rtpB), mk(rtpB, rtcpB, rtpA)
	a.Start()
	b.Start()
	waitFor(t, 5*time.Second, "RTT on both sides", func() bool {
		return a.Stats().RTTMs > 0 && b.Stats().RTTMs > 0
	})
	for _, s := range []*Stream{a, b} {
		st := s.Stats()
		s.mu.Lock()
		reading := s.rtcpRead
		s.mu.Unlock()
		if reading || st.RTCPReceived == 0 || st.RTCPSent == 0 || st.DroppedGarbage != 0 || st.RxPackets == 0 {
			t.Errorf("RTCP goroutine %v, stats %+v", reading, st)
		}
	}
	a.SetRTCPMux(false)
	a.mu.Lock()
	reading := a.rtcpRead
	a.mu.Unlock()
	if !reading {
		t.Error("multiplexing off: the RTCP socket is not read")
	}
	_ = a.Close()
	_ = b.Close()
}
