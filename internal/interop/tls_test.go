package interop

import (
	"context"
	"crypto/tls"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// startTLSProxy starts Kamailio with the proxy users and a TLS listener
// serving the certificate spec issued by ca.
func startTLSProxy(t *testing.T, ca *peertest.CA, spec peertest.CertSpec) *peertest.Kamailio {
	t.Helper()
	peertest.NeedKamailio(t)
	cert, key := ca.Issue(t, spec)
	return peertest.StartKamailio(t, peertest.KamailioConfig{Users: proxyUsers, RecordRoute: true, QOP: true,
		TLS: &peertest.KamailioTLS{CertFile: cert, KeyFile: key}})
}

// daveTLSAccount is dave at Kamailio k over TLS: a sips: AOR at its TLS
// port (RFC 3261 §26.2.2), with opts' other fields.
func daveTLSAccount(k *peertest.Kamailio, opts phone.Account) phone.Account {
	opts.Name, opts.AOR, opts.Password, opts.Register = "dave", "sips:dave@"+k.TLSAddr(), "davepw", true
	return opts
}

// TestRegisterOverTLS: teaphone registers at Kamailio over TLS only when
// the certificate chains to a CA it trusts, is in date and names the SIP
// domain (RFC 5922 §7); each failure is a failed registration whose reason
// says what is wrong, and verification turned off registers but says so.
func TestRegisterOverTLS(t *testing.T) {
	ca := peertest.NewCA(t, "teaphone test CA")
	other := peertest.NewCA(t, "somebody else's CA")
	loopback := []net.IP{net.IPv4(127, 0, 0, 1)}
	cases := []struct {
		name     string
		issuer   *peertest.CA
		spec     peertest.CertSpec
		noVerify bool
		want     phone.RegState
		reason   string
	}{
		{name: "valid", issuer: ca, spec: peertest.CertSpec{IPs: loopback}, want: phone.RegRegistered, reason: "OK"},
		{name: "wrong name", issuer: ca, spec: peertest.CertSpec{DNSNames: []string{"sip.example.net"}},
			want: phone.RegFailed, reason: "certificate for sip.example.net is not valid for 127.0.0.1"},
		{name: "expired", issuer: ca, spec: peertest.CertSpec{IPs: loopback,
			NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)},
			want: phone.RegFailed, reason: "certificate for 127.0.0.1 expired on "},
		{name: "unknown CA", issuer: other, spec: peertest.CertSpec{IPs: loopback},
			want: phone.RegFailed, reason: `signed by unknown authority "CN=somebody else's CA`},
		{name: "unknown CA, verify off", issuer: other, spec: peertest.CertSpec{IPs: loopback}, noVerify: true,
			want: phone.RegRegistered, reason: "TLS certificate NOT verified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := startTLSProxy(t, tc.issuer, tc.spec)
			start := time.Now()
			ph := startPhone(t, phone.Options{
				Accounts: []phone.Account{daveTLSAccount(k, phone.Account{})},
				TLS:      phone.TLSOptions{RootCAs: ca.Pool(), NoVerify: tc.noVerify},
			})
			ev, _, _ := ph.waitEvent(0, waitLong, func(ev phone.Event) bool {
				r, ok := ev.(phone.RegistrationEvent)
				return ok && (r.State == phone.RegRegistered || r.State == phone.RegFailed)
			})
			re, _ := ev.(phone.RegistrationEvent)
			t.Logf("%v after %v: %+v", re.State, time.Since(start).Round(time.Millisecond), re)
			if re.State != tc.want || !strings.Contains(re.Reason, tc.reason) {
				t.Fatalf("registration = %v %q, want %v with a reason containing %q", re.State, re.Reason, tc.want, tc.reason)
			}
			if re.TLSUnverified != tc.noVerify {
				t.Errorf("TLSUnverified = %v, want %v", re.TLSUnverified, tc.noVerify)
			}
			if !strings.HasPrefix(re.Server, "TLS ") {
				t.Errorf("registration went to %q, want TLS", re.Server)
			}
			// Kamailio logs after it has answered: wait for the line.
			if tc.want == phone.RegFailed {
				if strings.Contains(k.Log(), "REQ REGISTER") {
					t.Errorf("Kamailio saw a REGISTER over a rejected connection")
				}
				return
			}
			okLog := waitUntil(waitShort, func() bool { return strings.Contains(k.Log(), "REGISTER dave OK contact=<sips:") })
			if !okLog {
				t.Errorf("Kamailio logged no REGISTER of dave with a sips: Contact")
			}
		})
	}
}

// TestRegisterTLSStalledHandshake: a server that accepts the TCP connection
// and never answers the ClientHello fails the registration after the
// handshake timeout instead of hanging it.
func TestRegisterTLSStalledHandshake(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	start := time.Now()
	ph := startPhone(t, phone.Options{
		Accounts: []phone.Account{{Name: "dave", AOR: "sips:dave@" + ln.Addr().String(), Password: "pw", Register: true}},
		TLS:      phone.TLSOptions{HandshakeTimeout: time.Second},
	})
	re, _ := ph.waitReg(0, phone.RegFailed, waitShort)
	took := time.Since(start)
	t.Logf("failed after %v: %+v", took.Round(time.Millisecond), re)
	if !strings.Contains(re.Reason, "no handshake within 1s") {
		t.Errorf("reason = %q, want the handshake timeout", re.Reason)
	}
	if took > 4*time.Second {
		t.Errorf("the stalled handshake took %v to fail", took)
	}
}

// TestCallOverTLSViaKamailio: teaphone registered over TLS (dave, sips:)
// calls baresip (alice, registered over UDP, or over TLS too) through
// Kamailio and is called by it: the INVITE, its 407 and the BYE go over
// teaphone's TLS connection (the incoming call too: Kamailio reuses the
// connection teaphone opened), the call event says TLS, and the tones
// arrive both ways.
func TestCallOverTLSViaKamailio(t *testing.T) {
	for _, baresipTLS := range []bool{false, true} {
		name := map[bool]string{false: "baresip over UDP", true: "baresip over TLS"}[baresipTLS]
		t.Run(name, func(t *testing.T) { testCallOverTLS(t, baresipTLS) })
	}
}

func testCallOverTLS(t *testing.T, baresipTLS bool) {
	peertest.NeedBaresip(t)
	ca := peertest.NewCA(t, "teaphone test CA")
	k := startTLSProxy(t, ca, peertest.CertSpec{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	h := newCallHandler(phone.Accept())
	au := &sineAudio{hz: 1000}
	ph := startPhone(t, phone.Options{
		Accounts: []phone.Account{daveTLSAccount(k, phone.Account{})},
		TLS:      phone.TLSOptions{RootCAs: ca.Pool()},
		Handler:  h,
		Audio:    au,
	})
	bc := peertest.BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw", AudioSource: "ausine,440"}
	if baresipTLS {
		bc.Registrar, bc.TLS, bc.CAFile = k.TLSAddr(), true, ca.File
	}
	alice := peertest.StartBaresip(t, bc)
	if baresipTLS && !strings.Contains(k.Log(), "REGISTER alice OK") {
		waitUntil(waitShort, func() bool { return strings.Contains(k.Log(), "REGISTER alice OK") })
	}
	if reg := k.Log(); baresipTLS && !strings.Contains(reg, "REQ REGISTER sip:127.0.0.1:"+strconv.Itoa(k.TLSPort)) {
		t.Errorf("baresip did not REGISTER over TLS:\n%s", reg)
	}
	ph.waitReg(0, phone.RegRegistered, waitLong)

	t.Run("teaphone calls", func(t *testing.T) {
		bm, pm := alice.Mark(), ph.mark()
		logStart := len(k.Log())
		id, err := ph.Dial(context.Background(), "sips:alice@"+k.TLSAddr(), phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		act := ph.waitCall(pm, id, phone.StateActive, waitLong)
		if act.Transport != "TLS" || act.Codec != "PCMU" {
			t.Errorf("active event = %+v, want transport TLS, PCMU", act)
		}
		if _, err := alice.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		klog := k.Log()[logStart:]
		if !strings.Contains(klog, "REQ INVITE sips:alice@") || !strings.Contains(klog, "(tls)") {
			t.Errorf("Kamailio did not get the INVITE over TLS:\n%s", klog)
		}
		if baresipTLS && !regexp.MustCompile(`INVITE for alice -> sip:\S*transport=tls`).MatchString(klog) {
			t.Errorf("Kamailio did not relay the INVITE to alice's TLS contact:\n%s", klog)
		}
		from := len(au.received())
		time.Sleep(3 * time.Second) // the call's audio: inherent
		hangupAndWait(t, ph, alice, id, bm)
		checkTone(t, "baresip hears teaphone", readRecording(t, alice), 1000, 2)
		checkTone(t, "teaphone hears baresip", au.received()[from:], 440, 2)
	})
	time.Sleep(time.Second) // baresip names recordings by the second (peers.md quirk 4)
	t.Run("baresip calls", func(t *testing.T) {
		bm, pm := alice.Mark(), ph.mark()
		logStart := len(k.Log())
		target := k.URI("dave")
		if baresipTLS {
			target = "sip:dave@" + k.TLSAddr() + ";transport=tls"
		}
		if err := alice.Dial(target); err != nil {
			t.Fatal(err)
		}
		ic := h.next(t, waitLong)
		act := ph.waitCall(pm, ic.Session, phone.StateActive, waitShort)
		if act.Transport != "TLS" {
			t.Errorf("active event = %+v, want transport TLS", act)
		}
		if _, err := alice.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		if klog := k.Log()[logStart:]; !strings.Contains(klog, "INVITE for dave -> sips:") {
			t.Errorf("Kamailio did not relay the INVITE to dave's sips: Contact:\n%s", klog)
		}
		from := len(au.received())
		time.Sleep(3 * time.Second) // the call's audio: inherent
		if err := alice.Hangup(); err != nil {
			t.Fatal(err)
		}
		if end := ph.waitFinal(pm, ic.Session, waitShort); end.State != phone.StateTerminated || end.Reason != "remote hangup" {
			t.Errorf("end event = %+v, want terminated by remote hangup", end)
		}
		if _, err := alice.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
			t.Fatal(err)
		}
		checkTone(t, "baresip hears teaphone", readRecording(t, alice), 1000, 2)
		checkTone(t, "teaphone hears baresip", au.received()[from:], 440, 2)
	})
}

// TestTLSListener: a teaphone with sip.listen_tls answers a call another
// teaphone places to its sips: URI; the caller verifies the listener's
// certificate (and refuses it without the CA), both call events say TLS,
// and the tones arrive both ways.
func TestTLSListener(t *testing.T) {
	ca := peertest.NewCA(t, "teaphone test CA")
	certFile, keyFile := ca.Issue(t, peertest.CertSpec{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	alice := &sineAudio{hz: 1000}
	callee := startPhone(t, phone.Options{ListenTLS: "127.0.0.1:0", TLS: phone.TLSOptions{Certificate: &cert}, Audio: alice})
	if callee.LocalTLSAddr() == "" {
		t.Fatal("no TLS listener")
	}
	target := "sips:alice@" + callee.LocalTLSAddr()

	t.Run("unknown CA", func(t *testing.T) {
		caller := startPhone(t, phone.Options{})
		id, err := caller.Dial(context.Background(), target, phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		end := caller.waitFinal(0, id, waitShort)
		if end.State != phone.StateFailed || !strings.Contains(end.Reason, "signed by unknown authority") {
			t.Errorf("end event = %s %q, want failed: signed by unknown authority", end.State, end.Reason)
		}
	})
	t.Run("call", func(t *testing.T) {
		bob := &sineAudio{hz: 440}
		caller := startPhone(t, phone.Options{TLS: phone.TLSOptions{RootCAs: ca.Pool()}, Audio: bob})
		cm := callee.mark()
		id, err := caller.Dial(context.Background(), target, phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		act := caller.waitCall(0, id, phone.StateActive, waitShort)
		ev, _, ok := callee.waitEvent(cm, waitShort, func(ev phone.Event) bool {
			c, ok := ev.(phone.CallEvent)
			return ok && c.State == phone.StateActive
		})
		in, _ := ev.(phone.CallEvent)
		if !ok || act.Transport != "TLS" || in.Transport != "TLS" {
			t.Fatalf("active events: caller %+v, callee %+v; want both over TLS", act, in)
		}
		time.Sleep(2 * time.Second) // the call's audio: inherent
		if err := caller.Hangup(id); err != nil {
			t.Fatal(err)
		}
		if end := caller.waitFinal(0, id, waitShort); end.State != phone.StateTerminated {
			t.Errorf("caller end event = %+v, want terminated", end)
		}
		if end := callee.waitFinal(cm, in.Session, waitShort); end.State != phone.StateTerminated {
			t.Errorf("callee end event = %+v, want terminated", end)
		}
		checkTone(t, "caller hears callee", bob.received(), 1000, 1.5)
		checkTone(t, "callee hears caller", alice.received(), 440, 1.5)
	})
}

// TestTLSFlowLost: the TLS connection a registration went over is its
// flow (RFC 5626 §3.5.1), watched like a TCP one: when Kamailio goes away
// with it, the account says "connection lost…: re-registering" at once,
// long before its refresh.
func TestTLSFlowLost(t *testing.T) {
	ca := peertest.NewCA(t, "teaphone test CA")
	k := startTLSProxy(t, ca, peertest.CertSpec{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	ph := startPhone(t, phone.Options{
		Accounts: []phone.Account{daveTLSAccount(k, phone.Account{})},
		TLS:      phone.TLSOptions{RootCAs: ca.Pool()},
		NAT:      phone.NATOptions{KeepAlive: 200 * time.Millisecond},
	})
	_, i := ph.waitReg(0, phone.RegRegistered, waitLong)
	time.Sleep(time.Second) // a few keep-alives (pings answered by pongs) on the TLS flow
	if _, _, ok := ph.waitEvent(i+1, 0, func(ev phone.Event) bool { _, ok := ev.(phone.RegistrationEvent); return ok }); ok {
		t.Fatalf("registration changed while Kamailio was up:%s", ph.dumpSince(i))
	}
	start := time.Now()
	k.Stop()
	ev, _, ok := ph.waitEvent(i+1, waitShort, func(ev phone.Event) bool {
		r, ok := ev.(phone.RegistrationEvent)
		return ok && r.State == phone.RegRegistering
	})
	// The watch of sipgo's pool or a keep-alive's write notices it first.
	if re, _ := ev.(phone.RegistrationEvent); !ok || !strings.HasPrefix(re.Reason, "connection lost") || !strings.HasSuffix(re.Reason, "re-registering") {
		t.Fatalf("after Kamailio stopped: %+v, want registering \"connection lost…: re-registering\"", ev)
	}
	t.Logf("connection loss noticed after %v", time.Since(start).Round(time.Millisecond))
}
