package interop

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// TestICEWithBaresip: baresip with its ice module (medianat=ice) is a full
// ICE agent. It sends no audio at all to a peer without ICE (seen with
// baresip 1.0: "ICE not supported by peer", then silence both ways), so
// teaphone is an ICE-lite agent (RFC 8445 §2.5): its SDP carries
// a=ice-lite, credentials and candidates, and it answers baresip's
// connectivity checks. Calls both ways: baresip's checks complete and each
// side hears the other's tone. baresip's default candidate is its first
// interface's address, not 127.0.0.1, which teaphone reaches through the
// nominated pair.
func TestICEWithBaresip(t *testing.T) {
	peertest.NeedBaresip(t)
	h := newCallHandler(phone.Accept())
	au := &sineAudio{hz: 1000}
	ph := startPhone(t, phone.Options{Handler: h, Audio: au, ICE: true})
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440", MediaNAT: "ice"})

	t.Run("baresip calls", func(t *testing.T) {
		bm, pm := bob.Mark(), ph.mark()
		if err := bob.Dial(ph.uri("bob")); err != nil {
			t.Fatal(err)
		}
		ic := h.next(t, waitShort)
		ph.waitCall(pm, ic.Session, phone.StateActive, waitShort)
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(bob.Log(), "a=candidate:") {
			t.Fatalf("baresip offered no ICE candidates: the test proves nothing\n%s", ctlTail(bob.Log(), 3000))
		}
		waitICE(t, bob, 1)
		time.Sleep(3 * time.Second) // the call's audio: inherent
		if err := bob.Hangup(); err != nil {
			t.Fatal(err)
		}
		ph.waitFinal(pm, ic.Session, waitShort)
		checkTone(t, "teaphone hears baresip (ICE offer)", au.received(), 440, 2)
		checkTone(t, "baresip hears teaphone (ICE offer)", readRecording(t, bob), 1000, 2)
	})
	t.Run("teaphone calls", func(t *testing.T) {
		from := len(au.received())
		bm, pm := bob.Mark(), ph.mark()
		id, err := ph.Dial(context.Background(), bob.URI(), phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ph.waitCall(pm, id, phone.StateActive, waitShort)
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		waitICE(t, bob, 2)
		time.Sleep(3 * time.Second) // the call's audio: inherent
		hangupAndWait(t, ph, bob, id, bm)
		checkTone(t, "teaphone hears baresip (ICE answer)", au.received()[from:], 440, 2)
		checkTone(t, "baresip hears teaphone (ICE answer)", readRecording(t, bob), 1000, 2)
	})
}

// waitICE waits until baresip's log reports n completed ICE checks.
func waitICE(t *testing.T, b *peertest.Baresip, n int) {
	t.Helper()
	if !waitUntil(waitShort, func() bool { return strings.Count(b.Log(), "connectivity check is complete") >= n }) {
		t.Fatalf("baresip's ICE checks never completed (call %d):\n%s", n, ctlTail(b.Log(), 4000))
	}
}
