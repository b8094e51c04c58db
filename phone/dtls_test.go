package phone

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone/dtlssrtp"
)

const dtlsSuite = "AES_CM_128_HMAC_SHA1_80 (DTLS)"

// waitSRTP waits for a CallEvent of id in state Active whose SRTP is
// suite.
func (tp *testPhone) waitSRTP(id SessionID, suite string) CallEvent {
	tp.t.Helper()
	var got CallEvent
	if !tp.waitFor(wait, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		if ok && ce.Session == id && ce.State == StateActive && ce.SRTP == suite {
			got = ce
			return true
		}
		return false
	}) {
		tp.t.Fatalf("session %s never had srtp %q; events: %s", id, suite, tp.dump())
	}
	return got
}

// waitEventOf waits for an event that match accepts.
func (tp *testPhone) waitEventOf(match func(Event) bool, what string) {
	tp.t.Helper()
	if !tp.waitFor(wait, match) {
		tp.t.Fatalf("no %s; events: %s", what, tp.dump())
	}
}

// mark is the number of events so far: waitFlagsAfter looks past it.
func (tp *testPhone) markEvents() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.events)
}

// waitFlagsAfter is waitFlags for events after mark.
func (tp *testPhone) waitFlagsAfter(mark int, id SessionID, heldLocal, heldRemote bool) CallEvent {
	tp.t.Helper()
	var got CallEvent
	if !tp.waitFor(wait, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		if ok && ce.Session == id && ce.HeldLocal == heldLocal && ce.HeldRemote == heldRemote && ce.State == StateActive &&
			tp.indexLocked(ev) >= mark {
			got = ce
			return true
		}
		return false
	}) {
		tp.t.Fatalf("session %s never had held_local=%v held_remote=%v; events: %s", id, heldLocal, heldRemote, tp.dump())
	}
	return got
}

// indexLocked is ev's position in tp.events (waitFor holds tp.mu).
func (tp *testPhone) indexLocked(ev Event) int {
	for i, e := range tp.events {
		if e == ev {
			return i
		}
	}
	return -1
}

// TestDTLSSRTPCall: two dtls-srtp phones, with rtcp-mux (one
// association) and without (one per port, RFC 5764 §4.1.2): the call
// connects, the handshake keys SRTP (the event says the suite and DTLS),
// tones flow both ways, nothing is dropped, and hold and resume keep the
// association (RFC 5763 §6.7: no second handshake).
func TestDTLSSRTPCall(t *testing.T) {
	for _, mux := range []bool{true, false} {
		t.Run(map[bool]string{true: "rtcp-mux", false: "separate RTCP"}[mux], func(t *testing.T) { dtlsCall(t, mux) })
	}
}

func dtlsCall(t *testing.T, mux bool) {
	aAudio, bAudio := &toneAudio{hz: 1000}, &toneAudio{hz: 440}
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: aAudio, Encryption: EncryptionDTLSSRTP, NoRTCPMux: !mux})
	b := newTestPhone(t, Options{Audio: bAudio, Handler: h, Encryption: EncryptionDTLSSRTP})
	ida, idb := connect(t, a, b, h)
	a.waitSRTP(ida, dtlsSuite)
	b.waitSRTP(idb, dtlsSuite)
	for _, p := range []*testPhone{a, b} {
		p.waitEventOf(func(ev Event) bool {
			ce, ok := ev.(CallEvent)
			return ok && ce.State == StateActive && ce.SRTP == SRTPHandshaking
		}, "a call event of the handshake under way")
		p.waitEventOf(func(ev Event) bool {
			me, ok := ev.(MediaEvent)
			return ok && me.Stats.SRTP == dtlsSuite
		}, "a media event saying DTLS")
	}
	ca, _ := a.lookup(ida)
	cb, _ := b.lookup(idb)
	t.Logf("handshake: caller (server) %v, callee (client) %v", ca.media.dtlsHandshakeTime(), cb.media.dtlsHandshakeTime())
	assertTone(t, "callee hears caller", bAudio.after(0, 8000), 1000)
	assertTone(t, "caller hears callee", aAudio.after(0, 8000), 440)

	for _, holder := range []struct {
		p  *testPhone
		id SessionID
	}{{a, ida}, {b, idb}} {
		if err := holder.p.Hold(holder.id); err != nil {
			t.Fatal(err)
		}
		holder.p.waitFlags(holder.id, true, false)
		time.Sleep(200 * time.Millisecond)
		mark := holder.p.markEvents()
		if err := holder.p.Resume(holder.id); err != nil {
			t.Fatal(err)
		}
		if ev := holder.p.waitFlagsAfter(mark, holder.id, false, false); ev.SRTP != dtlsSuite {
			t.Fatalf("resumed: %+v", ev)
		}
		from := len(bAudio.received())
		assertTone(t, "resumed: callee hears caller", bAudio.after(from, 8000), 1000)
		from = len(aAudio.received())
		assertTone(t, "resumed: caller hears callee", aAudio.after(from, 8000), 440)
	}
	if n, m := ca.media.dtlsHandshakes(), cb.media.dtlsHandshakes(); n != 1 || m != 1 {
		t.Errorf("hold and resume: %d and %d handshakes, want 1", n, m)
	}
	for _, s := range []struct {
		p  *testPhone
		id SessionID
	}{{a, ida}, {b, idb}} {
		st, err := s.p.Stats(s.id)
		// The server may send its first SRTP just before the client has
		// its keys: a packet or two dropped at the start.
		if err != nil || st.SRTP != dtlsSuite || st.DroppedSRTP > 3 || st.RTCPMux != mux {
			t.Errorf("stats %+v %v", st, err)
		}
		t.Logf("stats: rx %d tx %d dropped_srtp %d", st.RxPackets, st.TxPackets, st.DroppedSRTP)
	}
	_ = a.Hangup(ida)
	b.waitCall(idb, StateTerminated, wait)
}

// TestDTLSFingerprintMismatch: a caller whose SDP carries a fingerprint
// that is not its certificate's: the callee's check fails and it ends the
// call with BYE and the reason; both sides see it end.
func TestDTLSFingerprintMismatch(t *testing.T) {
	for _, liar := range []string{"caller", "callee"} {
		t.Run(liar, func(t *testing.T) {
			h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
			a := newTestPhone(t, Options{Audio: &toneAudio{hz: 1000}, Encryption: EncryptionDTLSSRTP})
			b := newTestPhone(t, Options{Audio: &toneAudio{hz: 440}, Handler: h, Encryption: EncryptionDTLSSRTP})
			other, err := dtlssrtp.NewCertificate()
			if err != nil {
				t.Fatal(err)
			}
			checker := b
			if liar == "caller" {
				a.dtlsAdvertise.Store(&other.Fingerprint)
			} else {
				b.dtlsAdvertise.Store(&other.Fingerprint)
				checker = a
			}
			ida, idb := connect(t, a, b, h)
			id, peer, peerID := idb, a, ida
			if checker == a {
				id, peer, peerID = ida, b, idb
			}
			ev := checker.waitCall(id, StateTerminated, wait)
			if !strings.Contains(ev.Reason, "DTLS: fingerprint mismatch") {
				t.Errorf("checker ended with %+v", ev)
			}
			// The other side ends too: BYE, or its own failed handshake.
			peer.waitCall(peerID, StateTerminated, wait)
		})
	}
}

// TestDTLSPolicies: dtls-srtp facing a side without it cannot call: 488
// either way, with the reason on the dtls-srtp caller.
func TestDTLSPolicies(t *testing.T) {
	for _, tc := range []struct{ caller, callee Encryption }{
		{EncryptionDTLSSRTP, EncryptionNone},
		{EncryptionDTLSSRTP, EncryptionSRTPMandatory},
		{EncryptionDTLSSRTP, EncryptionSRTPOptional},
		{EncryptionNone, EncryptionDTLSSRTP},
		{EncryptionSRTPOptional, EncryptionDTLSSRTP},
		{EncryptionSRTPMandatory, EncryptionDTLSSRTP},
	} {
		t.Run(string(tc.caller)+"→"+string(tc.callee), func(t *testing.T) {
			h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
			a := newTestPhone(t, Options{Audio: &toneAudio{hz: 1000}, Encryption: tc.caller})
			b := newTestPhone(t, Options{Audio: &toneAudio{hz: 440}, Handler: h, Encryption: tc.callee})
			id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ev := a.waitCall(id, StateFailed, wait)
			if ev.Code != 488 || (tc.caller == EncryptionDTLSSRTP) != strings.Contains(ev.Reason, "DTLS-SRTP") {
				t.Fatalf("caller = %+v", ev)
			}
		})
	}
}

// TestDTLSHandshakeTimeout: a peer that never does the handshake (here:
// its DTLS records are dropped) ends the call after the timeout with BYE.
func TestDTLSHandshakeTimeout(t *testing.T) {
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: &toneAudio{hz: 1000}, Encryption: EncryptionDTLSSRTP})
	b := newTestPhone(t, Options{Audio: &toneAudio{hz: 440}, Handler: h, Encryption: EncryptionDTLSSRTP})
	b.dtlsTimeout.Store(int64(500 * time.Millisecond))
	// Both think they are the server: nobody sends a ClientHello.
	b.dtlsForceServer.Store(true)
	ida, idb := connect(t, a, b, h)
	start := time.Now()
	ev := b.waitCall(idb, StateTerminated, wait)
	if !strings.Contains(ev.Reason, "DTLS: handshake timed out") || time.Since(start) > 5*time.Second {
		t.Errorf("callee ended with %+v after %v", ev, time.Since(start))
	}
	a.waitCall(ida, StateTerminated, wait)
}

// TestDTLSNoLeaks: DTLS calls (one association, two, renewed ones, a
// failed one) leave no goroutine behind once the phones close: the
// handshake goroutine and pion's connections end with the call.
func TestDTLSNoLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		h := &handlerChan{calls: make(chan IncomingCall, 8), dec: Accept()}
		a := newTestPhone(t, Options{Audio: &toneAudio{hz: 1000}, Encryption: EncryptionDTLSSRTP, NoRTCPMux: true})
		b := newTestPhone(t, Options{Audio: &toneAudio{hz: 440}, Handler: h, Encryption: EncryptionDTLSSRTP})
		ida, idb := connect(t, a, b, h)
		a.waitSRTP(ida, dtlsSuite)
		other, err := dtlssrtp.NewCertificate()
		if err != nil {
			t.Fatal(err)
		}
		// A new association: the old ones end, the new ones with the call.
		ca, _ := a.lookup(ida)
		useCert(ca, other, other.Fingerprint)
		reoffer(t, ca)
		waitHandshakes(t, "caller", ca, 2)
		_ = a.Hangup(ida)
		b.waitCall(idb, StateTerminated, wait)
		a.dtlsAdvertise.Store(&other.Fingerprint)
		ida, idb = connect(t, a, b, h)
		b.waitCall(idb, StateTerminated, wait)
		a.waitCall(ida, StateTerminated, wait)
		a.dtlsAdvertise.Store(nil)
		ida, _ = connect(t, a, b, h)
		a.waitSRTP(ida, dtlsSuite)
		a.Close() // hangs up the call
		<-a.done
		b.Close()
		<-b.done
	}()
	var n int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n = runtime.NumGoroutine(); n <= base+2 {
			return
		}
	}
	buf := make([]byte, 1<<16)
	t.Errorf("%d goroutines before, %d after Close:\n%s", base, n, buf[:runtime.Stack(buf, true)])
}
