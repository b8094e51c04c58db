package interop

// A call encrypted end to end: TLS signalling (so the SDES keys travel
// encrypted, RFC 4568 §8.1 asks for it) and SRTP media at once, between
// teaphone and baresip 1.0 (its srtp module) through Kamailio's TLS.

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// TestTLSAndSRTPViaKamailio: teaphone (dave, registered over TLS) and
// baresip (alice, registered over TLS, ;mediaenc=srtp or srtp-mand) call
// each other through Kamailio's TLS listener. Every call must have both
// halves of the closed lock: teaphone's active event says transport TLS
// and an SRTP suite (what sessions.CallInfo and the UI's lock read), the
// INVITE went over TLS both ways, the media stats agree on the suite, the
// tones arrive both ways, and a capture on lo shows none of them in clear.
// An srtp-optional teaphone calling srtp-mand gets there through its
// RTP/SAVP retry after baresip's 488.
func TestTLSAndSRTPViaKamailio(t *testing.T) {
	peertest.NeedBaresip(t)
	ca := peertest.NewCA(t, "teaphone test CA")
	k := startTLSProxy(t, ca, peertest.CertSpec{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	for _, tc := range []struct {
		mediaenc string
		enc      phone.Encryption
	}{
		{"srtp", phone.EncryptionSRTPOptional},
		{"srtp-mand", phone.EncryptionSRTPMandatory},
		// teaphone's RTP/AVP offer is refused (488) and made again as
		// RTP/SAVP, through Kamailio's digest challenge each time.
		{"srtp-mand", phone.EncryptionSRTPOptional},
	} {
		t.Run(tc.mediaenc+" "+string(tc.enc), func(t *testing.T) {
			lo, err := peertest.FreePorts(40, 2)
			if err != nil {
				t.Fatal(err)
			}
			h := newCallHandler(phone.Accept())
			au := &sineAudio{hz: 1000}
			ph := startPhone(t, phone.Options{
				Accounts:   []phone.Account{daveTLSAccount(k, phone.Account{})},
				TLS:        phone.TLSOptions{RootCAs: ca.Pool()},
				Handler:    h,
				Audio:      au,
				Encryption: tc.enc,
				RTPPortMin: lo, RTPPortMax: lo + 39,
			})
			alice := peertest.StartBaresip(t, peertest.BaresipConfig{User: "alice", Registrar: k.TLSAddr(), Password: "alicepw",
				TLS: true, CAFile: ca.File, AudioSource: "ausine,440", MediaEnc: tc.mediaenc})
			ph.waitReg(0, phone.RegRegistered, waitLong)
			if reg := k.Log(); !strings.Contains(reg, "REQ REGISTER sip:127.0.0.1:"+strconv.Itoa(k.TLSPort)) {
				t.Errorf("baresip did not REGISTER over TLS:\n%s", reg)
			}
			for _, caller := range []string{"teaphone", "baresip"} {
				t.Run(caller+" calls", func(t *testing.T) {
					tlsSRTPCall(t, k, ph, alice, h, au, caller, tc.mediaenc, tc.enc, lo)
				})
			}
		})
	}
}

func tlsSRTPCall(t *testing.T, k *peertest.Kamailio, ph *testPhone, alice *peertest.Baresip, h *callHandler, au *sineAudio, caller, mediaenc string, enc phone.Encryption, lo int) {
	savp := mediaenc == "srtp-mand"
	retried := savp && enc == phone.EncryptionSRTPOptional && caller == "teaphone"
	const suite = "AES_CM_128_HMAC_SHA1_80"
	capture := startCapture(t, lo, lo+39)
	bm, pm, logStart, trace := alice.Mark(), ph.mark(), len(k.Log()), len(alice.Log())
	start := time.Now()
	var id phone.SessionID
	if caller == "teaphone" {
		var err error
		if id, err = ph.Dial(context.Background(), "sips:alice@"+k.TLSAddr(), phone.DialOptions{}); err != nil {
			t.Fatal(err)
		}
	} else {
		if err := alice.Dial("sip:dave@" + k.TLSAddr() + ";transport=tls"); err != nil {
			t.Fatal(err)
		}
		id = h.next(t, waitLong).Session
	}
	act := ph.waitCall(pm, id, phone.StateActive, waitLong)
	if _, err := alice.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
		t.Fatal(err)
	}
	t.Logf("active after %v: transport %q srtp %q codec %q", time.Since(start).Round(time.Millisecond), act.Transport, act.SRTP, act.Codec)
	// The two halves of the UI's closed lock (ui.securityMark).
	if act.Transport != "TLS" || act.SRTP != suite {
		t.Errorf("active event transport %q srtp %q, want TLS and %s", act.Transport, act.SRTP, suite)
	}
	klog := k.Log()[logStart:]
	if caller == "teaphone" && !regexp.MustCompile(`INVITE for alice -> sip:\S*transport=tls`).MatchString(klog) {
		t.Errorf("Kamailio did not relay the INVITE to alice's TLS contact:\n%s", klog)
	}
	if caller == "baresip" && !strings.Contains(klog, "INVITE for dave -> sips:") {
		t.Errorf("Kamailio did not relay the INVITE to dave's sips: Contact:\n%s", klog)
	}
	if !strings.Contains(klog, "(tls)") {
		t.Errorf("Kamailio saw no INVITE over TLS:\n%s", klog)
	}
	heard := len(au.received())
	time.Sleep(3 * time.Second) // the call's audio: inherent
	st, err := ph.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	// At most baresip's one clear RTCP APP packet fails SRTCP (see srtpCall).
	if st.SRTP != suite || st.DroppedSRTP > 1 {
		t.Errorf("stats srtp %q dropped %d, want %s and at most 1", st.SRTP, st.DroppedSRTP, suite)
	}
	if caller == "teaphone" {
		hangupAndWait(t, ph, alice, id, bm)
	} else {
		if err := alice.Hangup(); err != nil {
			t.Fatal(err)
		}
		if end := ph.waitFinal(pm, id, waitShort); end.State != phone.StateTerminated || end.Reason != "remote hangup" {
			t.Errorf("end event = %+v, want terminated by remote hangup", end)
		}
		if _, err := alice.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
			t.Fatal(err)
		}
	}
	checkTone(t, "baresip hears teaphone", readRecording(t, alice), 1000, 2)
	checkTone(t, "teaphone hears baresip", au.received()[heard:], 440, 2)
	pkts := capture.packets()
	for _, dir := range []struct {
		fromUs bool
		freq   float64
		who    string
	}{{true, 1000, "teaphone → baresip"}, {false, 440, "baresip → teaphone"}} {
		plain, rtp := plainTone(pkts, dir.fromUs, lo, lo+39, peerPort(t, st), dir.freq)
		t.Logf("capture %s: %d RTP packets, %d with the tone in clear", dir.who, rtp, plain)
		if rtp < 100 || plain > 0 {
			t.Errorf("capture %s: %d RTP packets, %d with the tone in clear; want ≥ 100 and none", dir.who, rtp, plain)
		}
	}
	// The keys went over TLS only: baresip's trace holds the SDP it got.
	log := alice.Log()[trace:]
	if !strings.Contains(log, "a=crypto:") {
		t.Errorf("no a=crypto in baresip's SIP trace")
	}
	if n := strings.Count(log, "SIP/2.0 488"); n != map[bool]int{false: 0, true: 1}[retried] {
		t.Errorf("baresip answered 488 %d times (the RTP/SAVP retry expected: %v)", n, retried)
	}
	if profile := map[bool]string{false: "RTP/AVP", true: "RTP/SAVP"}[savp]; !strings.Contains(log, "m=audio ") ||
		!regexp.MustCompile(`m=audio \d+ `+profile+` `).MatchString(log) {
		t.Errorf("no m=audio … %s in baresip's SIP trace", profile)
	}
	time.Sleep(1100 * time.Millisecond) // baresip names recordings by the second
}
