package interop

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// needIPv6Loopback skips when the machine has no ::1.
func needIPv6Loopback(t *testing.T) {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
}

// TestIPv6CallsWithBaresip: teaphone and baresip, both on ::1 only, call
// each other (sip:bob@[::1]:PORT, sip:dave@[::1]:PORT). Both SDPs say
// c=IN IP6 ::1, every SIP message of baresip's trace went over IPv6, and a
// tone arrives each way (analysed in baresip's recording and in what
// teaphone received).
func TestIPv6CallsWithBaresip(t *testing.T) {
	peertest.NeedBaresip(t)
	needIPv6Loopback(t)
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440", Addr: netip.IPv6Loopback()})
	if !strings.Contains(bob.URI(), "@[::1]:") {
		t.Fatalf("baresip URI %s", bob.URI())
	}
	au := &sineAudio{hz: 1000}
	h := newCallHandler(phone.Accept())
	ph := startPhone(t, phone.Options{Listen: "[::1]:0", Audio: au, Handler: h})
	for _, caller := range []string{"teaphone", "baresip"} {
		t.Run(caller+" calls", func(t *testing.T) {
			bm, pm, trace, heard := bob.Mark(), ph.mark(), len(bob.Log()), len(au.received())
			var id phone.SessionID
			if caller == "teaphone" {
				var err error
				if id, err = ph.Dial(context.Background(), bob.URI(), phone.DialOptions{}); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := bob.Dial("sip:dave@" + ph.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				id = h.next(t, waitShort).Session
			}
			ph.waitCall(pm, id, phone.StateActive, waitShort)
			if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second) // the call's audio: inherent
			hangupAndWait(t, ph, bob, id, bm)

			msgs := ctlTrace(bob.Log(), trace)
			var sdps int
			for _, m := range msgs {
				if !strings.HasPrefix(m.Src, "[::1]:") || !strings.HasPrefix(m.Dst, "[::1]:") {
					t.Errorf("SIP over %s -> %s: %s", m.Src, m.Dst, m.Start)
				}
				if b := m.body(); strings.Contains(b, "m=audio") {
					sdps++
					if !strings.Contains(b, "c=IN IP6 ::1") || strings.Contains(b, "IP4") {
						t.Errorf("%s with an SDP that is not IPv6 only:\n%s", m.Start, b)
					}
				}
			}
			if sdps < 2 {
				t.Errorf("%d SDP bodies in baresip's trace, want the offer and the answer", sdps)
			}
			checkTone(t, "baresip hears teaphone over IPv6", readRecording(t, bob), 1000, 2)
			checkTone(t, "teaphone hears baresip over IPv6", au.received()[heard:], 440, 2)
			time.Sleep(1100 * time.Millisecond) // baresip names recordings by the second
		})
	}
}
