package phone

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
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
