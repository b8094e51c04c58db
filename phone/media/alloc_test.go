package media

import (
	"net/netip"
	"testing"
	"time"
)

// handDriven returns a started stream of e that sends to remote and is
// driven by hand (not by e's clock), with callbacks that do nothing.
func handDriven(t *testing.T, e *Engine, remote netip.AddrPort) *Stream {
	t.Helper()
	s, err := e.NewStream(StreamConfig{
		RTP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: 101,
		RecvDTMFPayloadTypes: []uint8{101},
		Remote:               remote,
		Source:               &toneSource{freq: 1000, amp: 8000},
		Sink:                 discardSink{},
		OnDTMF:               func(rune) {},
		OnStats:              func(Stats) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	return s
}

// packets returns the i-th packet of a remote source: audio, and every
// 20th an RFC 4733 end packet. It reuses two buffers.
func packets() func(i int) []byte {
	pkt := rtpPacket(0, 0, 0, 9, false, make([]byte, 160))
	dtmf := rtpPacket(101, 0, 0, 9, false, []byte{1, 10, 0, 160})
	return func(i int) []byte {
		if i%20 == 10 {
			putRTPHeader(dtmf, true, 101, uint16(i), uint32(i*160), 9)
			dtmf[1+12] = 0x8a // end
			return dtmf
		}
		putRTPHeader(pkt, false, 0, uint16(i), uint32(i*160), 9)
		return pkt
	}
}

// queueDigits queues DTMF so that events are sent during a measurement.
func queueDigits(t *testing.T, s *Stream) {
	t.Helper()
	for range 10 {
		if err := s.SendDTMF('5', 40*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

// muxedSR is an RTCP SR with a report block about ssrc, as it arrives
// multiplexed on the RTP port (RFC 5761).
func muxedSR(from, ssrc uint32) []byte {
	b := make([]byte, maxRTCPLen)
	return b[:putRTCP(b, &rtcpOut{ssrc: from, sr: true, ntp: 1 << 40, block: &reportBlock{ssrc: ssrc, lsr: 7}, cname: "peer"})]
}

// allocModes runs f without and with RTCP multiplexing, on an engine that
// reports every 100 ms, so that RTCP is sent during a measurement.
func allocModes(t *testing.T, f func(t *testing.T, e *Engine, mux bool)) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	for _, mux := range []bool{false, true} {
		name := "separate"
		if mux {
			name = "mux"
		}
		t.Run(name, func(t *testing.T) {
			e := NewEngine(append(testEngineOptions(), WithRTCPInterval(100*time.Millisecond))...)
			defer e.Close()
			f(t, e, mux)
		})
	}
}

// TestHotPathAllocs: a clock tick (send + playout, audio and RFC 4733, RTCP
// reports sent on the RTP socket when multiplexed) and the receive path
// (RTP, and RTCP multiplexed on the RTP port) do not allocate.
func TestHotPathAllocs(t *testing.T) {
	allocModes(t, func(t *testing.T, e *Engine, mux bool) {
		s := handDriven(t, e, addrOf(listenUDP(t)))
		s.SetRTCPMux(mux)
		from := netip.MustParseAddrPort("127.0.0.1:40000")
		next := packets()
		sr := muxedSR(9, s.SSRC())
		now := time.Now()
		i := 0
		step := func() {
			i++
			now = now.Add(20 * time.Millisecond)
			s.handleRTP(next(i), from, now)
			if i%10 == 0 {
				s.handleRTP(sr, from, now)
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
		if st.RTCPReceived <= got || (mux && st.RTCPSent <= sent) {
			t.Errorf("RTCP did not run: sent %d→%d, received %d→%d", sent, st.RTCPSent, got, st.RTCPReceived)
		}
	})
}

// TestDrainPathAllocs: a tick whose stream drains its RTP socket first (on
// Linux: recvmmsg, control messages, source address, audio and RFC 4733,
// RTCP multiplexed on the RTP port), sends (RTCP on the RTP socket too
// when multiplexed) and reports digits after the tick does not allocate.
func TestDrainPathAllocs(t *testing.T) {
	allocModes(t, testDrainPathAllocs)
}

func testDrainPathAllocs(t *testing.T, e *Engine, mux bool) {
	peer := listenUDP(t)
	s := handDriven(t, e, addrOf(peer))
	s.SetRTCPMux(mux)
	s.mu.Lock()
	drained := s.drainOnTick()
	s.mu.Unlock()
	if !drained {
		t.Skip("the clock does not drain RTP sockets here")
	}
	sr := muxedSR(9, s.SSRC())
	sh := &shard{e: e, rx: newRxBatch()}
	streams := []*Stream{s}
	to := addrOf(s.rtpConn)
	next := packets()
	now := time.Now()
	i := 0
	step := func() {
		i++
		now = now.Add(20 * time.Millisecond)
		pkt := next(i)
		_, _ = peer.WriteToUDPAddrPort(pkt, to)
		if i%50 == 0 {
			_, _ = peer.WriteToUDPAddrPort(pkt[:5], to) // garbage
		}
		if i%10 == 0 {
			_, _ = peer.WriteToUDPAddrPort(sr, to)
		}
		sh.run(shardJob{streams: streams, now: now})
		sh.callbacks()
	}
	for range 100 {
		step()
	}
	queueDigits(t, s)
	sent := s.Stats().RTCPSent
	if a := testing.AllocsPerRun(200, step); a != 0 {
		t.Fatalf("%.2f allocations per frame", a)
	}
	if st := s.Stats(); st.RxPackets < 250 || st.DroppedGarbage == 0 || st.RTCPReceived < 25 || (mux && st.RTCPSent <= sent) {
		t.Errorf("the drain did not run: %+v", st)
	}
}
