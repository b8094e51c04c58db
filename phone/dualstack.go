package phone

import (
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Dual stack: listening on "[::]:PORT" binds one socket per transport that
// takes IPv4 and IPv6 alike (IPV6_V6ONLY off, Go's "udp"/"tcp" networks on
// the IPv6 wildcard), and RTP sockets are bound the same way. What we
// advertise then depends on the peer: an IPv4 peer must see an IPv4
// Contact and c= line, an IPv6 peer IPv6 ones (RFC 3264 §5: the c= address
// is where the peer sends). The Via's sent-by stays the default address:
// responses follow received and rport (RFC 3581), which the peer adds when
// the source differs.

// hostFor is the address we advertise to a peer at addr: the listening
// address when bound to one address; when bound to both families'
// wildcard, the address the kernel would send from to that peer, found by
// a route lookup through a connected UDP socket (nothing is sent). An
// unknown peer (a name not yet resolved) gets the default address.
func (p *Phone) hostFor(peer netip.Addr) net.IP {
	if !p.dualStack || !peer.IsValid() {
		return p.hostIP
	}
	peer = peer.Unmap()
	network := "udp4"
	if peer.Is6() {
		network = "udp6"
	}
	c, err := net.DialUDP(network, nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, 9)))
	if err != nil {
		return p.hostIP
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP
}

// useHost makes the call advertise host: its Contact and its SDP address
// (and ICE host candidate). Dial and the INVITE handler call it before the
// first description is written.
func (c *call) useHost(host net.IP) {
	c.mu.Lock()
	c.host = host
	c.mu.Unlock()
	c.media.useHost(host)
}

// contact is the call's Contact: the account's, at the call's address.
func (c *call) contact() sip.ContactHeader {
	c.mu.Lock()
	host, user, own := c.host, c.contactUser, c.ownContactUser
	c.mu.Unlock()
	ct := c.p.contactAt(c.acct, c.transport, host)
	if own {
		ct.Address.User = user
	}
	return ct
}

func (m *mediaState) useHost(host net.IP) {
	a, ok := netip.AddrFromSlice(host)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.local.Addr = a.Unmap().String()
	if m.local.ICE != nil {
		m.local.ICE.Host = netip.AddrPortFrom(a.Unmap(), uint16(m.local.Port))
	}
}

// hostAddr is the address of a SIP host part, invalid when it is a name.
func hostAddr(host string) netip.Addr {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// sourceAddr is the address a request came from, invalid if unknown.
func sourceAddr(source string) netip.Addr {
	ap, err := netip.ParseAddrPort(source)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
