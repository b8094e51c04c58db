package media

import (
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// listenUDP binds a loopback UDP socket on a free port.
func listenUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// toneSource produces a continuous sine wave.
type toneSource struct {
	mu    sync.Mutex
	freq  float64
	amp   float64
	phase float64
}

func (s *toneSource) ReadFrame(dst []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	step := 2 * math.Pi * s.freq / 8000
	for i := range dst {
		dst[i] = int16(s.amp * math.Sin(s.phase))
		s.phase += step
	}
	s.phase = math.Mod(s.phase, 2*math.Pi)
	return nil
}

// captureSink keeps every frame written to it.
type captureSink struct {
	mu      sync.Mutex
	samples []int16
}

func (c *captureSink) WriteFrame(src []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples = append(c.samples, src...)
	return nil
}

// last returns a copy of the last n samples (fewer if not available).
func (c *captureSink) last(n int) []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.samples) < n {
		n = len(c.samples)
	}
	return append([]int16(nil), c.samples[len(c.samples)-n:]...)
}

// goertzel returns the power of freq in x (8 kHz).
func goertzel(x []int16, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// dominant returns the strongest frequency of x between 100 and 3500 Hz in
// 10 Hz steps.
func dominant(x []int16) float64 {
	best, bestP := 0.0, -1.0
	for f := 100.0; f <= 3500; f += 10 {
		if p := goertzel(x, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// seen is one datagram a relay forwarded.
type seen struct {
	fromA  bool
	at     time.Time
	h      rtpHeader
	rtp    bool
	pay    []byte
	length int
}

// relay forwards datagrams between two peers (a and b) through one socket
// and records them; drop decides whether to drop a datagram from a.
type relay struct {
	t    testing.TB
	conn *net.UDPConn
	a, b netip.AddrPort
	drop func(n int) bool

	mu   sync.Mutex
	log  []seen
	done chan struct{}
}

func newRelay(t testing.TB) *relay {
	r := &relay{t: t, conn: listenUDP(t), done: make(chan struct{})}
	return r
}

func (r *relay) start(a, b netip.AddrPort) {
	r.a, r.b = a, b
	go func() {
		defer close(r.done)
		buf := make([]byte, 2000)
		nA := 0
		for {
			n, from, err := r.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			fromA := from == r.a
			h, p, ok := parseRTP(buf[:n])
			r.mu.Lock()
			r.log = append(r.log, seen{fromA: fromA, at: time.Now(), h: h, rtp: ok, pay: append([]byte(nil), p...), length: n})
			r.mu.Unlock()
			to := r.b
			if !fromA {
				to = r.a
			} else {
				nA++
				if r.drop != nil && r.drop(nA) {
					continue
				}
			}
			_, _ = r.conn.WriteToUDPAddrPort(buf[:n], to)
		}
	}()
	r.t.Cleanup(func() { _ = r.conn.Close(); <-r.done })
}

func (r *relay) packets() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.log...)
}

func (r *relay) count(fromA bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.log {
		if s.fromA == fromA {
			n++
		}
	}
	return n
}

// rtpPacket builds a raw RTP packet.
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	putRTPHeader(b, marker, pt, seq, ts, ssrc)
	copy(b[12:], payload)
	return b
}

var _ = binary.BigEndian
