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

// TestHotPathAllocs: a clock tick (send + playout, audio and RFC 4733) and
// the receive path do not allocate.
func TestHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	s := handDriven(t, e, addrOf(listenUDP(t)))
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	next := packets()
	now := time.Now()
	i := 0
	step := func() {
		i++
		now = now.Add(20 * time.Millisecond)
		s.handleRTP(next(i), from, now)
		s.tick(now, 0)
	}
	for range 50 {
		step()
	}
	queueDigits(t, s)
	if a := testing.AllocsPerRun(200, step); a != 0 {
		t.Fatalf("%.2f allocations per frame", a)
	}
}

// TestDrainPathAllocs: a tick whose stream drains its RTP socket first (on
// Linux: recvmmsg, control messages, source address, audio and RFC 4733)
// and reports digits after the tick does not allocate.
func TestDrainPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	peer := listenUDP(t)
	s := handDriven(t, e, addrOf(peer))
	s.mu.Lock()
	drained := s.drainOnTick()
	s.mu.Unlock()
	if !drained {
		t.Skip("the clock does not drain RTP sockets here")
	}
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
	if st := s.Stats(); st.RxPackets < 250 || st.DroppedGarbage == 0 {
		t.Errorf("the drain did not run: %+v", st)
	}
}
