//go:build unix

package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestImpairerIsSeededAndUniform(t *testing.T) {
	im := impairment{Loss: 0.10, Jitter: 60 * time.Millisecond, Seed: 42}
	const n = 20000
	p, again, noJitter, other := newImpairer(im, 0), newImpairer(im, 0), newImpairer(impairment{Loss: 0.10, Seed: 42}, 0), newImpairer(im, 1)
	drops, same := 0, 0
	var sum time.Duration
	bins := make([]int, 6)
	for range n {
		d, delay := p.next()
		d2, delay2 := again.next()
		d3, delay3 := noJitter.next()
		d4, _ := other.next()
		if d != d2 || delay != delay2 {
			t.Fatal("the same seed gave a different fate")
		}
		if d != d3 {
			t.Fatal("the loss pattern depends on the jitter setting")
		}
		if delay3 != 0 {
			t.Fatalf("no jitter, yet a delay of %v", delay3)
		}
		if d == d4 {
			same++
		}
		if d {
			drops++
			continue
		}
		if delay < 0 || delay >= im.Jitter {
			t.Fatalf("delay %v outside [0, %v)", delay, im.Jitter)
		}
		sum += delay
		bins[int(delay*6/im.Jitter)]++
	}
	if share := float64(drops) / n; math.Abs(share-0.10) > 0.01 {
		t.Fatalf("dropped %.4f, want 0.10", share)
	}
	if same == n {
		t.Fatal("both directions lose the same packets")
	}
	kept := n - drops
	if mean := sum / time.Duration(kept); mean < 28*time.Millisecond || mean > 32*time.Millisecond {
		t.Fatalf("mean delay %v, want 30 ms", mean)
	}
	for i, b := range bins {
		if share := float64(b) / float64(kept); math.Abs(share-1.0/6) > 0.02 {
			t.Fatalf("delay bin %d holds %.3f, want 1/6: %v", i, share, bins)
		}
	}
	if d, _ := newImpairer(impairment{Seed: 1}, 0).next(); d {
		t.Fatal("0 % loss dropped a packet")
	}
}

func TestDelayQueueReleasesInDueOrder(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var q delayQueue
	for i, d := range []int{30, 10, 20, 10, 0} { // ms after t0, in order of arrival
		q.add(t0.Add(time.Duration(d)*time.Millisecond), uint64(i), []byte{byte(i)})
	}
	if _, ok := q.popDue(t0.Add(-time.Millisecond)); ok {
		t.Fatal("a packet left before it was due")
	}
	var got []byte
	for _, now := range []int{0, 15, 25, 40} {
		for {
			p, ok := q.popDue(t0.Add(time.Duration(now) * time.Millisecond))
			if !ok {
				break
			}
			got = append(got, p[0])
		}
	}
	if want := []byte{4, 1, 3, 2, 0}; string(got) != string(want) {
		t.Fatalf("order %v, want %v (by due time, ties by arrival)", got, want)
	}
	if _, ok := q.nextDue(); ok {
		t.Fatal("queue not empty")
	}
}

// fakeUA is one side of a call through the relay: a SIP socket and an
// RTP/RTCP socket pair.
type fakeUA struct {
	sip, rtp, rtcp *net.UDPConn
}

func newFakeUA(t *testing.T) *fakeUA {
	t.Helper()
	m, err := listenMediaPair()
	if err != nil {
		t.Fatal(err)
	}
	s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &fakeUA{sip: s, rtp: m.rtp, rtcp: m.rtcp}
	t.Cleanup(func() { s.Close(); m.close() })
	return u
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

func (u *fakeUA) sdp() string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtcp:%d\r\na=rtcp-mux\r\na=candidate:1 1 UDP 1 127.0.0.1 %d typ host\r\na=sendrecv\r\n",
		port(u.rtp), port(u.rtcp), port(u.rtp))
}

func read(t *testing.T, c *net.UDPConn) (string, *net.UDPAddr) {
	t.Helper()
	buf := make([]byte, 65536)
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("read on %d: %v", port(c), err)
	}
	return string(buf[:n]), from
}

func send(t *testing.T, c *net.UDPConn, to int, msg string) {
	t.Helper()
	if _, err := c.WriteToUDP([]byte(msg), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to}); err != nil {
		t.Fatal(err)
	}
}

func withBody(start string, headers []string, body string) string {
	return start + "\r\n" + strings.Join(headers, "\r\n") + fmt.Sprintf("\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n", len(body)) + body
}

// sdpAudio returns the m=audio port, a=rtcp port and whether ICE or
// rtcp-mux lines survived.
func sdpAudio(t *testing.T, msg string) (rtp, rtcp int, leak bool) {
	t.Helper()
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	if !strings.Contains(head, fmt.Sprintf("Content-Length: %d\r\n", len(body))) && !strings.HasSuffix(head, fmt.Sprintf("Content-Length: %d", len(body))) {
		t.Fatalf("Content-Length does not match the body of %d bytes:\n%s", len(body), msg)
	}
	for _, l := range strings.Split(body, "\r\n") {
		switch {
		case strings.HasPrefix(l, "m=audio "):
			fmt.Sscanf(l, "m=audio %d", &rtp)
		case strings.HasPrefix(l, "a=rtcp:"):
			fmt.Sscanf(l, "a=rtcp:%d", &rtcp)
		case strings.HasPrefix(l, "c=") && l != "c=IN IP4 127.0.0.1":
			t.Fatalf("c= line %q", l)
		case l == "a=rtcp-mux", strings.HasPrefix(l, "a=candidate"):
			leak = true
		}
	}
	return rtp, rtcp, leak
}

// setupCall runs INVITE / 200 / ACK between caller and callee through r
// and checks the SIP rewriting on the way.
func setupCall(t *testing.T, r *relay, a, b *fakeUA) {
	t.Helper()
	viaA := fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKa1;rport", port(a.sip))
	invite := withBody(fmt.Sprintf("INVITE sip:bob@127.0.0.1:%d SIP/2.0", r.sipPort), []string{viaA, "From: <sip:a@x>;tag=1",
		"To: <sip:bob@x>", "Call-ID: c1", "CSeq: 1 INVITE", fmt.Sprintf("Contact: <sip:a@127.0.0.1:%d>", port(a.sip))}, a.sdp())
	send(t, a.sip, r.sipPort, invite)
	got, _ := read(t, b.sip)
	lines := strings.Split(got, "\r\n")
	if want := fmt.Sprintf("INVITE sip:bob@127.0.0.1:%d SIP/2.0", port(b.sip)); lines[0] != want {
		t.Fatalf("request line %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[1], fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK", r.sipPort)) || !strings.Contains(got, viaA) {
		t.Fatalf("the relay's Via is not on top of the caller's:\n%s", got)
	}
	rr := fmt.Sprintf("Record-Route: <sip:127.0.0.1:%d;lr>", r.sipPort)
	if !strings.Contains(got, rr) {
		t.Fatalf("no %s:\n%s", rr, got)
	}
	rtp, rtcp, leak := sdpAudio(t, got)
	if rtp != r.b.port() || rtcp != r.b.port()+1 || leak {
		t.Fatalf("callee told to send to %d/%d (ICE or mux left: %v), want the relay's %d/%d", rtp, rtcp, leak, r.b.port(), r.b.port()+1)
	}
	// The callee answers to the top Via (the relay); the relay pops it.
	var vias []string
	for _, l := range lines {
		if strings.HasPrefix(l, "Via:") {
			vias = append(vias, l)
		}
	}
	ok := withBody("SIP/2.0 200 OK", append(vias, "From: <sip:a@x>;tag=1", "To: <sip:bob@x>;tag=2", "Call-ID: c1", "CSeq: 1 INVITE",
		fmt.Sprintf("Contact: <sip:bob@127.0.0.1:%d>", port(b.sip)), rr), b.sdp())
	send(t, b.sip, r.sipPort, ok)
	got, _ = read(t, a.sip)
	if strings.Count(got, "Via:") != 1 || !strings.Contains(got, viaA) {
		t.Fatalf("the response did not come back with only the caller's Via:\n%s", got)
	}
	rtp, rtcp, leak = sdpAudio(t, got)
	if rtp != r.a.port() || rtcp != r.a.port()+1 || leak {
		t.Fatalf("caller told to send to %d/%d (ICE or mux left: %v), want the relay's %d/%d", rtp, rtcp, leak, r.a.port(), r.a.port()+1)
	}
}

func TestRelayCarriesACallBothWays(t *testing.T) {
	a, b := newFakeUA(t), newFakeUA(t)
	r, err := startRelay(b.sip.LocalAddr().String(), impairment{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	setupCall(t, r, a, b)

	// RTP and RTCP both ways, each from the socket its receiver was told of.
	rtpPkt := func(seq int) []byte { return []byte{0x80, 0, byte(seq >> 8), byte(seq), 0, 0, 0, 0, 0, 0, 0, 1} }
	send(t, a.rtp, r.a.port(), string(rtpPkt(1)))
	if got, from := read(t, b.rtp); got != string(rtpPkt(1)) || from.Port != r.b.port() {
		t.Fatalf("callee got %x from %v", got, from)
	}
	send(t, b.rtp, r.b.port(), string(rtpPkt(2)))
	if got, from := read(t, a.rtp); got != string(rtpPkt(2)) || from.Port != r.a.port() {
		t.Fatalf("caller got %x from %v", got, from)
	}
	rr := string([]byte{0x80, 201, 0, 1, 0, 0, 0, 1})
	send(t, a.rtcp, r.a.port()+1, rr)
	if got, _ := read(t, b.rtcp); got != rr {
		t.Fatal("RTCP did not pass")
	}
	send(t, b.rtp, r.b.port(), rr) // multiplexed RTCP on the RTP port
	if got, _ := read(t, a.rtp); got != rr {
		t.Fatal("multiplexed RTCP did not pass")
	}

	// The callee hangs up through the Record-Route; the caller answers.
	bye := fmt.Sprintf("BYE sip:a@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKb1\r\nRoute: <sip:127.0.0.1:%d;lr>\r\n"+
		"From: <sip:bob@x>;tag=2\r\nTo: <sip:a@x>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n", port(a.sip), port(b.sip), r.sipPort)
	send(t, b.sip, r.sipPort, bye)
	got, _ := read(t, a.sip)
	if !strings.HasPrefix(got, "BYE sip:a@") || strings.Contains(got, "Route:") || strings.Count(got, "Via:") != 2 {
		t.Fatalf("BYE at the caller:\n%s", got)
	}
	var vias []string
	for _, l := range strings.Split(got, "\r\n") {
		if strings.HasPrefix(l, "Via:") {
			vias = append(vias, l)
		}
	}
	send(t, a.sip, r.sipPort, "SIP/2.0 200 OK\r\n"+strings.Join(vias, "\r\n")+"\r\nCall-ID: c1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n")
	if got, _ := read(t, b.sip); !strings.HasPrefix(got, "SIP/2.0 200 OK") || strings.Count(got, "Via:") != 1 {
		t.Fatalf("200 for BYE at the callee:\n%s", got)
	}
}

// TestRelayImpairsRTP sends numbered RTP through the relay and checks that
// exactly the packets the seeded impairer drops are missing, that delays
// stay within the jitter, and that without jitter the order is kept.
func TestRelayImpairsRTP(t *testing.T) {
	for _, im := range []impairment{
		{Loss: 0.10, Jitter: 20 * time.Millisecond, Seed: 7},
		{Loss: 0.03, Seed: 8},
	} {
		t.Run(im.String(), func(t *testing.T) {
			a, b := newFakeUA(t), newFakeUA(t)
			r, err := startRelay(b.sip.LocalAddr().String(), im)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			setupCall(t, r, a, b)

			const n = 400
			want := map[int]bool{}
			fate := newImpairer(im, 0)
			for i := range n {
				if drop, _ := fate.next(); !drop {
					want[i] = true
				}
			}
			t0 := time.Now()
			sent := make([]atomic.Int64, n) // ns after t0; atomic: the race detector cannot see UDP's ordering
			done := make(chan struct{})
			var order []int
			var late time.Duration
			var sum time.Duration
			go func() {
				defer close(done)
				buf := make([]byte, 100)
				for {
					_ = b.rtp.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
					if _, _, err := b.rtp.ReadFromUDP(buf); err != nil {
						return
					}
					i := int(binary.BigEndian.Uint16(buf[2:4]))
					d := time.Since(t0) - time.Duration(sent[i].Load())
					late, sum = max(late, d), sum+d
					order = append(order, i)
				}
			}()
			for i := range n {
				pkt := []byte{0x80, 0, byte(i >> 8), byte(i), 0, 0, 0, 0, 0, 0, 0, 1}
				sent[i].Store(int64(time.Since(t0)))
				send(t, a.rtp, r.a.port(), string(pkt))
				time.Sleep(time.Millisecond)
			}
			<-done
			if len(order) != len(want) {
				t.Fatalf("%d packets arrived, want %d", len(order), len(want))
			}
			reordered := 0
			for k, i := range order {
				if !want[i] {
					t.Fatalf("packet %d arrived, but the seeded fate drops it", i)
				}
				if k > 0 && i < order[k-1] {
					reordered++
				}
			}
			if fwd, drop := r.counts(); fwd != int64(len(want)) || drop != int64(n-len(want)) {
				t.Fatalf("counts %d forwarded %d dropped, want %d %d", fwd, drop, len(want), n-len(want))
			}
			// Generous slack for a loaded machine; the distribution
			// itself is checked in TestImpairerIsSeededAndUniform.
			mean := sum / time.Duration(len(order))
			if im.Jitter == 0 {
				if reordered != 0 {
					t.Fatalf("%d packets overtook others without jitter", reordered)
				}
				if mean > 5*time.Millisecond {
					t.Fatalf("mean delay %v without jitter", mean)
				}
				return
			}
			if reordered == 0 {
				t.Fatal("20 ms of jitter on packets 1 ms apart reordered nothing")
			}
			if late > im.Jitter+30*time.Millisecond || mean < im.Jitter/4 || mean > im.Jitter*3/4+5*time.Millisecond {
				t.Fatalf("delays: mean %v, max %v for uniform jitter up to %v", mean, late, im.Jitter)
			}
		})
	}
}
