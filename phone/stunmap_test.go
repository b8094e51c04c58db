package phone

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	pion "github.com/pion/stun/v3"

	"github.com/teaphone/teaphone/phone/locator"
)

// stunResponder answers Binding requests on 127.0.0.1 with a fixed mapped
// address (mute: not at all) and counts them.
func stunResponder(t *testing.T, mapped netip.AddrPort, mute bool) (netip.AddrPort, *atomic.Int32) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			k, src, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := &pion.Message{Raw: append([]byte(nil), buf[:k]...)}
			if req.Decode() != nil {
				continue
			}
			n.Add(1)
			if mute {
				continue
			}
			res, err := pion.Build(req, pion.BindingSuccess,
				&pion.XORMappedAddress{IP: mapped.Addr().AsSlice(), Port: int(mapped.Port())}, pion.Fingerprint)
			if err == nil {
				_, _ = conn.WriteToUDP(res.Raw, src)
			}
		}
	}()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort(), &n
}

// TestSTUNMapDecides: the public address is asked for only when a server
// is configured, our own address is private and the peer is not; a server
// that never answers leaves the local address, within the bound.
func TestSTUNMapDecides(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.50:40002")
	answering, asked := stunResponder(t, public, false)
	silent, _ := stunResponder(t, public, true)
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
		{name: "public peer", server: answering.String(), host: net.IPv4(10, 0, 0, 2), peer: "203.0.113.9", want: true, asks: true},
		{name: "peer by name", server: answering.String(), host: net.IPv4(192, 168, 1, 20), want: true, asks: true},
		{name: "peer on the LAN", server: answering.String(), host: net.IPv4(10, 0, 0, 2), peer: "10.0.0.1"},
		{name: "we are public", server: answering.String(), host: net.IPv4(198, 51, 100, 7), peer: "203.0.113.9"},
		{name: "server silent", server: silent.String(), host: net.IPv4(10, 0, 0, 2), peer: "203.0.113.9"},
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
			before := asked.Load()
			start := time.Now()
			got, ok := p.stunMap(context.Background(), rtp, peer)
			if ok != tc.want || (ok && got != public) {
				t.Fatalf("stunMap = %v, %v; want %v (%v)", got, ok, tc.want, public)
			}
			if a := asked.Load() > before; a != tc.asks {
				t.Errorf("STUN server asked: %v, want %v", a, tc.asks)
			}
			if d := time.Since(start); d > stunTimeout+time.Second {
				t.Errorf("stunMap took %v, bound %v", d, stunTimeout)
			}
		})
	}
}
