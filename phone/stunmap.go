package phone

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"time"

	"github.com/teaphone/teaphone/phone/media"
	"github.com/teaphone/teaphone/phone/stun"
)

// STUN for media, the way baresip's stun module and pjsua's stun_srv do it:
// before a call's SDP is written, its RTP socket asks the STUN server from
// which public address and port it is seen, and the SDP gives that address,
// so a far end on the Internet sends its audio to the NAT's binding of our
// socket instead of to a private address. The binding stays open because
// we send RTP from that very socket for the whole call.

// Bounds of a call's STUN exchange: it delays the INVITE or the answer, so
// it is short; on no answer the SDP keeps the local address.
const (
	stunTimeout = 1500 * time.Millisecond
	stunRTO     = 250 * time.Millisecond
)

// stunMap returns the public address of rtp when the SDP should carry it:
// nat.stun_server is set, our own address is private, and peer (the
// signalling peer's address; invalid when it is a name) is not private.
// Any failure is logged and leaves the local address in use.
func (p *Phone) stunMap(ctx context.Context, rtp *net.UDPConn, peer netip.Addr) (netip.AddrPort, bool) {
	server := p.opts.NAT.STUNServer
	if server == "" {
		return netip.AddrPort{}, false
	}
	local, ok := netip.AddrFromSlice(p.hostIP)
	if !ok || !privateAddr(local.Unmap()) || (peer.IsValid() && privateAddr(peer.Unmap())) {
		return netip.AddrPort{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, stunTimeout)
	defer cancel()
	addr, err := p.stunServer(ctx, server, local.Unmap().Is4())
	if err == nil {
		var public netip.AddrPort
		public, err = stun.Bind(ctx, rtp, addr, stunRTO)
		if err == nil {
			p.log.Debug("stun: public media address", "server", addr, "local", rtp.LocalAddr(), "public", public)
			return public, true
		}
	}
	p.log.Warn("stun: no public media address, the SDP gives the local one", "server", server, "err", err)
	return netip.AddrPort{}, false
}

// stunServer resolves the configured server to an address of our family.
func (p *Phone) stunServer(ctx context.Context, server string, v4 bool) (netip.AddrPort, error) {
	host, port, err := stun.SplitServer(server)
	if err != nil {
		return netip.AddrPort{}, err
	}
	network := "ip6"
	if v4 {
		network = "ip4"
	}
	addrs, err := p.loc.LookupAddr(ctx, network, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addrs[0], uint16(port)), nil
}

// usePublic makes the call's SDP carry public as its RTP address and port.
func (m *mediaState) usePublic(public netip.AddrPort) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.local.Addr = public.Addr().String()
	m.local.Port = int(public.Port())
}

// newICECredentials makes a call's ICE username fragment and password
// (RFC 8839 §5.4: at least 24 and 128 bits of randomness, in ice-chars).
func newICECredentials() media.ICECredentials {
	return media.ICECredentials{Ufrag: iceString(8), Pwd: iceString(24)}
}

// iceString is n random ice-chars (6 bits each, from crypto/rand, which
// does not fail on Linux).
func iceString(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[b[i]&63]
	}
	return string(b)
}
