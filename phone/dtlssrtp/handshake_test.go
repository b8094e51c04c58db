package dtlssrtp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone/sdp"
)

func udpPair(t *testing.T) (a, b net.PacketConn) {
	t.Helper()
	a, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b, err = net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}

func newCert(t *testing.T) *Certificate {
	t.Helper()
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type result struct {
	s    *Session
	keys Keys
	err  error
}

// run handshakes a (client) with b (server), b checking against bWants and
// a against aWants.
func run(t *testing.T, ca, cb *Certificate, aWants, bWants []sdp.Fingerprint) (ra, rb result) {
	t.Helper()
	pa, pb := udpPair(t)
	done := make(chan result, 1)
	go func() {
		s, k, err := Handshake(context.Background(), pb, pa.LocalAddr(), Config{Cert: cb, Remote: bWants, Timeout: 3 * time.Second})
		done <- result{s, k, err}
	}()
	s, k, err := Handshake(context.Background(), pa, pb.LocalAddr(), Config{Cert: ca, Client: true, Remote: aWants, Timeout: 3 * time.Second})
	ra = result{s, k, err}
	rb = <-done
	for _, r := range []result{ra, rb} {
		if r.s != nil {
			t.Cleanup(func() { _ = r.s.Close() })
		}
	}
	return ra, rb
}

// TestHandshake: both sides agree on AES_CM_128_HMAC_SHA1_80 and on
// crossing keys (what one sends with, the other receives with).
func TestHandshake(t *testing.T) {
	ca, cb := newCert(t), newCert(t)
	start := time.Now()
	ra, rb := run(t, ca, cb, []sdp.Fingerprint{cb.Fingerprint}, []sdp.Fingerprint{ca.Fingerprint})
	if ra.err != nil || rb.err != nil {
		t.Fatalf("client %v, server %v", ra.err, rb.err)
	}
	t.Logf("handshake in %v", time.Since(start))
	if ra.keys.Suite != "AES_CM_128_HMAC_SHA1_80" || rb.keys.Suite != ra.keys.Suite {
		t.Errorf("suites %q %q", ra.keys.Suite, rb.keys.Suite)
	}
	if len(ra.keys.Local) != 30 || !bytes.Equal(ra.keys.Local, rb.keys.Remote) || !bytes.Equal(ra.keys.Remote, rb.keys.Local) ||
		bytes.Equal(ra.keys.Local, ra.keys.Remote) {
		t.Errorf("keys do not cross")
	}
}

// TestHandshakeFingerprintMismatch: a certificate that is not the one of
// the SDP fails the handshake on the side that checks it.
func TestHandshakeFingerprintMismatch(t *testing.T) {
	ca, cb, other := newCert(t), newCert(t), newCert(t)
	// The client expects another certificate than the server's.
	ra, _ := run(t, ca, cb, []sdp.Fingerprint{other.Fingerprint}, []sdp.Fingerprint{ca.Fingerprint})
	if !errors.Is(ra.err, ErrFingerprintMismatch) {
		t.Errorf("client: %v, want ErrFingerprintMismatch", ra.err)
	}
	// The server expects another certificate than the client's.
	_, rb := run(t, ca, cb, []sdp.Fingerprint{cb.Fingerprint}, []sdp.Fingerprint{other.Fingerprint})
	if !errors.Is(rb.err, ErrFingerprintMismatch) {
		t.Errorf("server: %v, want ErrFingerprintMismatch", rb.err)
	}
}

// TestHandshakeTimeout: a peer that never answers fails the handshake
// after the timeout, not later.
func TestHandshakeTimeout(t *testing.T) {
	pa, pb := udpPair(t)
	start := time.Now()
	_, _, err := Handshake(context.Background(), pa, pb.LocalAddr(), Config{Cert: newCert(t), Client: true,
		Remote: []sdp.Fingerprint{newCert(t).Fingerprint}, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || time.Since(start) > 2*time.Second {
		t.Errorf("err %v after %v", err, time.Since(start))
	}
	if _, _, err := Handshake(context.Background(), pa, pb.LocalAddr(), Config{Cert: newCert(t)}); !errors.Is(err, ErrNoFingerprint) {
		t.Errorf("no fingerprint: %v", err)
	}
}
