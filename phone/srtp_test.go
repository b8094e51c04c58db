package phone

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone/sdp"
)

// TestSRTPPolicies is the table of caller and callee policies: which calls
// are encrypted (both sides agree on the suite, the event says so, audio
// flows both ways), which are plain, and which fail with 488.
func TestSRTPPolicies(t *testing.T) {
	const cm80 = "AES_CM_128_HMAC_SHA1_80"
	for _, tc := range []struct {
		caller, callee Encryption
		suite          string // "" plain
		fail           bool   // 488
	}{
		{EncryptionNone, EncryptionNone, "", false},
		{EncryptionSRTPOptional, EncryptionNone, "", false},
		{EncryptionNone, EncryptionSRTPOptional, "", false},
		{EncryptionSRTPOptional, EncryptionSRTPOptional, cm80, false},
		{EncryptionSRTPMandatory, EncryptionSRTPOptional, cm80, false},
		{EncryptionSRTPOptional, EncryptionSRTPMandatory, cm80, false},
		{EncryptionSRTPMandatory, EncryptionSRTPMandatory, cm80, false},
		{EncryptionSRTPMandatory, EncryptionNone, "", true},
		{EncryptionNone, EncryptionSRTPMandatory, "", true},
	} {
		t.Run(string(tc.caller)+"→"+string(tc.callee), func(t *testing.T) {
			aAudio, bAudio := &toneAudio{hz: 1000}, &toneAudio{hz: 440}
			h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
			logs := &lockedBuffer{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			a := newTestPhone(t, Options{Audio: aAudio, Encryption: tc.caller, Logger: log})
			b := newTestPhone(t, Options{Audio: bAudio, Handler: h, Encryption: tc.callee, Logger: log})
			id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.fail {
				ev := a.waitCall(id, StateFailed, wait)
				if ev.Code != 488 || (tc.caller == EncryptionSRTPMandatory) != strings.Contains(ev.Reason, "refused SRTP") {
					t.Fatalf("caller = %+v", ev)
				}
				return
			}
			ic := h.next(t, a)
			ea := a.waitCall(id, StateActive, wait)
			eb := b.waitCall(ic.Session, StateActive, wait)
			if ea.SRTP != tc.suite || eb.SRTP != tc.suite {
				t.Fatalf("SRTP caller %q callee %q, want %q", ea.SRTP, eb.SRTP, tc.suite)
			}
			bAudio.after(0, 8000)
			aAudio.after(0, 8000)
			st, err := a.Stats(id)
			if err != nil || st.SRTP != tc.suite || st.DroppedSRTP != 0 {
				t.Errorf("caller stats %+v %v", st, err)
			}
			_ = a.Hangup(id)
			b.waitCall(ic.Session, StateTerminated, wait)
			assertTone(t, "callee hears caller", bAudio.received(), 1000)
			assertTone(t, "caller hears callee", aAudio.received(), 440)
			out := logs.String()
			if tc.suite != "" && !strings.Contains(out, "srtp: "+tc.suite) {
				t.Errorf("no \"srtp: %s\" in the log", tc.suite)
			}
			if strings.Contains(out, "inline:") {
				t.Errorf("a key reached the log")
			}
		})
	}
}

// TestSRTPHoldResume: hold and resume re-INVITEs keep the keys; audio
// flows again after resume with nothing dropped.
func TestSRTPHoldResume(t *testing.T) {
	aAudio, bAudio := &toneAudio{hz: 1000}, &toneAudio{hz: 440}
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: aAudio, Encryption: EncryptionSRTPOptional})
	b := newTestPhone(t, Options{Audio: bAudio, Handler: h, Encryption: EncryptionSRTPMandatory})
	ida, idb := connect(t, a, b, h)
	for _, holder := range []string{"caller", "callee"} {
		p, id := a, ida
		if holder == "callee" {
			p, id = b, idb
		}
		if err := p.Hold(id); err != nil {
			t.Fatal(err)
		}
		p.waitFlags(id, true, false)
		time.Sleep(200 * time.Millisecond)
		if err := p.Resume(id); err != nil {
			t.Fatal(err)
		}
		ev := p.waitFlags(id, false, false)
		if ev.SRTP != "AES_CM_128_HMAC_SHA1_80" {
			t.Fatalf("%s resumed: %+v", holder, ev)
		}
		from := len(bAudio.received())
		assertTone(t, holder+" resumed: callee hears caller", bAudio.after(from, 8000), 1000)
		from = len(aAudio.received())
		assertTone(t, holder+" resumed: caller hears callee", aAudio.after(from, 8000), 440)
	}
	for _, s := range []struct {
		p  *testPhone
		id SessionID
	}{{a, ida}, {b, idb}} {
		st, err := s.p.Stats(s.id)
		if err != nil || st.SRTP == "" || st.DroppedSRTP != 0 {
			t.Errorf("stats %+v %v", st, err)
		}
	}
}

// TestRedactSDESKeys: the SIP trace shows a=crypto lines without keys.
func TestRedactSDESKeys(t *testing.T) {
	in := "v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20\r\n" +
		"a=crypto:2 AEAD_AES_128_GCM INLINE:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==\r\nm=audio"
	want := "v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|2^20\r\n" +
		"a=crypto:2 AEAD_AES_128_GCM INLINE:[redacted]\r\nm=audio"
	if got := string(redactSDESKeys([]byte(in))); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	plain := []byte("INVITE sip:x SIP/2.0\r\n")
	if got := redactSDESKeys(plain); &got[0] != &plain[0] {
		t.Errorf("a message without keys was copied")
	}
}

// offerWithKey is a peer's offer with one a=crypto line carrying key.
func offerWithKey(t *testing.T, profile string, key []byte) []byte {
	t.Helper()
	c := sdp.Crypto{Tag: 1, Suite: sdp.AESCM128SHA1x80, Key: key}
	return []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n" +
		"m=audio 4000 " + profile + " 0\r\na=crypto:" + c.String() + "\r\n")
}

// TestSRTPRekeyRules: RFC 4568 §7.1.4 as teaphone applies it — across
// re-offers our key stays, a changed key of the peer's is taken; an answer
// without a key fails a mandatory call with ErrSRTPRequired and makes an
// optional one plain.
func TestSRTPRekeyRules(t *testing.T) {
	m := &mediaState{local: sdp.Local{Addr: "192.0.2.1", Port: 5000}, localDir: sdp.SendRecv}
	m.initSRTP(EncryptionSRTPOptional)
	k1 := bytes.Repeat([]byte{1}, 30)
	k2 := bytes.Repeat([]byte{2}, 30)
	if _, err := m.answer(offerWithKey(t, "RTP/AVP", k1)); err != nil {
		t.Fatal(err)
	}
	first := m.keys
	if first.Suite != sdp.AESCM128SHA1x80 || !bytes.Equal(first.Remote, k1) || len(first.Local) != 30 {
		t.Fatalf("keys after the first offer: %s", first.Suite)
	}
	if _, err := m.answer(offerWithKey(t, "RTP/SAVP", k2)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.keys.Remote, k2) || !bytes.Equal(m.keys.Local, first.Local) {
		t.Fatalf("re-offer: the peer's new key must be taken and ours kept")
	}
	// Our offer, answered without a key.
	plainAnswer := []byte("v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
	if _, err := m.offer(); err != nil {
		t.Fatal(err)
	}
	if err := m.applyAnswer(plainAnswer); err != nil || m.keys.Suite != "" {
		t.Fatalf("optional, plain answer: %v, suite %q", err, m.keys.Suite)
	}
	mand := &mediaState{local: sdp.Local{Addr: "192.0.2.1", Port: 5000}, localDir: sdp.SendRecv}
	mand.initSRTP(EncryptionSRTPMandatory)
	if _, err := mand.offer(); err != nil {
		t.Fatal(err)
	}
	if err := mand.applyAnswer(plainAnswer); !errors.Is(err, ErrSRTPRequired) {
		t.Fatalf("mandatory, plain answer: %v", err)
	}
}

// TestSRTPKeyParams: what the stream is given for offers whose a=crypto
// carries a lifetime and an MKI (RFC 4568 §6.1): the peer's MKI goes to the
// media engine with its key, and a re-offer that changes only the MKI
// changes it; a mandatory call offered only a line with a session
// parameter we cannot honour (§6.3) is refused with ErrNoCrypto (488).
func TestSRTPKeyParams(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, 30)
	line := func(params string) []byte {
		return []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n" +
			"m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
			base64.StdEncoding.EncodeToString(k1) + params + "\r\n")
	}
	m := &mediaState{local: sdp.Local{Addr: "192.0.2.1", Port: 5000}, localDir: sdp.SendRecv}
	m.initSRTP(EncryptionSRTPMandatory)
	if _, err := m.answer(line("|2^31|1:4")); err != nil {
		t.Fatal(err)
	}
	if k := m.mediaKeysLocked(); k.Suite != string(sdp.AESCM128SHA1x80) || !bytes.Equal(k.Remote, k1) || !bytes.Equal(k.RemoteMKI, []byte{0, 0, 0, 1}) {
		t.Fatalf("media keys %s MKI %x", k.Suite, k.RemoteMKI)
	}
	if _, err := m.answer(line("|2^31|2:4")); err != nil {
		t.Fatal(err)
	}
	if k := m.mediaKeysLocked(); !bytes.Equal(k.RemoteMKI, []byte{0, 0, 0, 2}) {
		t.Fatalf("re-offer with another MKI: media MKI %x", k.RemoteMKI)
	}
	for _, params := range []string{" KDR=1", " UNENCRYPTED_SRTP", " FUTURE_PARAM", "|1:4;inline:" + base64.StdEncoding.EncodeToString(k1) + "|2:4"} {
		fresh := &mediaState{local: sdp.Local{Addr: "192.0.2.1", Port: 5000}, localDir: sdp.SendRecv}
		fresh.initSRTP(EncryptionSRTPMandatory)
		if _, err := fresh.answer(line(params)); !errors.Is(err, sdp.ErrNoCrypto) {
			t.Errorf("mandatory, only a line with %q: %v, want ErrNoCrypto", params, err)
		}
	}
}
