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
