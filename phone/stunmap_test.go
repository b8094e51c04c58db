package phone

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	pion "github.com/pion/stun/v3"

	"github.com/teaphone/teaphone/phone/locator"
	"github.com/teaphone/teaphone/phone/stun/stuntest"
)

// stunResponder answers Binding requests on 127.0.0.1 with a fixed mapped
// address (mute: not at all).
func stunResponder(t *testing.T, mapped netip.AddrPort, mute bool) *stuntest.Server {
	return stuntest.Start(t, func(_ int, req *pion.Message, _ *net.UDPAddr) []byte {
		if mute {
			return nil
		}
		return stuntest.Success(t, req, mapped)
	})
}

// TestSTUNMapDecides: the public address is asked for only when a server
// is configured, our own address is private and the peer is not; a server
// that never answers leaves the local address, within the bound.
func TestSTUNMapDecides(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.50:40002")
	answering := stunResponder(t, public, false)
	silent := stunResponder(t, public, true)
	loc, err := locator.New()
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	for _, tc := range []struct {
		name   string
		server string
		host   net.IP
		peer   string
		want   bool
		asks   bool
	}{
		{name: "no server", host: net.IPv4(10, 0, 0, 2), peer: "203.0.113.9"},
		{name: "public peer", server: answering.Addr().String(), host: net.IPv4(10, 0, 0, 2), peer: "203.0.113.9", want: true, asks: true},
		{name: "peer by name", server: answering.Addr().String(), host: net.IPv4(192, 168, 1, 20), want: true, asks: true},
		{name: "peer on the LAN", server: answering.Addr().String(), host: net.IPv4(10, 0, 0, 2), peer: "10.0.0.1"},
		{name: "we are public", server: answering.Addr().String(), host: net.IPv4(198, 51, 100, 7), peer: "203.0.113.9"},
		{name: "server silent", server: silent.Addr().String(), host: net.IPv4(10, 0, 0, 2), peer: "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Phone{
				opts:   Options{NAT: NATOptions{STUNServer: tc.server}},
				hostIP: tc.host, loc: loc, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			var peer netip.Addr
			if tc.peer != "" {
				peer = netip.MustParseAddr(tc.peer)
			}
			before := answering.Seen()
			start := time.Now()
			got, ok := p.stunMap(context.Background(), rtp, peer)
			if ok != tc.want || (ok && got != public) {
				t.Fatalf("stunMap = %v, %v; want %v (%v)", got, ok, tc.want, public)
			}
			if a := answering.Seen() > before; a != tc.asks {
				t.Errorf("STUN server asked: %v, want %v", a, tc.asks)
			}
			if d := time.Since(start); d > stunTimeout+time.Second {
				t.Errorf("stunMap took %v, bound %v", d, stunTimeout)
			}
		})
	}
}
