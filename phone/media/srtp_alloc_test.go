package media

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// protectedFeed precomputes n steps of a remote SRTP peer keyed with k:
// packets() protected, and every 10th step an SRTCP SR, all carrying mki
// if not nil. Encrypting inside the measured step would count the test's
// own work.
func protectedFeed(t *testing.T, k SRTPKeys, mki []byte, ssrc uint32, n int) (rtpAt func(i int) []byte, srAt func(i int) []byte) {
	t.Helper()
	tx := newSenderMKI(t, k, mki)
	p, _ := profileOf(k.Suite)
	rtcpCtx, err := newContext(p, k.Local, false, mki)
	if err != nil {
		t.Fatal(err)
	}
	next := packets()
	pkts := make([][]byte, n+1)
	srs := make([][]byte, n+1)
	sr := muxedSR(9, ssrc)
	for i := 1; i <= n; i++ {
		pkts[i] = bytes.Clone(tx.protect(t, next(i)))
		if i%10 == 0 {
			if srs[i], err = rtcpCtx.EncryptRTCP(nil, sr, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	return func(i int) []byte { return pkts[i] }, func(i int) []byte { return srs[i] }
}

// TestSRTPHotPathAllocs: with SRTP, a clock tick (protect RTP and, when
// due, SRTCP) and the receive path (unprotect RTP, and SRTCP multiplexed on
// the RTP port) do not allocate, also when the peer's packets carry an MKI.
func TestSRTPHotPathAllocs(t *testing.T) {
	for _, mki := range [][]byte{nil, {0, 0, 0, 7}} {
		t.Run(fmt.Sprintf("mki %x", mki), func(t *testing.T) { testSRTPHotPathAllocs(t, mki) })
	}
}

func testSRTPHotPathAllocs(t *testing.T, mki []byte) {
	allocModes(t, func(t *testing.T, e *Engine, mux bool) {
		ka, kb := testKeys(SuiteAESCM128SHA1x80)
		kb.RemoteMKI = mki
		s := handDriven(t, e, addrOf(listenUDP(t)))
		s.SetRTCPMux(mux)
		if err := s.SetSRTP(kb); err != nil {
			t.Fatal(err)
		}
		rtpAt, srAt := protectedFeed(t, ka, mki, s.SSRC(), 300)
		from := netip.MustParseAddrPort("127.0.0.1:40000")
		now := time.Now()
		i := 0
		step := func() {
			i++
			now = now.Add(20 * time.Millisecond)
			s.handleRTP(rtpAt(i), from, now)
			if i%10 == 0 {
				s.handleRTP(srAt(i), from, now)
			}
			s.tick(now, 0)
		}
		for range 50 {
			step()
		}
		queueDigits(t, s)
		sent, got := s.Stats().RTCPSent, s.Stats().RTCPReceived
		if a := testing.AllocsPerRun(200, step); a != 0 {
			t.Fatalf("%.2f allocations per frame", a)
		}
		st := s.Stats()
		if st.RTCPReceived <= got || (mux && st.RTCPSent <= sent) || st.DroppedSRTP != 0 || st.RxPackets < 200 {
			t.Errorf("SRTP/SRTCP did not run: sent %d→%d, received %d→%d, %+v", sent, st.RTCPSent, got, st.RTCPReceived, st)
		}
	})
}

// TestSRTPDrainPathAllocs is TestDrainPathAllocs with SRTP: the clock's
// drain unprotects what it reads without allocating.
func TestSRTPDrainPathAllocs(t *testing.T) {
	allocModes(t, func(t *testing.T, e *Engine, mux bool) {
		ka, kb := testKeys(SuiteAEADAES128GCM)
		peer := listenUDP(t)
		s := handDriven(t, e, addrOf(peer))
		s.SetRTCPMux(mux)
		if err := s.SetSRTP(kb); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		drained := s.drainOnTick()
		s.mu.Unlock()
		if !drained {
			t.Skip("the clock does not drain RTP sockets here")
		}
		rtpAt, srAt := protectedFeed(t, ka, nil, s.SSRC(), 400)
		sh := &shard{e: e, rx: newRxBatch()}
		streams := []*Stream{s}
		to := addrOf(s.rtpConn)
		now := time.Now()
		i := 0
		step := func() {
			i++
			now = now.Add(20 * time.Millisecond)
			_, _ = peer.WriteToUDPAddrPort(rtpAt(i), to)
			if i%10 == 0 {
				_, _ = peer.WriteToUDPAddrPort(srAt(i), to)
			}
			sh.run(shardJob{streams: streams, now: now})
			sh.callbacks()
		}
		for range 100 {
			step()
		}
		queueDigits(t, s)
		if a := testing.AllocsPerRun(200, step); a != 0 {
			t.Fatalf("%.2f allocations per frame", a)
		}
		if st := s.Stats(); st.RxPackets < 250 || st.RTCPReceived < 25 || st.DroppedSRTP != 0 {
			t.Errorf("the drain did not run: %+v", st)
		}
	})
}

// TestSRTCPAllocs: protecting a compound RTCP packet and unprotecting it
// (the path of RTCP on its own socket) does not allocate once the source
// is known (its first packet makes pion's per-SSRC state).
func TestSRTCPAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	ka, kb := testKeys(SuiteAESCM128SHA1x80)
	a := handDriven(t, e, addrOf(listenUDP(t)))
	b := handDriven(t, e, addrOf(listenUDP(t)))
	if err := a.SetSRTP(ka); err != nil {
		t.Fatal(err)
	}
	if err := b.SetSRTP(kb); err != nil {
		t.Fatal(err)
	}
	sr := muxedSR(9, b.SSRC())
	dst := make([]byte, maxPacket)
	round := func() {
		enc, err := a.protectRTCP(a.sec.Load(), sr)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := b.unprotectRTCP(b.sec.Load(), dst, enc); !ok {
			t.Fatal("SRTCP dropped")
		}
	}
	round()
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Fatalf("%.1f allocations per SRTCP packet", n)
	}
}
