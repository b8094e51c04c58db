package interop

// Issue 3: media interop with baresip. Tones both ways (checked in baresip's
// recording and in teaphone's sink), RFC 4733 DTMF both ways, and a
// PCMA-only peer.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio/wav"
	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// checkTone checks that samples (8 kHz mono) carry freq: energy share >= 0.5
// (a clean tone measures 1.00), enough 20 ms frames above -40 dBFS, and a
// dominant frequency within 2 % of freq. minSeconds is how much active audio must be there.
func checkTone(t *testing.T, who string, samples []int16, freq, minSeconds float64) {
	t.Helper()
	checkToneAt(t, who, samples, 8000, freq, minSeconds)
}

// readRecording reads baresip's newest received-audio recording after the
// call closed.
func readRecording(t *testing.T, b *peertest.Baresip) []int16 {
	t.Helper()
	samples, rate, ch := latestRecording(t, b)
	if rate != 8000 || ch != 1 {
		t.Fatalf("baresip's recording: %d Hz %d channels, want 8000 Hz mono", rate, ch)
	}
	return samples
}

// latestRecording reads baresip's newest received-audio recording as it
// is: interleaved samples, rate, channels.
func latestRecording(t *testing.T, b *peertest.Baresip) ([]int16, int, int) {
	t.Helper()
	path, err := b.LatestRecording("dec")
	if err != nil {
		t.Fatal(err)
	}
	samples, rate, ch, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return samples, rate, ch
}

// dialBaresip calls b from ph and waits until both sides are established.
func dialBaresip(t *testing.T, ph *testPhone, b *peertest.Baresip) (phone.SessionID, phone.CallEvent, int) {
	t.Helper()
	return dialBaresipAt(t, ph, b, b.URI(), waitShort)
}

// dialBaresipAt calls uri (b, directly or through a proxy) from ph and
// waits up to d until both sides are established.
func dialBaresipAt(t *testing.T, ph *testPhone, b *peertest.Baresip, uri string, d time.Duration) (phone.SessionID, phone.CallEvent, int) {
	t.Helper()
	bm, pm := b.Mark(), ph.mark()
	id, err := ph.Dial(context.Background(), uri, phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	act := ph.waitCall(pm, id, phone.StateActive, d)
	if _, err := b.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
		t.Fatal(err)
	}
	return id, act, bm
}

// hangupAndWait hangs up id and waits for teaphone's terminated event and
// baresip's CALL_CLOSED.
func hangupAndWait(t *testing.T, ph *testPhone, b *peertest.Baresip, id phone.SessionID, bm int) {
	t.Helper()
	pm := ph.mark()
	if err := ph.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if end := ph.waitFinal(pm, id, waitShort); end.State != phone.StateTerminated {
		t.Errorf("end event = %+v, want terminated", end)
	}
	if _, err := b.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
		t.Fatal(err)
	}
}

// TestToneBothWays: teaphone sends 1000 Hz to baresip (ausine 440 Hz) for
// about 3 s; baresip's recording holds 1000 Hz, teaphone's sink 440 Hz.
func TestToneBothWays(t *testing.T) {
	peertest.NeedBaresip(t)
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
	au := &sineAudio{hz: 1000}
	ph := startPhone(t, phone.Options{Audio: au})
	id, act, bm := dialBaresip(t, ph, bob)
	if act.Codec != "PCMU" {
		t.Errorf("codec %q, want PCMU", act.Codec)
	}
	time.Sleep(3 * time.Second) // the call's audio: inherent
	st, err := ph.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("teaphone stats: %+v", st)
	if st.RxPackets < 100 || st.TxPackets < 100 || st.LossPct > 5 {
		t.Errorf("stats after 3 s = %+v: want >= 100 packets each way, < 5 %% loss", st)
	}
	hangupAndWait(t, ph, bob, id, bm)
	checkTone(t, "baresip hears teaphone", readRecording(t, bob), 1000, 2)
	checkTone(t, "teaphone hears baresip", au.received(), 440, 2)
}

// TestDTMFBothWays: RFC 4733 on baresip's telephone-event PT (101) from
// teaphone to baresip and back.
func TestDTMFBothWays(t *testing.T) {
	peertest.NeedBaresip(t)
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
	ph := startPhone(t, phone.Options{Audio: &sineAudio{hz: 1000}})
	id, _, bm := dialBaresip(t, ph, bob)
	if !strings.Contains(bob.Log(), "a=rtpmap:101 telephone-event/8000") {
		t.Errorf("baresip's SDP has no telephone-event on PT 101")
	}
	time.Sleep(time.Second) // baresip DTMF 1-2 s after CALL_ESTABLISHED is known to work; sooner was never tried

	t.Run("teaphone to baresip", func(t *testing.T) {
		start := time.Now()
		if err := ph.SendDTMF(id, "123#"); err != nil {
			t.Fatal(err)
		}
		var got string
		if !waitUntil(waitShort, func() bool { got = bob.DTMFReceived(bm); return len(got) >= 4 }) || got != "123#" {
			t.Fatalf("baresip received DTMF %q, want \"123#\"; events: %v", got, bob.Events(bm))
		}
		t.Logf("baresip got %q after %v", got, time.Since(start).Round(time.Millisecond))
		var sent, methods []string
		waitUntil(waitShort, func() bool { return len(ph.digits(id, false)) >= 4 })
		for _, d := range ph.digits(id, false) {
			sent = append(sent, string(d.Digit))
			methods = append(methods, d.Method)
		}
		if strings.Join(sent, "") != "123#" || strings.Join(methods, ",") != "rfc4733,rfc4733,rfc4733,rfc4733" {
			t.Errorf("teaphone sent-DTMF events %v by %v, want 123# by rfc4733", sent, methods)
		}
	})
	t.Run("baresip to teaphone", func(t *testing.T) {
		start := time.Now()
		if err := bob.SendDTMF("123#"); err != nil {
			t.Fatal(err)
		}
		var got []phone.DTMFEvent
		waitUntil(waitShort, func() bool { got = ph.digits(id, true); return len(got) >= 4 })
		var digits string
		for _, d := range got {
			digits += string(d.Digit)
			if d.Method != "rfc4733" {
				t.Errorf("digit %c received by %q, want rfc4733", d.Digit, d.Method)
			}
		}
		if digits != "123#" {
			t.Fatalf("teaphone received DTMF %q, want \"123#\"", digits)
		}
		t.Logf("teaphone got %q after %v", digits, time.Since(start).Round(time.Millisecond))
	})
	hangupAndWait(t, ph, bob, id, bm)
}

// TestPCMAOnly: baresip offers and accepts PCMA only; the call uses PCMA and
// the tone arrives both ways.
func TestPCMAOnly(t *testing.T) {
	peertest.NeedBaresip(t)
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", Codecs: "pcma", AudioSource: "ausine,440"})
	au := &sineAudio{hz: 1000}
	ph := startPhone(t, phone.Options{Audio: au})
	id, act, bm := dialBaresip(t, ph, bob)
	if act.Codec != "PCMA" {
		t.Errorf("active event codec %q, want PCMA", act.Codec)
	}
	dbg, err := bob.AudioDebug()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dbg, "encode: PCMA") {
		t.Errorf("baresip does not encode PCMA:\n%s", dbg)
	}
	time.Sleep(2 * time.Second) // the call's audio: inherent
	st, err := ph.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Codec != "PCMA" || st.RxPackets < 50 {
		t.Errorf("stats = %+v, want PCMA and >= 50 packets received", st)
	}
	hangupAndWait(t, ph, bob, id, bm)
	checkTone(t, "baresip hears teaphone (PCMA)", readRecording(t, bob), 1000, 1.2)
	checkTone(t, "teaphone hears baresip (PCMA)", au.received(), 440, 1.2)
}
