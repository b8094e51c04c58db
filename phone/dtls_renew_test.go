package phone

import (
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone/dtlssrtp"
	"github.com/teaphone/teaphone/phone/sdp"
)

// reoffer sends a re-INVITE from c keeping its direction, as a session
// refresh does, and applies the answer.
func reoffer(t *testing.T, c *call) {
	t.Helper()
	if err := c.reinvite(c.media.getLocalDir()); err != nil {
		t.Fatal(err)
	}
	c.media.update()
}

// useCert makes c's next SDP carry fp, and its next handshakes use cert
// (nil: keep the certificate, so that fp lies).
func useCert(c *call, cert *dtlssrtp.Certificate, fp sdp.Fingerprint) {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	if cert != nil {
		c.media.dtls.cert = cert
	}
	c.media.local.DTLS.Fingerprint = fp
}

// waitHandshakes waits until c finished n handshakes.
func waitHandshakes(t *testing.T, who string, c *call, n int) {
	t.Helper()
	for deadline := time.Now().Add(wait); c.media.dtlsHandshakes() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d handshakes, want %d", who, c.media.dtlsHandshakes(), n)
		}
	}
}

// TestDTLSReinviteNewFingerprint: a re-INVITE whose SDP carries a new
// certificate's fingerprint makes both sides run a new handshake (RFC
// 5763 §6.7, RFC 8842 §5), with and without rtcp-mux, from either side;
// the tones flow again under the new keys, and a later re-INVITE that
// changes nothing keeps the new association.
func TestDTLSReinviteNewFingerprint(t *testing.T) {
	for _, tc := range []struct {
		name        string
		mux, callee bool
	}{{"rtcp-mux caller", true, false}, {"rtcp-mux callee", true, true}, {"separate RTCP caller", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			aAudio, bAudio := &toneAudio{hz: 1000}, &toneAudio{hz: 440}
			h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
			a := newTestPhone(t, Options{Audio: aAudio, Encryption: EncryptionDTLSSRTP, NoRTCPMux: !tc.mux})
			b := newTestPhone(t, Options{Audio: bAudio, Handler: h, Encryption: EncryptionDTLSSRTP})
			ida, idb := connect(t, a, b, h)
			a.waitSRTP(ida, dtlsSuite)
			b.waitSRTP(idb, dtlsSuite)
			ca, _ := a.lookup(ida)
			cb, _ := b.lookup(idb)
			waitHandshakes(t, "caller", ca, 1)
			waitHandshakes(t, "callee", cb, 1)

			cert, err := dtlssrtp.NewCertificate()
			if err != nil {
				t.Fatal(err)
			}
			from := ca
			if tc.callee {
				from = cb
			}
			mark := a.markEvents()
			useCert(from, cert, cert.Fingerprint)
			reoffer(t, from)
			// The call says so while the media waits for the new keys.
			a.waitEventOf(func(ev Event) bool {
				ce, ok := ev.(CallEvent)
				return ok && ce.Session == ida && ce.SRTP == SRTPHandshaking && a.indexLocked(ev) >= mark
			}, "a call event of the new handshake")
			waitHandshakes(t, "caller", ca, 2)
			waitHandshakes(t, "callee", cb, 2)
			a.waitSRTP(ida, dtlsSuite)
			b.waitSRTP(idb, dtlsSuite)
			assertTone(t, "callee hears caller", bAudio.after(len(bAudio.received()), 8000), 1000)
			assertTone(t, "caller hears callee", aAudio.after(len(aAudio.received()), 8000), 440)

			// Nothing changed: the association stays.
			reoffer(t, from)
			time.Sleep(300 * time.Millisecond)
			if n, m := ca.media.dtlsHandshakes(), cb.media.dtlsHandshakes(); n != 2 || m != 2 {
				t.Errorf("after a re-INVITE without change: %d and %d handshakes, want 2", n, m)
			}
			assertTone(t, "still: callee hears caller", bAudio.after(len(bAudio.received()), 8000), 1000)
			_ = a.Hangup(ida)
			b.waitCall(idb, StateTerminated, wait)
		})
	}
}

// TestDTLSReinviteMismatch: a re-INVITE whose fingerprint is not the
// certificate the sender uses: the peer's new handshake fails and it ends
// the call with the reason; both sides see it end.
func TestDTLSReinviteMismatch(t *testing.T) {
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: &toneAudio{hz: 1000}, Encryption: EncryptionDTLSSRTP})
	b := newTestPhone(t, Options{Audio: &toneAudio{hz: 440}, Handler: h, Encryption: EncryptionDTLSSRTP})
	ida, idb := connect(t, a, b, h)
	a.waitSRTP(ida, dtlsSuite)
	b.waitSRTP(idb, dtlsSuite)
	ca, _ := a.lookup(ida)
	other, err := dtlssrtp.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	useCert(ca, nil, other.Fingerprint)
	reoffer(t, ca)
	ev := b.waitCall(idb, StateTerminated, wait)
	if !strings.Contains(ev.Reason, "DTLS: fingerprint mismatch") {
		t.Errorf("callee ended with %+v", ev)
	}
	a.waitCall(ida, StateTerminated, wait)
}

// TestDTLSAssocKey: what makes a new association: the peer's media
// address or port, either fingerprint, the roles; not a c=0.0.0.0 hold
// or a port 0.
func TestDTLSAssocKey(t *testing.T) {
	fp := func(b byte) sdp.Fingerprint { return sdp.Fingerprint{Hash: "sha-256", Sum: []byte{b}} }
	base := func() *mediaState {
		m := &mediaState{dtls: &dtlsState{remote: []sdp.Fingerprint{fp(1)}}}
		m.local.DTLS = &sdp.LocalDTLS{Fingerprint: fp(2)}
		m.remote = sdp.Media{Addr: "192.0.2.1", Port: 4000}
		m.dtls.cur = m.assocKeyLocked()
		return m
	}
	for _, tc := range []struct {
		name  string
		tweak func(m *mediaState)
		renew bool
	}{
		{"nothing", func(*mediaState) {}, false},
		{"address", func(m *mediaState) { m.remote.Addr = "192.0.2.2" }, true},
		{"port", func(m *mediaState) { m.remote.Port = 4002 }, true},
		{"c=0.0.0.0 hold", func(m *mediaState) { m.remote.Addr, m.remote.HoldC0 = "0.0.0.0", true }, false},
		{"port 0", func(m *mediaState) { m.remote.Port = 0 }, false},
		{"peer's fingerprint", func(m *mediaState) { m.dtls.remote = []sdp.Fingerprint{fp(3)} }, true},
		{"a second fingerprint", func(m *mediaState) { m.dtls.remote = append(m.dtls.remote, fp(3)) }, true},
		{"our fingerprint", func(m *mediaState) { m.local.DTLS.Fingerprint = fp(3) }, true},
		{"roles", func(m *mediaState) { m.dtls.client = true }, true},
	} {
		m := base()
		tc.tweak(m)
		if got := m.assocKeyLocked() != m.dtls.cur; got != tc.renew {
			t.Errorf("%s: new association %v, want %v", tc.name, got, tc.renew)
		}
	}
}
