package interop

// DTLS-SRTP (RFC 5763, RFC 5764) with baresip 1.0's dtls_srtp module
// (;mediaenc=dtls_srtp), with rtcp_mux yes (one association) and no (one
// on the RTP and one on the RTCP port, RFC 5764 §4.1.2, as baresip
// does): calls both ways, the handshake keys SRTP (teaphone's call event
// says "(DTLS)"), tones analysed on both sides, DTMF both ways, hold and
// resume by the caller keep the association, baresip accepts our SRTCP,
// and a capture on the loopback interface shows no plain G.711 of the
// tones. Between dtls-srtp and a plain side the call is refused with 488.
// Two teaphones with dtls-srtp, captured the same way, are the in-house
// case.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

const dtlsSuite = "AES_CM_128_HMAC_SHA1_80 (DTLS)"

// waitDTLS waits for teaphone's call event saying the DTLS keys are in.
func waitDTLS(t *testing.T, ph *testPhone, since int, id phone.SessionID) time.Duration {
	t.Helper()
	start := time.Now()
	if _, _, ok := ph.waitEvent(since, waitShort, func(ev phone.Event) bool {
		c, ok := ev.(phone.CallEvent)
		return ok && c.Session == id && c.State == phone.StateActive && c.SRTP == dtlsSuite
	}); !ok {
		t.Fatalf("no call event with srtp %q: %s", dtlsSuite, ph.dumpSince(since))
	}
	return time.Since(start)
}

// TestDTLSSRTPWithBaresip: see the file comment.
func TestDTLSSRTPWithBaresip(t *testing.T) {
	peertest.NeedBaresip(t)
	for _, tc := range []struct {
		name     string
		mediaenc string
		mux      bool
		enc      phone.Encryption
		callers  []string
		fail     bool
	}{
		{"dtls_srtp/dtls-srtp", "dtls_srtp", true, phone.EncryptionDTLSSRTP, []string{"teaphone", "baresip"}, false},
		{"dtls_srtp without rtcp-mux", "dtls_srtp", false, phone.EncryptionDTLSSRTP, []string{"teaphone", "baresip"}, false},
		{"plain/dtls-srtp", "", true, phone.EncryptionDTLSSRTP, []string{"teaphone", "baresip"}, true},
		{"dtls_srtp/none", "dtls_srtp", true, phone.EncryptionNone, []string{"baresip"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440", MediaEnc: tc.mediaenc, RTCPMux: tc.mux})
			au := &sineAudio{hz: 1000}
			h := newCallHandler(phone.Accept())
			lo, err := peertest.FreePorts(40, 2)
			if err != nil {
				t.Fatal(err)
			}
			ph := startPhone(t, phone.Options{Audio: au, Handler: h, Encryption: tc.enc, RTPPortMin: lo, RTPPortMax: lo + 39})
			for _, caller := range tc.callers {
				t.Run(caller+" calls", func(t *testing.T) {
					if tc.fail {
						dtlsRefused(t, bob, ph, caller, tc.enc == phone.EncryptionDTLSSRTP)
						return
					}
					dtlsCall(t, bob, ph, h, au, caller, lo, tc.mux)
				})
			}
		})
	}
}

// dtlsRefused: teaphone answers baresip's offer with 488, or its own call
// fails with 488 naming DTLS-SRTP when teaphone required it.
func dtlsRefused(t *testing.T, bob *peertest.Baresip, ph *testPhone, caller string, dtls bool) {
	bm, pm := bob.Mark(), ph.mark()
	if caller == "teaphone" {
		id, err := ph.Dial(context.Background(), bob.URI(), phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		end := ph.waitFinal(pm, id, waitShort)
		if end.State != phone.StateFailed || end.Code != 488 || strings.Contains(end.Reason, "DTLS-SRTP") != dtls {
			t.Errorf("end = %+v, want failed 488 (naming DTLS-SRTP: %v)", end, dtls)
		}
		return
	}
	trace := len(bob.Log())
	if err := bob.Dial(ph.uri("dave")); err != nil {
		t.Fatal(err)
	}
	ev, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort)
	if err != nil {
		t.Fatal(err)
	}
	var log string
	if !waitUntil(2*time.Second, func() bool { log = bob.Log()[trace:]; return strings.Contains(log, "SIP/2.0 488") }) {
		t.Errorf("teaphone did not answer 488 (baresip closed with %q):\n%s", ev.Param, log)
	}
}

func dtlsCall(t *testing.T, bob *peertest.Baresip, ph *testPhone, h *callHandler, au *sineAudio, caller string, lo int, mux bool) {
	capture := startCapture(t, lo, lo+39)
	bm, pm, trace, heard := bob.Mark(), ph.mark(), len(bob.Log()), len(au.received())
	id := startDirectCall(t, ph, bob, h, caller)
	ph.waitCall(pm, id, phone.StateActive, waitShort)
	if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
		t.Fatal(err)
	}
	took := waitDTLS(t, ph, pm, id)
	t.Logf("DTLS keys in %v after the call was active", took)
	time.Sleep(1500 * time.Millisecond)

	dtmfBothWays(t, ph, bob, id, bm)

	for _, hold := range []bool{true, false} {
		m := ph.mark()
		var err error
		switch {
		case caller == "teaphone" && hold:
			err = ph.Hold(id)
		case caller == "teaphone":
			err = ph.Resume(id)
		case hold:
			err = bob.Hold()
		default:
			err = bob.Resume()
		}
		if err != nil {
			t.Fatal(err)
		}
		ev, _, ok := ph.waitEvent(m, waitShort, func(ev phone.Event) bool {
			c, ok := ev.(phone.CallEvent)
			return ok && c.Session == id && (c.HeldLocal || c.HeldRemote) == hold
		})
		if !ok {
			t.Fatalf("teaphone did not see hold=%v", hold)
		}
		if c := ev.(phone.CallEvent); c.SRTP != dtlsSuite {
			t.Errorf("hold=%v: srtp %q, want %q (the association is kept)", hold, c.SRTP, dtlsSuite)
		}
		time.Sleep(700 * time.Millisecond)
	}
	resumed := len(au.received())
	time.Sleep(2500 * time.Millisecond)
	st, err := ph.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("teaphone stats: %+v", st)
	// baresip's clear RTCP APP packet at its stream's start (see
	// TestSRTPWithBaresip) and SRTP that overtook our keys are dropped.
	if st.SRTP != dtlsSuite || st.DroppedSRTP > 3 || st.RTCPMux != mux {
		t.Errorf("stats srtp %q dropped %d rtcp-mux %v", st.SRTP, st.DroppedSRTP, st.RTCPMux)
	}
	if _, err := bob.WaitEvent(bm, "CALL_RTCP", waitShort); err != nil {
		t.Errorf("baresip got no RTCP from teaphone: %v", err)
	}
	hangupAndWait(t, ph, bob, id, bm)

	checkTone(t, "baresip hears teaphone after the resume", readRecording(t, bob), 1000, 1)
	checkTone(t, "teaphone hears baresip", au.received()[heard:], 440, 2)
	checkTone(t, "teaphone hears baresip after the resume", au.received()[resumed:], 440, 1.5)

	pkts := capture.packets()
	for _, dir := range []struct {
		fromUs bool
		freq   float64
		who    string
	}{{true, 1000, "teaphone → baresip"}, {false, 440, "baresip → teaphone"}} {
		plain, rtp := plainTone(pkts, dir.fromUs, lo, lo+39, peerPort(t, st), dir.freq)
		t.Logf("capture %s: %d RTP packets, %d with the tone in clear", dir.who, rtp, plain)
		if rtp < 200 {
			t.Errorf("capture %s: only %d RTP packets", dir.who, rtp)
		}
		// baresip 1.0 without rtcp-mux, as DTLS client, sends one RTP
		// packet in clear between its Finished and ours (seen in the
		// capture: 172 bytes, before our ChangeCipherSpec); teaphone
		// drops it. Ours are never in clear.
		allowed := 0
		if !mux && !dir.fromUs && caller == "teaphone" {
			allowed = 2
		}
		if plain > allowed {
			t.Errorf("capture %s: %d packets carry the tone in clear", dir.who, plain)
		}
	}
	log := bob.Log()[trace:]
	wants := []string{"UDP/TLS/RTP/SAVP", "a=fingerprint:", "DTLS-SRTP complete (audio/RTP)"}
	if !mux {
		wants = append(wants, "DTLS-SRTP complete (audio/RTCP)")
	}
	for _, want := range wants {
		if !strings.Contains(log, want) {
			t.Errorf("no %q in baresip's log", want)
		}
	}
	if strings.Contains(log, "a=crypto:") {
		t.Errorf("a=crypto in a DTLS-SRTP call")
	}
	time.Sleep(1100 * time.Millisecond) // baresip names recordings by the second
}

// TestDTLSSRTPTeaphones: two teaphones with dtls-srtp on loopback: tones
// both ways, and the capture shows RTP only in SRTP.
func TestDTLSSRTPTeaphones(t *testing.T) {
	lo, err := peertest.FreePorts(40, 2)
	if err != nil {
		t.Fatal(err)
	}
	aAu, bAu := &sineAudio{hz: 1000}, &sineAudio{hz: 440}
	h := newCallHandler(phone.Accept())
	a := startPhone(t, phone.Options{Audio: aAu, Encryption: phone.EncryptionDTLSSRTP, RTPPortMin: lo, RTPPortMax: lo + 19})
	b := startPhone(t, phone.Options{Audio: bAu, Handler: h, Encryption: phone.EncryptionDTLSSRTP, RTPPortMin: lo + 20, RTPPortMax: lo + 39})
	capture := startCapture(t, lo, lo+19)
	am := a.mark()
	id, err := a.Dial(context.Background(), b.uri("bob"), phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ic := h.next(t, waitShort)
	a.waitCall(am, id, phone.StateActive, waitShort)
	t.Logf("DTLS keys in %v after the call was active", waitDTLS(t, a, am, id))
	time.Sleep(3 * time.Second)
	st, err := a.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	bm := b.mark()
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	b.waitFinal(bm, ic.Session, waitShort)
	checkTone(t, "callee hears caller", bAu.received(), 1000, 2)
	checkTone(t, "caller hears callee", aAu.received(), 440, 2)
	pkts := capture.packets()
	for _, dir := range []struct {
		fromUs bool
		freq   float64
		who    string
	}{{true, 1000, "caller → callee"}, {false, 440, "callee → caller"}} {
		plain, rtp := plainTone(pkts, dir.fromUs, lo, lo+19, peerPort(t, st), dir.freq)
		t.Logf("capture %s: %d RTP packets, %d with the tone in clear", dir.who, rtp, plain)
		if rtp < 100 || plain > 0 {
			t.Errorf("capture %s: %d RTP packets, %d with the tone in clear", dir.who, rtp, plain)
		}
	}
}
