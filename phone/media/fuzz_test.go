package media

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// FuzzParseRTP checks parseRTP against pion/rtp on any input: it never
// panics, and when both accept a packet they agree on every field.
func FuzzParseRTP(f *testing.F) {
	f.Add(rtpPacket(0, 1, 2, 3, true, make([]byte, 160)))
	f.Add(rtpPacket(101, 65535, 0xffffffff, 9, false, []byte{1, 0x8a, 3, 32}))
	f.Add([]byte{0xb1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, 1, 2, 2})
	f.Add([]byte{0xa0, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5, 5, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, ok := parseRTP(b)
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil || !ok {
			return
		}
		if h.marker != p.Marker || h.pt != p.PayloadType || h.seq != p.SequenceNumber || h.ts != p.Timestamp || h.ssrc != p.SSRC {
			t.Fatalf("header %+v, pion %+v", h, p.Header)
		}
		if !bytes.Equal(payload, p.Payload) {
			t.Fatalf("payload %x, pion %x", payload, p.Payload)
		}
	})
}

// TestPutRTPHeaderMatchesPion checks the hand-written header against pion.
func TestPutRTPHeaderMatchesPion(t *testing.T) {
	for _, m := range []bool{false, true} {
		h := rtp.Header{Version: 2, Marker: m, PayloadType: 101, SequenceNumber: 0xfffe, Timestamp: 0xdeadbeef, SSRC: 0x12345678}
		want, _ := h.Marshal()
		got := make([]byte, 12)
		putRTPHeader(got, m, 101, 0xfffe, 0xdeadbeef, 0x12345678)
		if !bytes.Equal(got, want) {
			t.Errorf("marker %v: %x, pion %x", m, got, want)
		}
	}
}

// fuzzStream is a started stream that no clock drives.
func fuzzStream(t testing.TB) *Stream {
	e := NewEngine(testEngineOptions()...)
	t.Cleanup(func() { _ = e.Close() })
	s, err := e.NewStream(StreamConfig{
		RTP: listenUDP(t), RTCP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: 101,
		RecvDTMFPayloadTypes: []uint8{101, 96},
		Remote:               netip.MustParseAddrPort("127.0.0.1:40000"),
		OnDTMF:               func(rune) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// FuzzReceive feeds arbitrary datagrams (split on "|||") to the RTP receive
// path, which also takes RTCP multiplexed on the RTP port, and plays out in
// between: nothing may panic.
func FuzzReceive(f *testing.F) {
	var seed []byte
	for i := range 4 {
		seed = append(seed, rtpPacket(0, uint16(i), uint32(i*160), 5, i == 0, make([]byte, 160))...)
		seed = append(seed, "|||"...)
	}
	seed = append(seed, rtpPacket(101, 4, 480, 5, true, []byte{5, 0x8a, 3, 32})...)
	f.Add(seed)
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: 1, LastSenderReport: 7}}}, rtcp.NewCNAMESourceDescription(5, "x")})
	f.Add(rr)
	f.Add([]byte{0x80, 200, 0, 0})
	// RFC 5761: audio, then an SR with a report block on the RTP port.
	f.Add(append(append(rtpPacket(0, 1, 160, 9, false, make([]byte, 160)), "|||"...), muxedSR(9, 1)...))
	s := fuzzStream(f)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	var out [maxPacket]byte
	f.Fuzz(func(t *testing.T, b []byte) {
		now := time.Now()
		for _, pkt := range bytes.Split(b, []byte("|||")) {
			now = now.Add(20 * time.Millisecond)
			s.handleRTP(pkt, from, now)
			s.mu.Lock()
			n, st := s.jb.Pop(now, out[:])
			s.mu.Unlock()
			s.playFrame(discardSink{}, s.codec, st, out[:n], nil, s.tx.out[:160])
		}
		_ = s.Stats()
	})
}

// FuzzRTCP feeds arbitrary datagrams to the RTCP receive path.
func FuzzRTCP(f *testing.F) {
	sr, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 5, NTPTime: 1 << 40, Reports: []rtcp.ReceptionReport{{SSRC: 1, TotalLost: 0xffffff, LastSenderReport: 7, Delay: 9}}},
		rtcp.NewCNAMESourceDescription(5, "x"),
		&rtcp.Goodbye{Sources: []uint32{5}, Reason: "bye"},
	})
	f.Add(sr)
	f.Add([]byte{0x80, 201, 0, 1, 0, 0, 0, 5})
	f.Add([]byte{0x81, 201, 0, 0})
	s := fuzzStream(f)
	from := netip.MustParseAddrPort("127.0.0.1:40001")
	f.Fuzz(func(t *testing.T, b []byte) {
		s.handleRTCP(b, from, time.Now(), false)
		_ = s.Stats()
	})
}

// TestRTCPGarbage: malformed RTCP is counted.
func TestRTCPGarbage(t *testing.T) {
	s := fuzzStream(t)
	from := netip.MustParseAddrPort("127.0.0.1:40001")
	for _, b := range [][]byte{{}, {0x80}, {0x80, 201, 0, 5, 0, 0, 0, 1}, {0x80, 202, 0, 1, 0, 0, 0, 1}, {0x40, 201, 0, 1, 0, 0, 0, 1}} {
		s.handleRTCP(b, from, time.Now(), false)
	}
	if g := s.Stats().DroppedGarbage; g != 5 {
		t.Fatalf("garbage %d, want 5", g)
	}
}

// FuzzAnswerCheck: whatever arrives looking like STUN, answering it never
// panics, and only a check with our credentials gets a success.
func FuzzAnswerCheck(f *testing.F) {
	creds := ICECredentials{Ufrag: "lite", Pwd: "0123456789abcdefghijkl"}
	f.Add(check(f, "lite:peer", creds.Pwd, true).Raw)
	f.Add(check(f, "lite:peer", "", false).Raw)
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	from := netip.MustParseAddrPort("192.0.2.1:5000")
	f.Fuzz(func(t *testing.T, b []byte) {
		chk := answerCheck(b, from, creds)
		if chk.nominate && chk.reply == nil {
			t.Fatal("nominated without a reply")
		}
	})
}
