package phone

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/phone/sdp"
)

// ipv6Loopback skips when this machine has no IPv6 loopback.
func ipv6Loopback(t *testing.T) {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
}

// TestIPv6Call: two phones on ::1 call each other by sip:bob@[::1]:port;
// the SDP says IN IP6 and a tone is heard each way.
func TestIPv6Call(t *testing.T) {
	ipv6Loopback(t)
	aAudio := &toneAudio{hz: 1000}
	bAudio := &toneAudio{hz: 440}
	offers := make(chan []byte, 1)
	b := newTestPhone(t, Options{Listen: "[::1]:0", Audio: bAudio, Handler: HandlerFunc(func(in IncomingCall) Decision {
		offers <- in.SDP
		return Accept()
	})})
	a := newTestPhone(t, Options{Listen: "[::1]:0", Audio: aAudio})
	target := b.uri("bob")
	if !strings.Contains(target, "[::1]") {
		t.Fatalf("target %s", target)
	}
	id, err := a.Dial(context.Background(), target, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	offer := <-offers
	o, err := sdp.Parse(offer)
	if err != nil {
		t.Fatalf("offer: %v\n%s", err, offer)
	}
	if !strings.Contains(string(offer), "c=IN IP6 ::1") || o.Port == 0 {
		t.Errorf("offer is not IPv6:\n%s", offer)
	}
	bAudio.after(0, 12000)
	aAudio.after(0, 12000)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateTerminated, wait)
	assertTone(t, "callee hears caller over IPv6", bAudio.received(), 1000)
	assertTone(t, "caller hears callee over IPv6", aAudio.received(), 440)
}

// TestDualStack: one phone listening on "[::]" calls a phone on 127.0.0.1
// and one on ::1, and is called by each. Every description it writes is of
// the peer's family (c=IN IP4 127.0.0.1 to the IPv4 peer, c=IN IP6 ::1 to
// the IPv6 one), its Contact too, and audio flows both ways on every call.
func TestDualStack(t *testing.T) {
	ipv6Loopback(t)
	sdps := make(chan []byte, 4)
	hAudio := &toneAudio{hz: 1000}
	h := newTestPhone(t, Options{Listen: "[::]:0", Audio: hAudio, Handler: HandlerFunc(func(in IncomingCall) Decision { return Accept() })})
	for _, tc := range []struct {
		name, listen, family, addr string
	}{
		{"IPv4 peer", "127.0.0.1:0", "IP4", "127.0.0.1"},
		{"IPv6 peer", "[::1]:0", "IP6", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pAudio := &toneAudio{hz: 440}
			peer := newTestPhone(t, Options{Listen: tc.listen, Audio: pAudio, Handler: HandlerFunc(func(in IncomingCall) Decision {
				sdps <- in.SDP
				return Accept()
			})})
			// The dual-stack phone calls the peer: its offer is of the peer's family.
			id, err := h.Dial(context.Background(), peer.uri("peer"), DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			h.waitCall(id, StateActive, wait)
			offer := <-sdps
			if want := "c=IN " + tc.family + " " + tc.addr + "\r\n"; !strings.Contains(string(offer), want) {
				t.Errorf("offer to the %s lacks %q:\n%s", tc.name, want, offer)
			}
			pAudio.after(0, 8000)
			if err := h.Hangup(id); err != nil {
				t.Fatal(err)
			}
			h.waitCall(id, StateTerminated, wait)
			assertTone(t, tc.name+" hears the dual-stack phone", pAudio.received(), 1000)

			// The peer calls the dual-stack phone at its address of the
			// peer's family: the answer and the Contact are of that family.
			_, port, _ := net.SplitHostPort(h.LocalAddr())
			target := "sip:h@" + net.JoinHostPort(tc.addr, port)
			pid, err := peer.Dial(context.Background(), target, DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			act := peer.waitCall(pid, StateActive, wait)
			var in SessionID
			h.waitFor(wait, func(ev Event) bool {
				ce, ok := ev.(CallEvent)
				if ok && ce.SIPCallID == act.SIPCallID && ce.State == StateActive {
					in = ce.Session
				}
				return in != ""
			})
			c, err := h.lookup(in)
			if err != nil {
				t.Fatal(err)
			}
			c.media.mu.Lock()
			local := c.media.local.Addr
			c.media.mu.Unlock()
			if local != tc.addr {
				t.Errorf("answer to the %s gives c= %s, want %s", tc.name, local, tc.addr)
			}
			if ct := c.contact(); strings.Trim(ct.Address.Host, "[]") != tc.addr {
				t.Errorf("Contact to the %s: %s, want host %s", tc.name, ct.Address.String(), tc.addr)
			}
			mark := len(pAudio.received())
			pAudio.after(mark, 8000)
			if err := peer.Hangup(pid); err != nil {
				t.Fatal(err)
			}
			peer.waitCall(pid, StateTerminated, wait)
			assertTone(t, tc.name+" hears the dual-stack phone (called)", pAudio.received()[mark:], 1000)
		})
	}
}
