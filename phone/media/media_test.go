package media

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

type peer struct {
	e    *Engine
	s    *Stream
	rtp  netip.AddrPort
	rtcp netip.AddrPort
	src  *toneSource
	sink *captureSink

	mu     sync.Mutex
	digits []rune
}

func (p *peer) gotDigits() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.digits)
}

// newPeer makes an engine and a not yet started PCMU stream sending a tone
// of freq Hz.
func newPeer(t testing.TB, freq float64, tweak func(*StreamConfig), opts ...EngineOption) *peer {
	t.Helper()
	rtp, rtcp := listenUDP(t), listenUDP(t)
	p := &peer{src: &toneSource{freq: freq, amp: 8000}, sink: &captureSink{}}
	p.rtp, p.rtcp = addrOf(rtp), addrOf(rtcp)
	p.e = NewEngine(append(testEngineOptions(), opts...)...)
	t.Cleanup(func() { _ = p.e.Close() })
	cfg := StreamConfig{
		RTP: rtp, RTCP: rtcp,
		PayloadType: 0, Codec: "PCMU",
		DTMFPayloadType:      101,
		RecvDTMFPayloadTypes: []uint8{101},
		Source:               p.src,
		Sink:                 p.sink,
		OnDTMF: func(d rune) {
			p.mu.Lock()
			p.digits = append(p.digits, d)
			p.mu.Unlock()
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := p.e.NewStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.s = s
	return p
}

// connect points a and b at each other and starts both.
func connect(a, b *peer) {
	a.s.SetRemote(b.rtp, b.rtcp)
	b.s.SetRemote(a.rtp, a.rtcp)
	a.s.Start()
	b.s.Start()
}

// checkTone asserts that the last 400 ms received by p are a tone of freq
// at the sender's level. Frames of silence (playout underruns on a loaded
// machine) are skipped; the level is the median frame level.
func checkTone(t *testing.T, name string, p *peer, freq, amp float64) {
	t.Helper()
	x := p.sink.last(3200)
	var voiced []int16
	var levels []float64
	for i := 0; i+160 <= len(x); i += 160 {
		if l := rms(x[i : i+160]); l > 0 {
			voiced = append(voiced, x[i:i+160]...)
			levels = append(levels, l)
		}
	}
	if len(levels) < 8 {
		t.Fatalf("%s: only %d frames with sound: %v", name, len(levels), frameLevels(x))
	}
	if f := dominant(voiced); math.Abs(f-freq) > 10 {
		t.Errorf("%s: dominant frequency %.0f Hz, want %.0f", name, f, freq)
	}
	slices.Sort(levels)
	want := amp / math.Sqrt2
	if got := levels[len(levels)/2]; math.Abs(20*math.Log10(got/want)) > 1 {
		t.Errorf("%s: level %.0f rms, want %.0f (±1 dB)", name, got, want)
	}
}

func TestTwoWayAudio(t *testing.T) {
	a := newPeer(t, 1000, nil)
	b := newPeer(t, 440, nil)
	connect(a, b)
	waitFor(t, 3*time.Second, "audio both ways", func() bool {
		return a.s.Stats().RxPackets > 30 && b.s.Stats().RxPackets > 30
	})
	checkTone(t, "b hears a", b, 1000, 8000)
	checkTone(t, "a hears b", a, 440, 8000)
	if es := b.e.Stats(); es.Streams != 1 || es.Ticks == 0 {
		t.Errorf("engine stats %+v", es)
	}
	st := b.s.Stats()
	if st.Codec != "PCMU" || st.RemoteSSRC != a.s.SSRC() || st.TxPackets == 0 || st.RxBytes != 160*st.RxPackets {
		t.Errorf("stats: %+v", st)
	}
	if age := time.Since(st.LastRTP); st.LastRTP.IsZero() || age < 0 || age > time.Second {
		t.Errorf("LastRTP %v (%v ago), want the latest packet's arrival", st.LastRTP, age)
	}
	t.Logf("b: %+v", st)
	// The level depends on the measured jitter, which a loaded test machine
	// inflates; TestMOS checks the formula.
	if st.MOS < 1 || st.MOS > 4.5 {
		t.Errorf("MOS %.2f out of range", st.MOS)
	}
	if st.Latched {
		t.Errorf("latched although the SDP address was right")
	}
}

func TestPCMA(t *testing.T) {
	pcma := func(c *StreamConfig) { c.PayloadType, c.Codec = 8, "PCMA" }
	a := newPeer(t, 1000, pcma)
	b := newPeer(t, 440, pcma)
	connect(a, b)
	waitFor(t, 3*time.Second, "audio", func() bool { return b.s.Stats().RxPackets > 30 })
	checkTone(t, "b hears a", b, 1000, 8000)
}

// TestDTMF sends "123#" on the remote's payload type 96 (ours is 101)
// through a relay that records every packet.
func TestDTMF(t *testing.T) {
	a := newPeer(t, 1000, func(c *StreamConfig) { c.DTMFPayloadType = 96 })
	b := newPeer(t, 440, func(c *StreamConfig) { c.RecvDTMFPayloadTypes = []uint8{96, 101} })
	r := newRelay(t)
	r.start(a.rtp, b.rtp)
	a.s.SetRemote(addrOf(r.conn), b.rtcp)
	b.s.SetRemote(addrOf(r.conn), a.rtcp)
	a.s.Start()
	b.s.Start()
	waitFor(t, 3*time.Second, "audio", func() bool { return b.s.Stats().RxPackets > 10 })
	for _, d := range "123#" {
		if err := a.s.SendDTMF(d, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.s.SendDTMF('x', 0); err == nil {
		t.Error("SendDTMF('x') accepted")
	}
	waitFor(t, 5*time.Second, "4 digits", func() bool { return len(b.gotDigits()) >= 4 })
	// Let retransmitted end packets arrive: no duplicates.
	waitFor(t, 2*time.Second, "audio after the digits", func() bool {
		pk := r.packets()
		return len(pk) > 0 && pk[len(pk)-1].h.pt == 0
	})
	time.Sleep(100 * time.Millisecond)
	if got := b.gotDigits(); got != "123#" {
		t.Fatalf("digits %q, want 123#", got)
	}

	// Inspect what a sent.
	var events []uint32
	byTS := map[uint32][]seen{}
	var fromA []seen
	for _, p := range r.packets() {
		if !p.fromA || !p.rtp {
			continue
		}
		fromA = append(fromA, p)
		switch p.h.pt {
		case 96:
			if _, ok := byTS[p.h.ts]; !ok {
				events = append(events, p.h.ts)
			}
			byTS[p.h.ts] = append(byTS[p.h.ts], p)
		case 0:
		default:
			t.Fatalf("packet with payload type %d", p.h.pt)
		}
	}
	if len(events) != 4 {
		t.Fatalf("%d events, want 4", len(events))
	}
	for i, ts := range events {
		pk := byTS[ts]
		if !pk[0].h.marker {
			t.Errorf("event %d: no marker on the first packet", i)
		}
		ends := 0
		var final uint16
		for j, p := range pk {
			if j > 0 && p.h.marker {
				t.Errorf("event %d: marker on packet %d", i, j)
			}
			if p.pay[1]&0x80 != 0 {
				ends++
				final = binary.BigEndian.Uint16(p.pay[2:])
			}
		}
		if ends != 3 || final != 800 {
			t.Errorf("event %d: %d end packets, final duration %d; want 3 and 800", i, ends, final)
		}
		if want := []byte{1, 2, 3, 11}[i]; pk[0].pay[0] != want {
			t.Errorf("event %d: code %d, want %d", i, pk[0].pay[0], want)
		}
		// The next audio packet after the event starts past its end.
		last := slices.IndexFunc(fromA, func(s seen) bool { return s.h.seq == pk[len(pk)-1].h.seq })
		var next *seen
		for k := last + 1; k < len(fromA); k++ {
			if fromA[k].h.pt == 0 {
				next = &fromA[k]
				break
			}
		}
		if next == nil {
			t.Fatalf("event %d: no audio after it", i)
		}
		// 5 tone frames + 2 more end packets = 7 frames; more only if the
		// loaded test machine made the clock skip frames.
		if d := next.h.ts - ts; d < 7*160 || d > 8000 {
			t.Errorf("event %d: next audio timestamp %d after the event start (duration %d)", i, d, final)
		}
		if !next.h.marker {
			t.Errorf("event %d: no marker on the next audio packet", i)
		}
	}
	// Sequence numbers stay contiguous across audio and events.
	for k := 1; k < len(fromA); k++ {
		if fromA[k].h.seq != fromA[k-1].h.seq+1 {
			t.Fatalf("seq jump %d -> %d", fromA[k-1].h.seq, fromA[k].h.seq)
		}
	}
}

// TestDTMFReceiveRobust feeds events without marker, with lost end packets
// and with retransmissions straight into the receive path.
func TestDTMFReceiveRobust(t *testing.T) {
	p := newPeer(t, 440, nil)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	p.s.SetRemote(from, netip.AddrPort{})
	p.s.Start()
	now := time.Now()
	seq := uint16(100)
	send := func(pt uint8, ts uint32, marker bool, pay []byte) {
		p.s.handleRTP(rtpPacket(pt, seq, ts, 42, marker, pay), from, now)
		seq++
		now = now.Add(20 * time.Millisecond)
	}
	audio := make([]byte, 160)
	send(0, 1000, true, audio)
	send(0, 1160, false, audio)
	// '5' without marker, three end packets.
	send(101, 2000, false, []byte{5, 10, 0, 160})
	send(101, 2000, false, []byte{5, 0x80 | 10, 1, 64})
	send(101, 2000, false, []byte{5, 0x80 | 10, 1, 64})
	send(101, 2000, false, []byte{5, 0x80 | 10, 1, 64})
	// '7' whose end packets are all lost, then '9' starts.
	send(101, 4000, true, []byte{7, 10, 0, 160})
	send(101, 4000, false, []byte{7, 10, 1, 64})
	send(101, 6000, true, []byte{9, 10, 0, 160})
	send(101, 6000, false, []byte{9, 0x80 | 10, 1, 64})
	// '*' with no end and nothing after it: reported by the clock after 1 s.
	send(101, 8000, true, []byte{10, 10, 0, 160})
	// Short payload: ignored.
	send(101, 9000, true, []byte{1, 2})
	if got := p.gotDigits(); got != "579" {
		t.Fatalf("digits %q, want 579", got)
	}
	waitFor(t, 3*time.Second, "timed-out digit", func() bool { return p.gotDigits() == "579*" })
}

// TestSymmetricRTP: a's SDP address for b has the wrong port; b sends from
// its real port, a latches to it and audio flows both ways.
func TestSymmetricRTP(t *testing.T) {
	a := newPeer(t, 1000, nil)
	b := newPeer(t, 440, nil)
	dead := listenUDP(t) // a port nobody answers on
	a.s.SetRemote(addrOf(dead), netip.AddrPort{})
	b.s.SetRemote(a.rtp, a.rtcp)
	a.s.Start()
	b.s.Start()
	waitFor(t, 3*time.Second, "latched audio both ways", func() bool {
		return b.s.Stats().RxPackets > 30 && a.s.Stats().RxPackets > 30
	})
	st := a.s.Stats()
	if !st.Latched || st.Remote != b.rtp {
		t.Fatalf("a: latched=%v remote=%v, want %v", st.Latched, st.Remote, b.rtp)
	}
	checkTone(t, "b hears a", b, 1000, 8000)
	checkTone(t, "a hears b", a, 440, 8000)
}

// TestGarbageAndForeign sends garbage and a foreign source at b while a is
// talking: they are dropped and counted, and b still hears only a.
func TestGarbageAndForeign(t *testing.T) {
	a := newPeer(t, 1000, nil)
	b := newPeer(t, 440, nil)
	connect(a, b)
	waitFor(t, 3*time.Second, "lock", func() bool { return b.s.Stats().RxPackets > 5 })
	evil := listenUDP(t)
	garbage := [][]byte{
		{},
		{0x80},
		make([]byte, 11),
		append([]byte{0x40, 0}, make([]byte, 20)...),                // version 1
		rtpPacket(55, 1, 1, 1, false, make([]byte, 160)),            // unknown PT
		append([]byte{0xa0, 0}, make([]byte, 10)...),                // padding, too short
		{0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0},            // 15 CSRC, truncated
		{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0xff, 0xff},   // extension past the end
		{0x81, 200, 0, 1, 0, 0, 0, 1, 1, 2, 3},                      // RTCP-looking, bad
		append(rtpPacket(0, 1, 1, 1, false, make([]byte, 4)), 0, 9), // padding count too big
	}
	for _, g := range garbage {
		_, _ = evil.WriteToUDPAddrPort(g, b.rtp)
	}
	noise := &toneSource{freq: 3000, amp: 16000}
	pcm := make([]int16, 160)
	enc, _ := b.e.codecs["PCMU"].New("")
	for i := range 50 {
		_ = noise.ReadFrame(pcm)
		pay := make([]byte, 160)
		enc.Encode(pay, pcm)
		_, _ = evil.WriteToUDPAddrPort(rtpPacket(0, uint16(i), uint32(i*160), 0xbad, false, pay), b.rtp)
	}
	waitFor(t, 3*time.Second, "drops counted", func() bool {
		st := b.s.Stats()
		return st.DroppedGarbage >= uint64(len(garbage)-1) && st.DroppedForeign >= 50
	})
	rx := b.s.Stats().RxPackets
	waitFor(t, 3*time.Second, "more audio", func() bool { return b.s.Stats().RxPackets > rx+20 })
	st := b.s.Stats()
	if st.RemoteSSRC != a.s.SSRC() || st.Latched {
		t.Errorf("b re-locked: %+v", st)
	}
	checkTone(t, "b hears a", b, 1000, 8000)
	x := b.sink.last(4000)
	if goertzel(x, 3000) > goertzel(x, 1000)/1000 {
		t.Errorf("foreign 3 kHz tone reached the sink")
	}
}

// TestRelock: after the locked source goes silent, a new SSRC from the same
// address takes over; while it talks, another SSRC cannot.
func TestRelock(t *testing.T) {
	p := newPeer(t, 440, nil)
	from := netip.MustParseAddrPort("127.0.0.1:40002")
	p.s.SetRemote(from, netip.AddrPort{})
	now := time.Now()
	pay := make([]byte, 160)
	feed := func(ssrc uint32, seq uint16, at time.Time) {
		p.s.handleRTP(rtpPacket(0, seq, uint32(seq)*160, ssrc, false, pay), from, at)
	}
	for i := range 5 {
		feed(1, uint16(i), now.Add(time.Duration(i)*20*time.Millisecond))
	}
	feed(2, 0, now.Add(120*time.Millisecond))
	feed(2, 1, now.Add(140*time.Millisecond))
	if st := p.s.Stats(); st.RemoteSSRC != 1 || st.DroppedForeign != 2 {
		t.Fatalf("after foreign: %+v", st)
	}
	later := now.Add(time.Second)
	feed(2, 2, later)
	feed(2, 3, later.Add(20*time.Millisecond))
	if st := p.s.Stats(); st.RemoteSSRC != 2 {
		t.Fatalf("no relock after silence: %+v", st)
	}
}

// TestHold: sendonly stops RTP but not RTCP; resuming sets the marker.
func TestHold(t *testing.T) {
	fast := WithRTCPInterval(100 * time.Millisecond)
	a := newPeer(t, 1000, nil, fast)
	b := newPeer(t, 440, nil, fast)
	r := newRelay(t)
	r.start(a.rtp, b.rtp)
	a.s.SetRemote(addrOf(r.conn), b.rtcp)
	b.s.SetRemote(addrOf(r.conn), a.rtcp)
	a.s.Start()
	b.s.Start()
	waitFor(t, 3*time.Second, "audio", func() bool { return b.s.Stats().RxPackets > 10 })
	a.s.SetDirection(false, true)
	// Two ticks later the change has surely taken effect; then everything
	// a sent has reached the relay.
	ticks := a.e.Stats().Ticks
	waitFor(t, 3*time.Second, "two ticks", func() bool { return a.e.Stats().Ticks >= ticks+2 })
	n0 := int(a.s.Stats().TxPackets)
	waitFor(t, 3*time.Second, "relay to see them", func() bool { return r.count(true) == n0 })
	rtcp0 := b.s.Stats().RTCPReceived
	rx0 := a.s.Stats().RxPackets
	waitFor(t, 3*time.Second, "RTCP from a on hold", func() bool { return b.s.Stats().RTCPReceived >= rtcp0+2 })
	if n := r.count(true); n != n0 || int(a.s.Stats().TxPackets) != n0 {
		t.Fatalf("a sent %d packets on hold", n-n0)
	}
	if a.s.Stats().RxPackets == rx0 {
		t.Fatal("a stopped receiving")
	}
	a.s.SetDirection(true, true)
	waitFor(t, time.Second, "resumed", func() bool { return r.count(true) > n0 })
	var first *seen
	for _, p := range r.packets() {
		if p.fromA {
			n0--
			if n0 < 0 {
				first = &p
				break
			}
		}
	}
	if first == nil || !first.h.marker {
		t.Fatalf("first packet after resume has no marker: %+v", first)
	}
}

// TestRTCP runs with a 100 ms report interval through a relay that drops
// every 10th packet from a: both sides get RTT, b measures ~10 % loss and a
// learns it from b's reports; Close sends BYE.
func TestRTCP(t *testing.T) {
	fast := WithRTCPInterval(100 * time.Millisecond)
	var statsMu sync.Mutex
	var statsCalls []time.Time
	a := newPeer(t, 1000, nil, fast)
	b := newPeer(t, 440, func(c *StreamConfig) {
		c.OnStats = func(Stats) {
			statsMu.Lock()
			statsCalls = append(statsCalls, time.Now())
			statsMu.Unlock()
		}
	}, fast, WithStatsInterval(250*time.Millisecond))
	r := newRelay(t)
	r.drop = func(n int) bool { return n%10 == 0 }
	r.start(a.rtp, b.rtp)
	a.s.SetRemote(addrOf(r.conn), b.rtcp)
	b.s.SetRemote(addrOf(r.conn), a.rtcp)
	a.s.Start()
	b.s.Start()
	waitFor(t, 5*time.Second, "rtt and loss on both sides", func() bool {
		sa, sb := a.s.Stats(), b.s.Stats()
		return sa.RTTMs > 0 && sb.RTTMs > 0 && sb.Lost > 5 && sa.RemoteLost > 0 && sa.RemoteLossPct > 0 &&
			sb.JitterMs > 0 && sa.RemoteJitterMs > 0
	})
	sa, sb := a.s.Stats(), b.s.Stats()
	t.Logf("a: rtt %.3f ms, remote loss %.1f%% (%d), remote jitter %.2f ms", sa.RTTMs, sa.RemoteLossPct, sa.RemoteLost, sa.RemoteJitterMs)
	t.Logf("b: rtt %.3f ms, loss %.1f%% (%d), jitter %.2f ms, MOS %.2f", sb.RTTMs, sb.LossPct, sb.Lost, sb.JitterMs, sb.MOS)
	if sb.LossPct < 5 || sb.LossPct > 15 {
		t.Errorf("b loss %.1f%%, want ~10%%", sb.LossPct)
	}
	if sb.RTTMs > 50 || sa.RTTMs > 50 {
		t.Errorf("loopback RTT %.3f / %.3f ms", sa.RTTMs, sb.RTTMs)
	}
	if sb.MOS >= sa.MOS && sa.MOS != 0 {
		t.Errorf("MOS with 10%% loss %.2f not below the clean direction %.2f", sb.MOS, sa.MOS)
	}
	statsMu.Lock()
	n := len(statsCalls)
	if n < 2 {
		t.Errorf("OnStats called %d times", n)
	}
	for i := 1; i < n; i++ {
		// 250 ms apart on the engine clock; allow for callback scheduling.
		if d := statsCalls[i].Sub(statsCalls[i-1]); d < 100*time.Millisecond {
			t.Errorf("OnStats %v apart", d)
		}
	}
	statsMu.Unlock()
	_ = a.s.Close()
	waitFor(t, 2*time.Second, "BYE", func() bool { return b.s.Stats().RemoteBye })
}

func TestMOS(t *testing.T) {
	tests := []struct {
		lat, jit time.Duration
		loss     float64
		lo, hi   float64
	}{
		{0, 0, 0, 4.4, 4.5},
		{20 * time.Millisecond, 2 * time.Millisecond, 0, 4.3, 4.45},
		{150 * time.Millisecond, 30 * time.Millisecond, 1, 3.9, 4.2},
		{400 * time.Millisecond, 50 * time.Millisecond, 5, 2.0, 2.3},
		{time.Second, time.Second, 50, 1, 1},
	}
	for _, tt := range tests {
		if m := MOS(tt.lat, tt.jit, tt.loss); m < tt.lo || m > tt.hi {
			t.Errorf("MOS(%v, %v, %v) = %.3f, want %.2f..%.2f", tt.lat, tt.jit, tt.loss, m, tt.lo, tt.hi)
		}
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		e := NewEngine(testEngineOptions()...)
		var ss []*Stream
		for range 4 {
			s, err := e.NewStream(StreamConfig{RTP: listenUDP(t), RTCP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: -1})
			if err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		for i := 0; i < 4; i += 2 {
			ss[i].SetRemote(addrOf(ss[i+1].rtpConn), addrOf(ss[i+1].rtcpConn))
			ss[i+1].SetRemote(addrOf(ss[i].rtpConn), addrOf(ss[i].rtcpConn))
			ss[i].Start()
			ss[i+1].Start()
		}
		time.Sleep(100 * time.Millisecond)
		_ = ss[0].Close()
		_ = ss[0].Close() // idempotent
		_ = e.Close()     // closes the rest
		_ = e.Close()
		if _, err := e.NewStream(StreamConfig{RTP: listenUDP(t), Codec: "PCMU"}); err == nil {
			t.Error("NewStream on a closed engine")
		}
	}()
	waitFor(t, 2*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestNewStreamErrors(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	if _, err := e.NewStream(StreamConfig{Codec: "PCMU"}); err == nil {
		t.Error("no socket accepted")
	}
	if _, err := e.NewStream(StreamConfig{RTP: listenUDP(t), Codec: "G729"}); err == nil {
		t.Error("unknown codec accepted")
	}
	s, err := e.NewStream(StreamConfig{RTP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF('1', 0); err == nil {
		t.Error("DTMF without a payload type accepted")
	}
	if err := s.SetCodec(8, "PCMA", "", 101); err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF('1', 0); err != nil {
		t.Error(err)
	}
	_ = s.Close()
	if err := s.SendDTMF('1', 0); err == nil {
		t.Error("DTMF on a closed stream accepted")
	}
	// The zero value of DTMFPayloadType must not mean "send events as PCMU".
	z, err := e.NewStream(StreamConfig{RTP: listenUDP(t), Codec: "PCMU"})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if err := z.SendDTMF('1', 0); !errors.Is(err, ErrNoDTMF) {
		t.Errorf("zero DTMF payload type: %v", err)
	}
}

func frameLevels(x []int16) []int {
	var out []int
	for i := 0; i+160 <= len(x); i += 160 {
		out = append(out, int(rms(x[i:i+160])))
	}
	return out
}

// TestMuteAndSwap: mute keeps packets flowing with silence and unmuting
// sets the marker; SetSource, SetSink and SetCodec take effect live.
func TestMuteAndSwap(t *testing.T) {
	a := newPeer(t, 1000, nil)
	b := newPeer(t, 440, nil)
	r := newRelay(t)
	r.start(a.rtp, b.rtp)
	a.s.SetRemote(addrOf(r.conn), b.rtcp)
	b.s.SetRemote(addrOf(r.conn), a.rtcp)
	a.s.Start()
	b.s.Start()
	waitFor(t, 3*time.Second, "audio", func() bool { return b.s.Stats().RxPackets > 20 })

	a.s.SetMute(true)
	rx := b.s.Stats().RxPackets
	waitFor(t, 3*time.Second, "muted packets", func() bool { return b.s.Stats().RxPackets > rx+30 })
	if l := rms(b.sink.last(1600)); l > 50 {
		t.Errorf("level %.0f while muted", l)
	}
	n0 := r.count(true)
	a.s.SetMute(false)
	waitFor(t, 3*time.Second, "unmuted", func() bool { return r.count(true) > n0+2 })
	// The packet sent right after SetMute(false) may be the last muted one
	// (a tick in flight); the marker must be on one of the next two.
	marked := false
	k := 0
	for _, p := range r.packets() {
		if p.fromA {
			if k >= n0 && k <= n0+1 && p.h.marker {
				marked = true
			}
			k++
		}
	}
	if !marked {
		t.Errorf("no marker after unmute")
	}

	a.s.SetSource(&toneSource{freq: 2000, amp: 4000})
	sink2 := &captureSink{}
	b.s.SetSink(sink2)
	waitFor(t, 3*time.Second, "new sink", func() bool { return len(sink2.last(1600)) == 1600 })
	rx = b.s.Stats().RxPackets
	waitFor(t, 3*time.Second, "more audio", func() bool { return b.s.Stats().RxPackets > rx+25 })
	b.sink = sink2
	checkTone(t, "new source", b, 2000, 4000)

	if err := a.s.SetCodec(8, "PCMA", "", 101); err != nil {
		t.Fatal(err)
	}
	if err := b.s.SetCodec(8, "PCMA", "", 101); err != nil {
		t.Fatal(err)
	}
	rx = b.s.Stats().RxPackets
	waitFor(t, 3*time.Second, "PCMA audio", func() bool { return b.s.Stats().RxPackets > rx+25 })
	checkTone(t, "after PCMA switch", b, 2000, 4000)
	if st := b.s.Stats(); st.Codec != "PCMA" {
		t.Errorf("codec %q", st.Codec)
	}
	for _, p := range r.packets()[len(r.packets())-5:] {
		if p.fromA && p.h.pt != 8 {
			t.Errorf("a still sends payload type %d", p.h.pt)
		}
	}
}

// TestShardedTick runs several calls in one engine whose tick is split over
// three workers.
func TestShardedTick(t *testing.T) {
	split := func(e *Engine) { e.minPerShard = 1 }
	shared := NewEngine(append(testEngineOptions(), WithWorkers(3), split)...)
	defer shared.Close()
	var peers []*peer
	for i := range 6 {
		p := newPeer(t, float64(500+250*i), nil)
		// Move the stream onto the shared engine.
		_ = p.s.Close()
		rtp, rtcp := listenUDP(t), listenUDP(t)
		p.rtp, p.rtcp = addrOf(rtp), addrOf(rtcp)
		s, err := shared.NewStream(StreamConfig{RTP: rtp, RTCP: rtcp, Codec: "PCMU", DTMFPayloadType: -1, Source: p.src, Sink: p.sink})
		if err != nil {
			t.Fatal(err)
		}
		p.s, p.e = s, shared
		peers = append(peers, p)
	}
	for i := 0; i < len(peers); i += 2 {
		connect(peers[i], peers[i+1])
	}
	waitFor(t, 5*time.Second, "audio on every stream", func() bool {
		for _, p := range peers {
			if p.s.Stats().RxPackets < 30 {
				return false
			}
		}
		return true
	})
	for i, p := range peers {
		other := peers[i^1]
		checkTone(t, "stream "+string(rune('0'+i)), p, other.src.freq, 8000)
	}
}

// TestStartCloseRace: a Close racing a Start leaves nothing on the clock,
// and streams closed while the clock drains their sockets close cleanly.
func TestStartCloseRace(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	src := listenUDP(t)
	for range 50 {
		s, err := e.NewStream(StreamConfig{RTP: listenUDP(t), RTCP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: -1, Remote: addrOf(src)})
		if err != nil {
			t.Fatal(err)
		}
		to := addrOf(s.rtpConn)
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); s.Start() }()
		go func() {
			defer wg.Done()
			for i := range 5 {
				_, _ = src.WriteToUDPAddrPort(rtpPacket(0, uint16(i), uint32(i*160), 3, false, make([]byte, 160)), to)
			}
		}()
		go func() { defer wg.Done(); time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond); _ = s.Close() }()
		wg.Wait()
	}
	if n := e.Stats().Streams; n != 0 {
		t.Errorf("%d closed streams left on the clock", n)
	}
}
