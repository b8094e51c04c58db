//go:build linux

package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cmsg encodes one control message as the kernel writes it (cmsg(3)),
// padded to CMSG_SPACE unless bare.
func cmsg(level, typ int32, data []byte, bare bool) []byte {
	n := unix.CmsgSpace(len(data))
	if bare {
		n = unix.CmsgLen(len(data))
	}
	b := make([]byte, n)
	setCmsgLen(b, unix.CmsgLen(len(data)))
	binary.NativeEndian.PutUint32(b[unix.SizeofPtr:], uint32(level))
	binary.NativeEndian.PutUint32(b[unix.SizeofPtr+4:], uint32(typ))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// setCmsgLen writes cmsg_len, a size_t.
func setCmsgLen(b []byte, n int) {
	if unix.SizeofPtr == 8 {
		binary.NativeEndian.PutUint64(b, uint64(n))
	} else {
		binary.NativeEndian.PutUint32(b, uint32(n))
	}
}

// words64 and words32 encode a timespec or timeval.
func words64(a, b int64) []byte {
	return binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(nil, uint64(a)), uint64(b))
}

func words32(a, b int32) []byte {
	return binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(nil, uint32(a)), uint32(b))
}

func join(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestRxTimestamp(t *testing.T) {
	const sec, nsec = 1_700_000_000, 123_456_789
	want := time.Unix(sec, nsec)
	pktinfo := cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, make([]byte, 12), false)
	ns := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words64(sec, nsec), false)
	tooLong := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words64(sec, nsec), false)
	setCmsgLen(tooLong, len(tooLong)+8)
	tooShort := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words64(sec, nsec), false)
	setCmsgLen(tooShort, 4)
	tests := []struct {
		name string
		b    []byte
		want time.Time
		ok   bool
	}{
		{"none", nil, time.Time{}, false},
		{"timespec", ns, want, true},
		{"timespec without padding", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words64(sec, nsec), true), want, true},
		{"timeval", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMP, words64(sec, 123_456), false), time.Unix(sec, 123_456_000), true},
		{"32-bit timespec", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words32(sec, nsec), false), want, true},
		{"32-bit timeval", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMP, words32(sec, 5), false), time.Unix(sec, 5000), true},
		{"after another message", join(pktinfo, ns), want, true},
		{"another message only", pktinfo, time.Time{}, false},
		{"other level", cmsg(unix.IPPROTO_IP, unix.SCM_TIMESTAMPNS, words64(sec, nsec), false), time.Time{}, false},
		{"zero stamp", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words64(0, 0), false), time.Time{}, false},
		{"odd size", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, make([]byte, 12), false), time.Time{}, false},
		{"header cut", ns[:unix.CmsgLen(0)-1], time.Time{}, false},
		{"data cut", ns[:unix.CmsgLen(0)+8], time.Time{}, false},
		{"length past the end", tooLong, time.Time{}, false},
		{"length below the header", tooShort, time.Time{}, false},
		{"second message cut", join(pktinfo, ns[:unix.CmsgLen(0)+4]), time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := rxTimestamp(tt.b)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	b := join(pktinfo, ns)
	if a := testing.AllocsPerRun(100, func() { rxTimestamp(b) }); a != 0 {
		t.Errorf("rxTimestamp: %.1f allocations", a)
	}
}

// FuzzRxTimestamp: any control buffer is parsed without a panic.
func FuzzRxTimestamp(f *testing.F) {
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words64(1, 2), false))
	f.Add(join(cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, make([]byte, 12), false), cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMP, words64(1, 2), true)))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = rxTimestamp(b)
		var d rtpDrain
		_, _ = d.addrPort(b)
	})
}

func TestArrivalTime(t *testing.T) {
	now := time.Now() // with a monotonic reading
	wall := now.Round(0)
	stamp := func(at time.Time) []byte {
		return cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, words64(at.Unix(), int64(at.Nanosecond())), false)
	}
	tests := []struct {
		name string
		ctrl []byte
		age  time.Duration // now - arrival
	}{
		{"no stamp", nil, 0},
		{"15 ms ago", stamp(wall.Add(-15 * time.Millisecond)), 15 * time.Millisecond},
		{"in the future (clock stepped back)", stamp(wall.Add(time.Second)), 0},
		{"an hour ago (clock stepped forward)", stamp(wall.Add(-time.Hour)), rxMaxAge},
	}
	for _, tt := range tests {
		got := arrivalTime(tt.ctrl, wall, now)
		if d := now.Sub(got); d != tt.age {
			t.Errorf("%s: arrival %v before now, want %v", tt.name, d, tt.age)
		}
		if got.Round(0) == got {
			t.Errorf("%s: arrival lost the monotonic reading", tt.name)
		}
	}
}

// sockaddr4 and sockaddr6 encode socket addresses as the kernel writes them.
func sockaddr4(ip [4]byte, port uint16) []byte {
	b := make([]byte, unix.SizeofSockaddrInet4)
	binary.NativeEndian.PutUint16(b, unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return b
}

func sockaddr6(ip [16]byte, port uint16, scope uint32) []byte {
	b := make([]byte, unix.SizeofSockaddrInet6)
	binary.NativeEndian.PutUint16(b, unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[8:], ip[:])
	binary.NativeEndian.PutUint32(b[24:], scope)
	return b
}

func TestAddrPort(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8::1")
	ll := netip.MustParseAddr("fe80::1")
	mapped := netip.MustParseAddr("::ffff:192.0.2.7")
	lo := "1"
	if ifi, err := net.InterfaceByIndex(1); err == nil {
		lo = ifi.Name
	}
	unixAddr := make([]byte, 110)
	binary.NativeEndian.PutUint16(unixAddr, unix.AF_UNIX)
	tests := []struct {
		name string
		b    []byte
		want netip.AddrPort
		ok   bool
	}{
		{"IPv4", sockaddr4([4]byte{192, 0, 2, 1}, 5004), netip.MustParseAddrPort("192.0.2.1:5004"), true},
		{"IPv6", sockaddr6(v6.As16(), 40000, 0), netip.AddrPortFrom(v6, 40000), true},
		{"IPv4-mapped", sockaddr6(mapped.As16(), 1, 0), netip.AddrPortFrom(mapped, 1), true},
		{"link-local, scope 1", sockaddr6(ll.As16(), 2, 1), netip.AddrPortFrom(ll.WithZone(lo), 2), true},
		{"link-local, no such interface", sockaddr6(ll.As16(), 2, 999999), netip.AddrPortFrom(ll.WithZone("999999"), 2), true},
		{"empty", nil, netip.AddrPort{}, false},
		{"IPv4 cut", sockaddr4([4]byte{1, 2, 3, 4}, 1)[:7], netip.AddrPort{}, false},
		{"IPv6 cut", sockaddr6(v6.As16(), 1, 0)[:24], netip.AddrPort{}, false},
		{"AF_UNIX", unixAddr, netip.AddrPort{}, false},
	}
	var d rtpDrain
	for _, tt := range tests {
		got, ok := d.addrPort(tt.b)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	b := sockaddr6(ll.As16(), 2, 1)
	if a := testing.AllocsPerRun(100, func() { d.addrPort(b) }); a != 0 {
		t.Errorf("addrPort of a known scope: %.1f allocations", a)
	}
}

// rmemAlloc is how many bytes the receive queue of s's RTP socket holds
// (SO_MEMINFO).
func rmemAlloc(t testing.TB, s *Stream) int {
	t.Helper()
	n, err := unix.GetsockoptInt(s.drain.fd, unix.SOL_SOCKET, unix.SO_MEMINFO)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sendQueued sends each datagram from src to the RTP socket of s and waits
// until its receive queue holds it, so that a drain that follows finds them
// all.
func sendQueued(t testing.TB, src *net.UDPConn, s *Stream, pkts ...[]byte) {
	t.Helper()
	to := addrOf(s.rtpConn)
	if to.Addr().IsUnspecified() {
		to = netip.AddrPortFrom(addrOf(src).Addr(), to.Port())
	}
	for _, p := range pkts {
		before := rmemAlloc(t, s)
		if _, err := src.WriteToUDPAddrPort(p, to); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Second, "the datagram in the socket", func() bool { return rmemAlloc(t, s) > before })
	}
}

// handStream is a stream the test's clock drives: started by hand, its RTP
// socket set up for draining, never on the engine's clock. It locks on
// packets from remote.
func handStream(t testing.TB, e *Engine, remote netip.AddrPort, tweak func(*StreamConfig)) *Stream {
	t.Helper()
	cfg := StreamConfig{
		RTP: listenUDP(t), Codec: "PCMU", DTMFPayloadType: 101,
		RecvDTMFPayloadTypes: []uint8{101},
		Remote:               remote,
		Sink:                 discardSink{},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := e.NewStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.mu.Lock()
	s.started = true
	ok := s.drainOnTick()
	s.mu.Unlock()
	if !ok {
		t.Fatal("the RTP socket cannot be drained by the clock")
	}
	return s
}

func audioPkts(ssrc uint32, seq0 uint16, n int) [][]byte {
	var out [][]byte
	for i := range n {
		seq := seq0 + uint16(i)
		out = append(out, rtpPacket(0, seq, uint32(seq)*160, ssrc, false, make([]byte, 160)))
	}
	return out
}

// TestDrain: one drain takes a backlog larger than a batch, drops and
// counts what is not for the stream, and costs one system call per batch;
// an empty socket costs one.
func TestDrain(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	src, evil := listenUDP(t), listenUDP(t)
	s := handStream(t, e, addrOf(src), nil)
	b := newRxBatch()

	pkts := audioPkts(7, 100, 10)
	sendQueued(t, src, s, pkts...)
	digits := b.drain(s, nil)
	st := s.Stats()
	// RFC 3550 A.1: the first packet is probation.
	if st.RxPackets != 9 || st.RemoteSSRC != 7 || len(digits) != 0 {
		t.Fatalf("after 10 packets: rx %d, remote SSRC %d, digits %q", st.RxPackets, st.RemoteSSRC, digits)
	}
	if want := uint64(len(pkts)/rxBatchLen + 1); b.calls != want {
		t.Errorf("%d recvmmsg calls for %d packets, want %d", b.calls, len(pkts), want)
	}

	calls := b.calls
	b.drain(s, nil)
	if b.calls != calls+1 || b.errno != unix.EAGAIN {
		t.Errorf("empty socket: %d calls, errno %v; want 1, EAGAIN", b.calls-calls, b.errno)
	}

	// Garbage, a foreign source, a datagram longer than any packet, RTCP
	// multiplexed on the RTP port, then more audio: all in one drain.
	rr := []byte{0x80, rtcpRR, 0, 1, 0, 0, 0, 7} // RR from SSRC 7, no blocks
	sendQueued(t, evil, s, []byte{0x80}, rtpPacket(0, 1, 1, 0xbad, false, make([]byte, 160)), make([]byte, maxPacket+100))
	sendQueued(t, src, s, rr)
	sendQueued(t, src, s, audioPkts(7, 110, 3)...)
	b.drain(s, nil)
	st = s.Stats()
	if st.DroppedGarbage != 2 || st.DroppedForeign != 1 || st.RTCPReceived != 1 || st.RxPackets != 12 {
		t.Errorf("garbage %d (want 2), foreign %d (want 1), RTCP %d (want 1), rx %d (want 12)",
			st.DroppedGarbage, st.DroppedForeign, st.RTCPReceived, st.RxPackets)
	}
}

// TestDrainBound: a drain takes at most rxDrainMax datagrams; the rest wait
// for the next tick.
func TestDrainBound(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	src := listenUDP(t)
	s := handStream(t, e, addrOf(src), nil)
	b := newRxBatch()
	sendQueued(t, src, s, audioPkts(7, 0, rxDrainMax+10)...)
	b.drain(s, nil)
	if rx := s.Stats().RxPackets; rx != rxDrainMax-1 {
		t.Errorf("first drain: %d packets, want %d", rx, rxDrainMax-1)
	}
	b.drain(s, nil)
	if rx := s.Stats().RxPackets; rx != rxDrainMax+9 {
		t.Errorf("second drain: %d packets, want %d", rx, rxDrainMax+9)
	}
}

// TestDrainArrival: a packet's arrival is when the kernel received it, on
// the engine's clock (here a fake one), not when the clock drained it.
func TestDrainArrival(t *testing.T) {
	fake := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e := NewEngine(append(testEngineOptions(), WithNow(func() time.Time { return fake }))...)
	defer e.Close()
	src := listenUDP(t)
	s := handStream(t, e, addrOf(src), nil)
	b := newRxBatch()
	sendQueued(t, src, s, audioPkts(7, 0, 2)...)
	time.Sleep(50 * time.Millisecond)
	b.drain(s, nil)
	s.mu.Lock()
	age := fake.Sub(s.rx.lastPkt)
	s.mu.Unlock()
	if age < 45*time.Millisecond || age > time.Second {
		t.Errorf("arrival %v before the drain, want about 50 ms", age)
	}
}

// TestDrainIPv6: an IPv6 socket, and a dual-stack one that receives IPv4
// as IPv4-mapped addresses: the source is unmapped, so it matches the SDP
// address and nothing latches.
func TestDrainIPv6(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	for _, tc := range []struct{ name, net, listen, src string }{
		{"IPv6", "udp6", "[::1]:0", "[::1]:0"},
		{"dual-stack", "udp", "[::]:0", "127.0.0.1:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rtp, err := net.ListenUDP(tc.net, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tc.listen)))
			if err != nil {
				t.Skipf("no %s socket: %v", tc.name, err)
			}
			src, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tc.src)))
			if err != nil {
				t.Skipf("no source socket: %v", err)
			}
			defer src.Close()
			s := handStream(t, e, addrOf(src), func(c *StreamConfig) { c.RTP = rtp })
			sendQueued(t, src, s, audioPkts(9, 0, 3)...)
			newRxBatch().drain(s, nil)
			if st := s.Stats(); st.RxPackets != 2 || st.Latched || st.Remote != addrOf(src) {
				t.Errorf("rx %d, latched %v to %v; want 2 packets from the SDP address %v", st.RxPackets, st.Latched, st.Remote, addrOf(src))
			}
			// And back: the clock sends from the same socket.
			s.tick(time.Now(), 0)
			buf := make([]byte, maxPacket)
			_ = src.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, from, err := src.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatal(err)
			}
			if h, _, ok := parseRTP(buf[:n]); !ok || h.ssrc != s.SSRC() || from.Port() != addrOf(rtp).Port() {
				t.Errorf("sent %d bytes from %v, want RTP from port %d", n, from, addrOf(rtp).Port())
			}
		})
	}
}

// TestDrainErrors: an ICMP error the kernel reports on the socket ends the
// drain for this tick and the next drain goes on; Close closes the socket.
func TestDrainErrors(t *testing.T) {
	e := NewEngine(testEngineOptions()...)
	defer e.Close()
	dead := listenUDP(t)
	deadAddr := addrOf(dead)
	_ = dead.Close()
	// A connected socket gets ICMP port unreachable as ECONNREFUSED.
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(deadAddr))
	if err != nil {
		t.Fatal(err)
	}
	s := handStream(t, e, deadAddr, func(c *StreamConfig) { c.RTP = conn })
	b := newRxBatch()
	waitFor(t, 2*time.Second, "ECONNREFUSED", func() bool {
		if b.drain(s, nil); b.errno == unix.ECONNREFUSED {
			return true
		}
		// (A write finding the error pending takes it: write again.)
		_, _ = unix.Write(s.drain.fd, []byte("x"))
		return false
	})
	calls := b.calls
	b.drain(s, nil)
	if b.calls != calls+1 || b.errno != unix.EAGAIN {
		t.Errorf("after the error: %d calls, errno %v; want 1, EAGAIN", b.calls-calls, b.errno)
	}
	if st := s.Stats(); st.DroppedGarbage != 0 || st.RxPackets != 0 {
		t.Errorf("stats %+v", st)
	}

	fd := s.drain.fd
	_ = s.Close()
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("the socket is still open after Close: %v", err)
	}
}

// TestDrainDTMFOrder: digits received by the drain are reported after the
// tick, in order, per stream, outside every lock, with OnStats after them.
func TestDrainDTMFOrder(t *testing.T) {
	e := NewEngine(append(testEngineOptions(), WithStatsInterval(time.Millisecond))...)
	defer e.Close()
	src := listenUDP(t)
	var mu sync.Mutex
	var got []string
	inTick := false
	var streams []*Stream
	for i := range 2 {
		var s *Stream
		name := strconv.Itoa(i)
		s = handStream(t, e, addrOf(src), func(c *StreamConfig) {
			c.OnDTMF = func(d rune) {
				if !s.mu.TryLock() {
					t.Errorf("OnDTMF under the stream's lock")
				} else {
					s.mu.Unlock()
				}
				mu.Lock()
				defer mu.Unlock()
				if inTick {
					t.Errorf("OnDTMF during the tick")
				}
				got = append(got, name+string(d))
			}
			c.OnStats = func(Stats) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, name+"stats")
			}
		})
		streams = append(streams, s)
	}
	ev := func(seq uint16, ts uint32, code byte, end bool) []byte {
		p := []byte{code, 10, 0, 160}
		if end {
			p[1] |= dtmfEndBit
		}
		return rtpPacket(101, seq, ts, 5, false, p)
	}
	// A first tick starts the streams' clocks: OnStats is due a tick later.
	sh := &shard{e: e, rx: newRxBatch()}
	now := time.Now()
	sh.run(shardJob{streams: streams, now: now})
	sh.callbacks()
	mu.Lock()
	got = nil
	mu.Unlock()

	// Stream 0: '1' ends, '2' is cut short by '3', which ends and is
	// retransmitted: 9 datagrams, more than a batch. Stream 1: '4' and '#'.
	sendQueued(t, src, streams[0], join2(audioPkts(5, 0, 2),
		ev(2, 1000, 1, false), ev(3, 1000, 1, true), ev(4, 2000, 2, false),
		ev(5, 3000, 3, false), ev(6, 3000, 3, true), ev(7, 3000, 3, true), ev(8, 3000, 3, true))...)
	sendQueued(t, src, streams[1], join2(audioPkts(5, 0, 2),
		ev(2, 1000, 4, true), ev(3, 2000, 11, true))...)

	mu.Lock()
	inTick = true
	mu.Unlock()
	sh.run(shardJob{streams: streams, now: now.Add(time.Second)})
	mu.Lock()
	inTick = false
	mu.Unlock()
	sh.callbacks()
	want := []string{"01", "02", "03", "0stats", "14", "1#", "1stats"}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("callbacks %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("callbacks %q, want %q", got, want)
		}
	}
	if len(sh.calls) != 0 || len(sh.digits) != 0 {
		t.Errorf("shard keeps %d calls, %d digits", len(sh.calls), len(sh.digits))
	}
}

func join2(a [][]byte, b ...[]byte) [][]byte { return append(a, b...) }

// TestDrainNoGoroutine: on Linux a started stream has no RTP receive
// goroutine (only RTCP's), and its socket is drained by the clock.
func TestDrainNoGoroutine(t *testing.T) {
	a := newPeer(t, 1000, func(c *StreamConfig) { c.RTCP = nil })
	b := newPeer(t, 440, func(c *StreamConfig) { c.RTCP = nil })
	before := runtime.NumGoroutine()
	connect(a, b)
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d more goroutines after Start", n-before)
	}
	if !a.s.drain.on || !b.s.drain.on {
		t.Fatal("not drained by the clock")
	}
	waitFor(t, 3*time.Second, "audio both ways", func() bool {
		return a.s.Stats().RxPackets > 30 && b.s.Stats().RxPackets > 30
	})
	checkTone(t, "b hears a", b, 1000, 8000)
	checkTone(t, "a hears b", a, 440, 8000)
}

// TestRTPReaderGoroutine runs the receive path of systems where the clock
// does not drain RTP sockets (one reader goroutine per stream, recv.go) on
// Linux: audio both ways, DTMF, garbage dropped and counted, and the
// readers end with their streams.
func TestRTPReaderGoroutine(t *testing.T) {
	noRTCP := func(c *StreamConfig) { c.RTCP = nil }
	a := newPeer(t, 1000, noRTCP, withRTPReaders())
	b := newPeer(t, 440, noRTCP, withRTPReaders())
	before := runtime.NumGoroutine()
	connect(a, b)
	if n := runtime.NumGoroutine(); n < before+2 {
		t.Errorf("%d more goroutines after Start, want a reader per stream", n-before)
	}
	if a.s.drain.on || b.s.drain.on {
		t.Fatal("drained by the clock")
	}
	waitFor(t, 3*time.Second, "audio both ways", func() bool {
		return a.s.Stats().RxPackets > 30 && b.s.Stats().RxPackets > 30
	})
	checkTone(t, "b hears a", b, 1000, 8000)
	checkTone(t, "a hears b", a, 440, 8000)

	for _, d := range "12" {
		if err := a.s.SendDTMF(d, 60*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	evil := listenUDP(t)
	for _, g := range [][]byte{{}, {0x80}, make([]byte, 11), rtpPacket(55, 1, 1, 1, false, make([]byte, 160))} {
		_, _ = evil.WriteToUDPAddrPort(g, b.rtp)
	}
	waitFor(t, 5*time.Second, "2 digits and the garbage counted", func() bool {
		return len(b.gotDigits()) >= 2 && b.s.Stats().DroppedGarbage >= 3
	})
	if got := b.gotDigits(); got != "12" {
		t.Errorf("digits %q, want 12", got)
	}
	checkTone(t, "b still hears a", b, 1000, 8000)

	a.s.Close()
	b.s.Close()
	waitFor(t, 3*time.Second, "the readers to end", func() bool { return runtime.NumGoroutine() <= before })
}
