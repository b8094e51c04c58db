package doctor

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/phone/locator"
	"github.com/teaphone/teaphone/phone/stun"
)

// Bounds of one STUN exchange: a server that answers does so within a
// round trip; RFC 5389 §7.2.1's retransmissions start at stunRTO.
const (
	stunTimeout = 3 * time.Second
	stunRTO     = 250 * time.Millisecond
)

// mappings asks the STUN server how the NAT maps the SIP listening port
// and one RTP port, before the phone binds them. The SIP port's mapping,
// compared with the address the registrar sees from that same port, tells
// the kinds of NAT apart (RFC 4787 §4.1: one local port, two destinations,
// one public port or two); an answer on the RTP port shows that UDP comes
// back to it. It returns the listen address the phone must use (the port
// chosen here when the configured one is 0); an error only when the SIP
// port cannot be bound, which the phone could not do either.
func mappings(ctx context.Context, res *locator.Resolver, o phone.Options, f *Findings) (string, error) {
	listen := o.Listen
	if listen == "" {
		listen = "0.0.0.0:5060"
	}
	host, port, err := listenPort(listen)
	if err != nil {
		return "", err
	}
	server, err := stunAddr(ctx, res, f.STUNServer)
	sip, berr := listenUDP(host, port)
	if berr != nil {
		return "", fmt.Errorf("SIP port %s: %w (is another phone running?)", listen, berr)
	}
	f.SIPMapping = bind(ctx, sip, server, err)
	listen = net.JoinHostPort(host, strconv.Itoa(sip.LocalAddr().(*net.UDPAddr).Port))
	_ = sip.Close()

	rtp := rtpSocket(host, o.RTPPortMin, o.RTPPortMax)
	if rtp != nil {
		f.RTPMapping = bind(ctx, rtp, server, err)
		_ = rtp.Close()
	}
	return listen, nil
}

// bind is one Binding exchange from conn; serverErr says why there is no
// server address.
func bind(ctx context.Context, conn *net.UDPConn, server netip.AddrPort, serverErr error) Mapping {
	m := Mapping{Local: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	if serverErr != nil {
		m.Err = serverErr.Error()
		return m
	}
	ctx, cancel := context.WithTimeout(ctx, stunTimeout)
	defer cancel()
	pub, err := stun.Bind(ctx, conn, server, stunRTO)
	if err != nil {
		m.Err = err.Error()
		return m
	}
	m.Public = pub
	return m
}

// stunAddr resolves nat.stun_server to an IPv4 address (the phone's
// listener is IPv4 when a NAT is in play).
func stunAddr(ctx context.Context, res *locator.Resolver, server string) (netip.AddrPort, error) {
	host, port, err := stun.SplitServer(server)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("nat.stun_server %q: %w", server, err)
	}
	addrs, err := res.LookupAddr(ctx, "ip4", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("STUN server %s: %w", host, err)
	}
	return netip.AddrPortFrom(addrs[0], uint16(port)), nil
}

// rtpSocket binds the first free even port of the RTP range on host (any
// port when there is no range); nil when none is free.
func rtpSocket(host string, low, high int) *net.UDPConn {
	if low <= 0 || high < low {
		c, err := listenUDP(host, 0)
		if err != nil {
			return nil
		}
		return c
	}
	for p := low + low%2; p <= high; p += 2 {
		if c, err := listenUDP(host, p); err == nil {
			return c
		}
	}
	return nil
}

// listenUDP binds host:port (host an address; anything else is 0.0.0.0),
// IPv4 only for an IPv4 host, as the phone binds its listener.
func listenUDP(host string, port int) (*net.UDPConn, error) {
	ip := net.ParseIP(trimBrackets(host))
	if ip == nil {
		ip = net.IPv4zero
	}
	network := "udp6"
	if ip.To4() != nil {
		network = "udp4"
	}
	return net.ListenUDP(network, &net.UDPAddr{IP: ip, Port: port})
}
