package media

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone/dtlssrtp"
	"github.com/teaphone/teaphone/phone/sdp"
)

// TestIsDTLS: RFC 7983 §7's ranges by first octet.
func TestIsDTLS(t *testing.T) {
	rec := func(first byte) []byte { b := make([]byte, 13); b[0] = first; return b }
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{rec(20), true}, {rec(22), true}, {rec(23), true}, {rec(63), true},
		{rec(19), false}, {rec(64), false}, {rec(0), false}, {rec(1), false}, // STUN 0-3
		{rec(0x80), false}, {rec(0xbf), false}, // RTP/RTCP 128-191
		{rec(22)[:12], false}, {nil, false},
	} {
		if got := isDTLS(tc.b); got != tc.want {
			t.Errorf("isDTLS(% x) = %v", tc.b, got)
		}
	}
}

// TestDTLSTransportDeadline: a read waits, a past deadline wakes it, a
// cleared one lets the next read wait again, Close ends reads and writes.
func TestDTLSTransportDeadline(t *testing.T) {
	tr := newDTLSTransport(&Stream{}, false)
	done := make(chan error, 1)
	go func() {
		_, _, err := tr.ReadFrom(make([]byte, 10))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	_ = tr.SetReadDeadline(time.Unix(1, 0))
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after a past deadline: %v", err)
	}
	_ = tr.SetReadDeadline(time.Time{})
	_ = tr.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	if _, _, err := tr.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("read with a 30 ms deadline: %v after %v", err, time.Since(start))
	}
	_ = tr.SetReadDeadline(time.Time{})
	_ = tr.Close()
	if _, _, err := tr.ReadFrom(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	if _, err := tr.WriteTo([]byte{22}, nil); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

// TestDTLSStreams: two streams with DTLS send no RTP or RTCP before keys;
// DTLS handshakes over their ports (through a relay that records the RTP
// port's traffic) give the keys: one on the RTP port with rtcp-mux, one
// per port without (RFC 5764 §4.1.2); then tones flow both ways, SRTCP
// is accepted, and nothing is in clear on the wire.
func TestDTLSStreams(t *testing.T) {
	for _, mux := range []bool{true, false} {
		t.Run(map[bool]string{true: "mux", false: "separate RTCP"}[mux], func(t *testing.T) { dtlsStreams(t, mux) })
	}
}

type hsResult struct {
	s   *dtlssrtp.Session
	k   dtlssrtp.Keys
	err error
}

// handshakePair runs a handshake between a (client) and b over their
// transports.
func handshakePair(t *testing.T, ta, tb *DTLSTransport, ca, cb *dtlssrtp.Certificate) (ka, kb dtlssrtp.Keys) {
	t.Helper()
	done := make(chan hsResult, 1)
	go func() {
		s, k, err := dtlssrtp.Handshake(context.Background(), tb, tb.RemoteAddr(),
			dtlssrtp.Config{Cert: cb, Remote: []sdp.Fingerprint{ca.Fingerprint}})
		done <- hsResult{s, k, err}
	}()
	sa, ka, err := dtlssrtp.Handshake(context.Background(), ta, ta.RemoteAddr(),
		dtlssrtp.Config{Cert: ca, Client: true, Remote: []sdp.Fingerprint{cb.Fingerprint}})
	rb := <-done
	if err != nil || rb.err != nil {
		t.Fatalf("handshake: client %v, server %v", err, rb.err)
	}
	t.Cleanup(func() { _ = sa.Close(); _ = rb.s.Close() })
	return ka, rb.k
}

func dtlsStreams(t *testing.T, mux bool) {
	opts := []EngineOption{WithRTCPInterval(100 * time.Millisecond)}
	a := newPeer(t, 1000, func(c *StreamConfig) { c.DTLS = true; c.RTCPMux = mux }, opts...)
	b := newPeer(t, 440, func(c *StreamConfig) { c.DTLS = true; c.RTCPMux = mux }, opts...)
	r := newRelay(t)
	r.start(a.rtp, b.rtp)
	if mux {
		a.s.SetRemote(addrOf(r.conn), addrOf(r.conn))
		b.s.SetRemote(addrOf(r.conn), addrOf(r.conn))
	} else {
		a.s.SetRemote(addrOf(r.conn), b.rtcp)
		b.s.SetRemote(addrOf(r.conn), a.rtcp)
	}
	a.s.Start()
	b.s.Start()
	time.Sleep(300 * time.Millisecond)
	if n := len(r.packets()); n != 0 {
		t.Fatalf("%d datagrams before any key", n)
	}

	ca, err := dtlssrtp.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := dtlssrtp.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ka, kb := handshakePair(t, a.s.DTLS(), b.s.DTLS(), ca, cb)
	keysA := SRTPKeys{Suite: ka.Suite, Local: ka.Local, Remote: ka.Remote}
	keysB := SRTPKeys{Suite: kb.Suite, Local: kb.Local, Remote: kb.Remote}
	if !mux {
		ra, rb := handshakePair(t, a.s.DTLSRTCP(), b.s.DTLSRTCP(), ca, cb)
		keysA.RTCPLocal, keysA.RTCPRemote = ra.Local, ra.Remote
		keysB.RTCPLocal, keysB.RTCPRemote = rb.Local, rb.Remote
	}
	if err := a.s.SetSRTP(keysA); err != nil {
		t.Fatal(err)
	}
	if err := b.s.SetSRTP(keysB); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "audio and RTCP both ways", func() bool {
		sa, sb := a.s.Stats(), b.s.Stats()
		return sa.RxPackets > 30 && sb.RxPackets > 30 && sa.RTCPReceived > 1 && sb.RTCPReceived > 1
	})
	checkTone(t, "b hears a", b, 1000, 8000)
	checkTone(t, "a hears b", a, 440, 8000)
	if st := b.s.Stats(); st.SRTP != SuiteAESCM128SHA1x80 || st.DroppedSRTP > 2 {
		t.Errorf("stats %+v", st)
	}
	// On the wire: DTLS records, then SRTP; no PCMU of the tone.
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
	srtpSeen := 0
	for _, p := range r.packets() {
		if p.rtp && len(p.pay) >= 16 {
			srtpSeen++
			if frames[string(p.pay[:16])] {
				t.Fatal("plain PCMU of the tone on the wire")
			}
		}
	}
	if srtpSeen < 30 {
		t.Errorf("only %d SRTP packets on the wire", srtpSeen)
	}
	dtlsRenew(t, a, b, r, mux)
}

// dtlsRenew: RenewDTLS stops the media at once (no key, nothing sent,
// never in clear), closes the old transports, and a handshake on the new
// ones keys the streams again.
func dtlsRenew(t *testing.T, a, b *peer, r *relay, mux bool) {
	oldA, oldRTCP := a.s.DTLS(), a.s.DTLSRTCP()
	ta, tra := a.s.RenewDTLS()
	tb, trb := b.s.RenewDTLS()
	if ta == nil || tb == nil || ta == oldA || (tra == nil) != (oldRTCP == nil) || a.s.DTLS() != ta || a.s.DTLSRTCP() != tra {
		t.Fatalf("RenewDTLS = %p %p, %p %p", ta, tra, tb, trb)
	}
	if _, _, err := oldA.ReadFrom(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("old transport read: %v", err)
	}
	if oldRTCP != nil {
		if _, _, err := oldRTCP.ReadFrom(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("old RTCP transport read: %v", err)
		}
	}
	if a.s.SRTPSuite() != "" || b.s.SRTPSuite() != "" {
		t.Fatal("keys kept after RenewDTLS")
	}
	time.Sleep(100 * time.Millisecond) // a tick in flight
	n := len(r.packets())
	time.Sleep(300 * time.Millisecond)
	if m := len(r.packets()); m != n {
		t.Fatalf("%d datagrams sent without keys", m-n)
	}
	ca, err := dtlssrtp.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := dtlssrtp.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ka, kb := handshakePair(t, ta, tb, ca, cb)
	keysA := SRTPKeys{Suite: ka.Suite, Local: ka.Local, Remote: ka.Remote}
	keysB := SRTPKeys{Suite: kb.Suite, Local: kb.Local, Remote: kb.Remote}
	if !mux {
		ra, rb := handshakePair(t, tra, trb, ca, cb)
		keysA.RTCPLocal, keysA.RTCPRemote = ra.Local, ra.Remote
		keysB.RTCPLocal, keysB.RTCPRemote = rb.Local, rb.Remote
	}
	if err := a.s.SetSRTP(keysA); err != nil {
		t.Fatal(err)
	}
	if err := b.s.SetSRTP(keysB); err != nil {
		t.Fatal(err)
	}
	rx := b.s.Stats().RxPackets
	waitFor(t, 5*time.Second, "audio under the new keys", func() bool { return b.s.Stats().RxPackets > rx+30 })
	checkTone(t, "renewed: b hears a", b, 1000, 8000)
	checkTone(t, "renewed: a hears b", a, 440, 8000)
}
