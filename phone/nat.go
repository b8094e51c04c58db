package phone

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// NAT traversal as pjsua does it (its allow_contact_rewrite): the top Via of
// a REGISTER's 2xx tells us the address the registrar saw our request come
// from; when that is not our Contact's, a NAT is in between and the
// registrar could not reach the Contact we registered, so we register the
// public address instead (see registrationLoop).

// natRewrite decides, from the top Via of a REGISTER's 2xx, whether the
// Contact we registered (contact) must become the address the registrar saw:
// the Via's received (else its sent-by host) and rport (else its sent-by
// port), RFC 3581 §4. server is where the response came from. It reports
// the public address and true when the Contact must change; an error when
// the Via carries a received or rport that cannot be an address, which is
// then not used.
//
// As pjsua does, the Contact is kept when the registrar reports a private
// address while both the Contact and the registrar are public (a NAT in
// the middle rewrote the request), or only another port with the same
// private address (a local registrar, no NAT). Over TCP the source port is
// the connection's, not a listener's (RFC 3261 §18.1.1): only another host
// asks for a new Contact, which then names the connection's public end, the
// way a registrar behind NAT reaches us (over that connection).
func natRewrite(contact netip.AddrPort, transport string, via *sip.ViaHeader, server netip.Addr) (netip.AddrPort, bool, error) {
	public, err := viaSeen(via, transport)
	if err != nil || !public.IsValid() {
		return netip.AddrPort{}, false, err
	}
	ours := netip.AddrPortFrom(contact.Addr().Unmap(), contact.Port())
	sameHost := public.Addr() == ours.Addr()
	switch {
	case public == ours:
		return netip.AddrPort{}, false, nil
	case !strings.EqualFold(transport, "UDP") && sameHost: // TCP or TLS
		return netip.AddrPort{}, false, nil
	case !privateAddr(ours.Addr()) && server.IsValid() && !privateAddr(server.Unmap()) && privateAddr(public.Addr()):
		return netip.AddrPort{}, false, nil
	case sameHost && privateAddr(public.Addr()):
		return netip.AddrPort{}, false, nil
	}
	return public, true, nil
}

// viaSeen returns the address a request was seen coming from, as the top
// Via of its response tells it (RFC 3581 §4): received (else the sent-by
// host) and rport (else the sent-by port, else the transport's default).
// It is invalid when the Via says nothing usable (no Via, a sent-by name
// without received), and an error when received or rport cannot be an
// address.
func viaSeen(via *sip.ViaHeader, transport string) (netip.AddrPort, error) {
	if via == nil {
		return netip.AddrPort{}, nil
	}
	host, port := via.Host, via.Port
	if port == 0 {
		port = int(sip.DefaultPort(transport))
	}
	if v, ok := via.Params.Get("received"); ok {
		host = v
	}
	seen, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		if _, ok := via.Params.Get("received"); ok {
			return netip.AddrPort{}, fmt.Errorf("via received %q is not an IP address", host)
		}
		return netip.AddrPort{}, nil // a sent-by name without received: nothing learnt
	}
	if v, ok := via.Params.Get("rport"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return netip.AddrPort{}, fmt.Errorf("via rport %q is not a port number", v)
		}
		port = n
	}
	return netip.AddrPortFrom(seen.Unmap(), uint16(port)), nil
}

// privateAddr reports whether a is not reachable from the Internet: RFC 1918
// and RFC 4193 (IsPrivate), loopback, link-local, and RFC 6598 shared
// (carrier-grade NAT) space.
func privateAddr(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || sharedSpace.Contains(a)
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// publicContact returns the public address learnt for the account's
// registration transport, if any.
func (a *account) publicContact() (netip.AddrPort, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.public, a.public.IsValid()
}

// learnPublic applies natRewrite to the 2xx res of a REGISTER whose Contact
// was contact. When the account's Contact must change it records the public
// address (every Contact of the account built afterwards carries it) and
// returns true. A Via that cannot be used is logged and changes nothing.
func (p *Phone) learnPublic(a *account, res *sip.Response, contact sip.ContactHeader) bool {
	addr := hostAddr(contact.Address.Host)
	if !addr.IsValid() {
		return false // a Contact host that is a name: no address to compare
	}
	port := contact.Address.Port
	if port == 0 {
		port = int(sip.DefaultPort(a.transport))
	}
	ours := netip.AddrPortFrom(addr, uint16(port))
	server := sourceAddr(res.Source())
	public, rewrite, err := natRewrite(ours, a.transport, res.Via(), server)
	if err != nil {
		p.log.Warn("registrar's Via not used for the Contact", "account", a.cfg.Name, "err", err)
		return false
	}
	if !rewrite {
		return false
	}
	a.mu.Lock()
	a.public = public
	a.mu.Unlock()
	p.log.Info("public address learnt from the registrar: re-registering", "account", a.cfg.Name, "contact", ours, "public", public)
	return true
}

// crlfPing is a keep-alive: RFC 5626 §4.4.1's double CRLF, which SIP
// parsers skip between messages (RFC 3261 §7.5).
var crlfPing = []byte("\r\n\r\n")

// keepAlive sends one UDP keep-alive to dest (host:port) from the SIP
// listening socket, the binding to keep. Over TCP the registration's flow
// sends its pings (tcpFlow.ping).
func (p *Phone) keepAlive(dest string) error {
	if p.udpConn == nil {
		return errors.New("keep-alive: udp transport is not enabled")
	}
	addr, err := net.ResolveUDPAddr("udp", dest)
	if err != nil {
		return fmt.Errorf("keep-alive to %s: %w", dest, err)
	}
	if _, err := p.udpConn.WriteTo(crlfPing, addr); err != nil {
		return fmt.Errorf("keep-alive to %s: %w", dest, err)
	}
	return nil
}
