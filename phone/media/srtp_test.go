package media

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

var testSuites = []string{SuiteAESCM128SHA1x80, SuiteAESCM128SHA1x32, SuiteAEADAES128GCM}

// keyLen is the key||salt length of suite.
func keyLen(suite string) int {
	if suite == SuiteAEADAES128GCM {
		return 28
	}
	return 30
}

// testKeys returns crossing keys for two streams a and b: what a sends
// with, b receives with, and the other way round.
func testKeys(suite string) (a, b SRTPKeys) {
	ka := bytes.Repeat([]byte{0xa1}, keyLen(suite))
	kb := bytes.Repeat([]byte{0xb2}, keyLen(suite))
	return SRTPKeys{Suite: suite, Local: ka, Remote: kb}, SRTPKeys{Suite: suite, Local: kb, Remote: ka}
}

// TestSRTPTwoWay: two streams protected with SRTP exchange tones through
// a relay, RTCP (SRTCP) both separate and multiplexed; on the wire no
// packet carries the PCMU bytes the other side decodes, while a plain
// call (suite "", the control) does show them.
func TestSRTPTwoWay(t *testing.T) {
	for _, suite := range append([]string{""}, testSuites...) {
		for _, mux := range []bool{false, true} {
			name := suite + "/separate"
			if mux {
				name = suite + "/mux"
			}
			if suite == "" {
				name = "plain" + name
			}
			t.Run(name, func(t *testing.T) {
				ka, kb := testKeys(suite)
				a := newPeer(t, 1000, func(c *StreamConfig) { c.SRTP = ka; c.RTCPMux = mux }, WithRTCPInterval(100*time.Millisecond))
				b := newPeer(t, 440, func(c *StreamConfig) { c.SRTP = kb; c.RTCPMux = mux }, WithRTCPInterval(100*time.Millisecond))
				r := newRelay(t)
				r.start(a.rtp, b.rtp)
				a.s.SetRemote(addrOf(r.conn), b.rtcp)
				b.s.SetRemote(addrOf(r.conn), a.rtcp)
				a.s.Start()
				b.s.Start()
				waitFor(t, 5*time.Second, "audio and RTCP both ways", func() bool {
					sa, sb := a.s.Stats(), b.s.Stats()
					return sa.RxPackets > 30 && sb.RxPackets > 30 && sa.RTCPReceived > 1 && sb.RTCPReceived > 1
				})
				checkTone(t, "b hears a", b, 1000, 8000)
				checkTone(t, "a hears b", a, 440, 8000)
				st := b.s.Stats()
				if st.SRTP != suite || st.DroppedSRTP != 0 || st.DroppedGarbage != 0 {
					t.Errorf("stats: %+v", st)
				}
				// The tone's PCMU frames, as a plain stream would send them.
				plain := make([]byte, 160)
				pcm := make([]int16, 160)
				src := &toneSource{freq: 1000, amp: 8000}
				codec, _ := a.e.codecs["PCMU"].New("")
				frames := map[string]bool{}
				for range 50 {
					_ = src.ReadFrame(pcm)
					codec.Encode(plain, pcm)
					frames[string(plain[:16])] = true
				}
				rtcpSeen, inClear := 0, 0
				for _, p := range r.packets() {
					if !p.rtp {
						continue
					}
					if p.h.pt >= 72 && p.h.pt <= 76 { // RTCP 200-204 read as RTP
						rtcpSeen++
						continue
					}
					if len(p.pay) >= 16 && frames[string(p.pay[:16])] {
						inClear++
					}
				}
				if suite != "" && inClear > 0 {
					t.Fatalf("%d packets with plain PCMU of the tone on the wire", inClear)
				}
				if suite == "" && inClear < 30 {
					t.Fatalf("control: only %d plain PCMU packets of the tone on the wire", inClear)
				}
				if mux && rtcpSeen == 0 {
					t.Errorf("no SRTCP through the relay")
				}
			})
		}
	}
}

// TestSRTPWrongKey: a stream that receives with the wrong key drops every
// packet and counts it; nothing reaches the playout.
func TestSRTPWrongKey(t *testing.T) {
	ka, kb := testKeys(SuiteAESCM128SHA1x80)
	kb.Remote = bytes.Repeat([]byte{0x33}, 30)
	a := newPeer(t, 1000, func(c *StreamConfig) { c.SRTP = ka })
	b := newPeer(t, 440, func(c *StreamConfig) { c.SRTP = kb })
	connect(a, b)
	waitFor(t, 3*time.Second, "a hears b", func() bool { return a.s.Stats().RxPackets > 20 })
	waitFor(t, 3*time.Second, "b drops a's packets", func() bool { return b.s.Stats().DroppedSRTP > 20 })
	if st := b.s.Stats(); st.RxPackets != 0 {
		t.Errorf("b accepted %d packets under the wrong key", st.RxPackets)
	}
	// A plain peer's packets are dropped too.
	c := newPeer(t, 440, nil)
	c.s.SetRemote(b.rtp, b.rtcp)
	c.s.Start()
	d0 := b.s.Stats().DroppedSRTP
	waitFor(t, 3*time.Second, "b drops plain RTP", func() bool { return b.s.Stats().DroppedSRTP > d0+20 })
	if st := b.s.Stats(); st.RxPackets != 0 {
		t.Errorf("b accepted plain RTP")
	}
}

// sender protects packets as a remote peer would.
type sender struct {
	c   *srtp.Context
	hdr rtp.Header
	buf [maxPacket + srtpOverhead]byte
}

func newSender(t testing.TB, k SRTPKeys) *sender { return newSenderMKI(t, k, nil) }

// newSenderMKI is newSender for a peer whose packets carry mki.
func newSenderMKI(t testing.TB, k SRTPKeys, mki []byte) *sender {
	t.Helper()
	p, _ := profileOf(k.Suite)
	c, err := newContext(p, k.Local, false, mki)
	if err != nil {
		t.Fatal(err)
	}
	return &sender{c: c}
}

// protect returns plain protected; the result is valid until the next call.
func (s *sender) protect(t testing.TB, plain []byte) []byte {
	out, err := s.c.EncryptRTP(s.buf[:0], plain, &s.hdr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSRTPReplayAndCorruption: a replayed packet, a corrupted one and a
// truncated one are dropped and counted; the next good one is accepted.
func TestSRTPReplayAndCorruption(t *testing.T) {
	for _, suite := range testSuites {
		t.Run(suite, func(t *testing.T) {
			e := NewEngine(testEngineOptions()...)
			defer e.Close()
			ka, kb := testKeys(suite)
			s := handDriven(t, e, addrOf(listenUDP(t)))
			if err := s.SetSRTP(kb); err != nil {
				t.Fatal(err)
			}
			tx := newSender(t, ka)
			from := netip.MustParseAddrPort("127.0.0.1:40000")
			now := time.Now()
			feed := func(seq int, mutate func([]byte) []byte) {
				now = now.Add(20 * time.Millisecond)
				p := tx.protect(t, rtpPacket(0, uint16(seq), uint32(seq*160), 9, false, make([]byte, 160)))
				s.handleRTP(mutate(bytes.Clone(p)), from, now)
			}
			same := func(b []byte) []byte { return b }
			for i := range 10 {
				feed(i, same)
			}
			st := s.Stats()
			if st.RxPackets == 0 || st.DroppedSRTP != 0 {
				t.Fatalf("good packets: %+v", st)
			}
			// Replay: the very same datagram again.
			p := bytes.Clone(tx.protect(t, rtpPacket(0, 10, 1600, 9, false, make([]byte, 160))))
			s.handleRTP(p, from, now)
			rx := s.Stats().RxPackets
			s.handleRTP(p, from, now)
			s.handleRTP(bytes.Clone(p), from, now)
			if st := s.Stats(); st.RxPackets != rx || st.DroppedSRTP != 2 {
				t.Fatalf("replay: rx %d→%d, dropped %d", rx, st.RxPackets, st.DroppedSRTP)
			}
			feed(11, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }) // tag
			feed(12, func(b []byte) []byte { b[20] ^= 0x80; return b })    // payload
			feed(13, func(b []byte) []byte { return b[:14] })              // truncated
			feed(14, func(b []byte) []byte { b[11] ^= 1; return b })       // SSRC
			if st := s.Stats(); st.RxPackets != rx || st.DroppedSRTP != 6 {
				t.Fatalf("corrupted: rx %d→%d, dropped %d", rx, st.RxPackets, st.DroppedSRTP)
			}
			feed(15, same)
			if st := s.Stats(); st.RxPackets != rx+1 {
				t.Fatalf("good packet after bad ones not accepted: %+v", st)
			}
		})
	}
}

// TestSRTPRekey: SetSRTP with a new remote key drops the old key's packets
// and accepts the new key's; keeping a key keeps its context.
func TestSRTPRekey(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	ka, kb := testKeys(SuiteAESCM128SHA1x80)
	s := handDriven(t, e, addrOf(listenUDP(t)))
	if err := s.SetSRTP(kb); err != nil {
		t.Fatal(err)
	}
	old := s.sec.Load()
	if err := s.SetSRTP(kb); err != nil || s.sec.Load().rxRTP != old.rxRTP || s.sec.Load().txRTP != old.txRTP {
		t.Fatalf("unchanged keys got new contexts (%v)", err)
	}
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	now := time.Now()
	txOld := newSender(t, ka)
	for i := range 5 {
		now = now.Add(20 * time.Millisecond)
		s.handleRTP(txOld.protect(t, rtpPacket(0, uint16(i), uint32(i*160), 9, false, make([]byte, 160))), from, now)
	}
	ka2 := ka
	ka2.Local = bytes.Repeat([]byte{0x5c}, 30)
	kb2 := kb
	kb2.Remote = ka2.Local
	if err := s.SetSRTP(kb2); err != nil {
		t.Fatal(err)
	}
	if s.sec.Load().txRTP != old.txRTP || s.sec.Load().rxRTP == old.rxRTP {
		t.Fatalf("a remote rekey must keep our send context and replace the receive one")
	}
	rx := s.Stats().RxPackets
	now = now.Add(20 * time.Millisecond)
	s.handleRTP(txOld.protect(t, rtpPacket(0, 5, 800, 9, false, make([]byte, 160))), from, now)
	if st := s.Stats(); st.RxPackets != rx || st.DroppedSRTP != 1 {
		t.Fatalf("old key after rekey: %+v", st)
	}
	txNew := newSender(t, ka2)
	for i := 6; i < 9; i++ {
		now = now.Add(20 * time.Millisecond)
		s.handleRTP(txNew.protect(t, rtpPacket(0, uint16(i), uint32(i*160), 9, false, make([]byte, 160))), from, now)
	}
	if st := s.Stats(); st.RxPackets <= rx {
		t.Fatalf("new key not accepted: %+v", st)
	}
	if err := s.SetSRTP(SRTPKeys{Suite: "NULL"}); err == nil {
		t.Errorf("unknown suite accepted")
	}
	if err := s.SetSRTP(SRTPKeys{Suite: SuiteAEADAES128GCM, Local: ka.Local, Remote: ka.Local}); err == nil {
		t.Errorf("30-byte key accepted for GCM")
	}
	if err := s.SetSRTP(SRTPKeys{}); err != nil || s.SRTPSuite() != "" {
		t.Errorf("back to plain: %v %q", err, s.SRTPSuite())
	}
}

// FuzzReceiveSRTP feeds datagrams (split on "|||") to the receive path of
// a stream protected by SRTP: raw ones (forged SRTP, SRTCP, STUN, garbage)
// and, when a chunk starts with '!', the rest protected under the right key
// so that arbitrary plaintext gets past authentication. Nothing may panic.
func FuzzReceiveSRTP(f *testing.F) {
	ka, kb := testKeys(SuiteAESCM128SHA1x80)
	tx := newSender(f, ka)
	var seed []byte
	for i := range 4 {
		seed = append(seed, tx.protect(f, rtpPacket(0, uint16(i), uint32(i*160), 5, i == 0, make([]byte, 160)))...)
		seed = append(seed, "|||"...)
	}
	seed = append(seed, '!')
	seed = append(seed, rtpPacket(101, 4, 480, 5, true, []byte{5, 0x8a, 3, 32})...)
	f.Add(seed)
	f.Add(append([]byte{'!'}, muxedSR(9, 1)...))
	f.Add(muxedSR(9, 1))
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	s := fuzzStream(f)
	if err := s.SetSRTP(kb); err != nil {
		f.Fatal(err)
	}
	sender := newSender(f, ka)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	var out [maxPacket]byte
	f.Fuzz(func(t *testing.T, b []byte) {
		now := time.Now()
		for _, pkt := range bytes.Split(b, []byte("|||")) {
			now = now.Add(20 * time.Millisecond)
			if len(pkt) > 0 && pkt[0] == '!' {
				p, err := sender.c.EncryptRTP(sender.buf[:0], pkt[1:], &sender.hdr)
				if err != nil || len(p) > maxPacket {
					continue
				}
				pkt = p
			}
			s.handleRTP(pkt, from, now)
			s.mu.Lock()
			n, st := s.jb.Pop(now, out[:])
			s.mu.Unlock()
			s.playFrame(discardSink{}, s.codec, st, out[:n], nil, s.tx.out[:160])
		}
		_ = s.Stats()
	})
}

// TestSRTPMKI: a peer whose SRTP packets carry an MKI (RFC 3711 §3.1,
// announced as <MKI>:<length> in its a=crypto, RFC 4568 §6.1) is heard when
// the stream knows that MKI; packets with another MKI or none are dropped
// and counted, in every suite; a changed MKI with the same key gets a new
// receive context; and a stream that expects no MKI drops MKI packets.
func TestSRTPMKI(t *testing.T) {
	mki := []byte{0, 0, 0, 1}
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	for _, suite := range testSuites {
		t.Run(suite, func(t *testing.T) {
			e := NewEngine(testEngineOptions()...)
			defer e.Close()
			ka, kb := testKeys(suite)
			kb.RemoteMKI = mki
			s := handDriven(t, e, addrOf(listenUDP(t)))
			if err := s.SetSRTP(kb); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			seq := 0
			feed := func(tx *sender) {
				seq++
				now = now.Add(20 * time.Millisecond)
				s.handleRTP(tx.protect(t, rtpPacket(0, uint16(seq), uint32(seq*160), 9, false, make([]byte, 160))), from, now)
			}
			right, wrong, none := newSenderMKI(t, ka, mki), newSenderMKI(t, ka, []byte{0, 0, 0, 2}), newSender(t, ka)
			for range 5 {
				feed(right)
			}
			// The first packet of a source is not counted (probation).
			rx := s.Stats().RxPackets
			if st := s.Stats(); rx < 4 || st.DroppedSRTP != 0 {
				t.Fatalf("packets with the MKI: %+v", st)
			}
			feed(wrong)
			feed(none)
			if st := s.Stats(); st.RxPackets != rx || st.DroppedSRTP != 2 {
				t.Fatalf("another MKI and none must be dropped: %+v", st)
			}
			feed(right)
			if st := s.Stats(); st.RxPackets != rx+1 {
				t.Fatalf("the MKI after bad packets: %+v", st)
			}
			old := s.sec.Load().rxRTP
			kb.RemoteMKI = []byte{0, 0, 0, 2}
			if err := s.SetSRTP(kb); err != nil || s.sec.Load().rxRTP == old {
				t.Fatalf("a changed MKI kept the receive context (%v)", err)
			}
			feed(wrong)
			if st := s.Stats(); st.RxPackets != rx+2 {
				t.Fatalf("the new MKI: %+v", st)
			}
			kb.RemoteMKI = nil
			if err := s.SetSRTP(kb); err != nil {
				t.Fatal(err)
			}
			feed(right)
			if st := s.Stats(); st.RxPackets != rx+2 || st.DroppedSRTP != 3 {
				t.Fatalf("an MKI packet on a stream that expects none: %+v", st)
			}
		})
	}
}
