package phone

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/phone/locator"
)

// maxUDPMessage is the largest SIP message we send over UDP. sipgo refuses
// anything above 1300 bytes (RFC 3261 §18.1.1's threshold for moving a
// request to TCP) and drops it with no answer sent. A 200 OK with ICE
// candidates and a proxy's Via and Record-Route headers passes that easily,
// and the call then never connects. We send what fits in sipgo's read
// buffer and let IP fragment it, as baresip and pjsua do over UDP.
const maxUDPMessage = 32000

func init() {
	sip.UDPMTUSize = maxUDPMessage + 200 // sipgo's limit is UDPMTUSize-200
}

func (p *Phone) wants(transport string) bool {
	for _, t := range p.opts.Transports {
		if strings.EqualFold(t, transport) {
			return true
		}
	}
	return false
}

// bind opens the UDP socket and the TCP listener on the same port. With port
// 0 it retries until both get the same free port.
func (p *Phone) bind(ip net.IP, port int) error {
	network := "udp4"
	tcpNet := "tcp4"
	switch {
	case ip.To4() == nil && ip.IsUnspecified():
		// "[::]": one socket for both families (see dualstack.go).
		network, tcpNet = "udp", "tcp"
		p.dualStack = true
	case ip.To4() == nil:
		network, tcpNet = "udp6", "tcp6"
	}
	for attempt := 0; attempt < 20; attempt++ {
		var uc net.PacketConn
		p.port = port
		if p.wants("udp") {
			c, err := net.ListenPacket(network, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
			if err != nil {
				return fmt.Errorf("listen udp %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(port)), err)
			}
			uc = p.watchICMP(c.(*net.UDPConn))
			p.port = c.LocalAddr().(*net.UDPAddr).Port
		}
		if p.wants("tcp") {
			l, err := net.Listen(tcpNet, net.JoinHostPort(ip.String(), strconv.Itoa(p.port)))
			if err != nil {
				if uc != nil {
					uc.Close()
				}
				if port == 0 && p.port != 0 {
					continue // the UDP port is taken for TCP: try another
				}
				return fmt.Errorf("listen tcp %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(p.port)), err)
			}
			p.tcpLn = &patientListener{Listener: l, logf: p.log.Warn}
			if p.port == 0 {
				p.port = l.Addr().(*net.TCPAddr).Port
			}
		}
		p.udpConn = uc
		if uc == nil && p.tcpLn == nil {
			return errors.New("no transport enabled (want udp and/or tcp)")
		}
		return nil
	}
	return errors.New("could not find a port free for both UDP and TCP")
}

// newLocator builds the resolver of registrars and proxies given by name:
// it offers only the transports that are listening, and addresses of the
// family the sockets are bound to.
func (p *Phone) newLocator(bindIP net.IP) (*locator.Resolver, error) {
	var ts []string
	for _, t := range p.opts.Transports {
		if (strings.EqualFold(t, "udp") && p.udpConn != nil) || (strings.EqualFold(t, "tcp") && p.tcpLn != nil) {
			ts = append(ts, t)
		}
	}
	ts = append(ts, "tls") // a client transport (tlsCli): it needs no listener
	network := "ip4"
	switch {
	case p.dualStack:
		network = "ip"
	case bindIP.To4() == nil:
		network = "ip6"
	}
	opts := []locator.Option{locator.WithTransports(ts...), locator.WithNetwork(network)}
	if len(p.opts.DNSServers) > 0 {
		opts = append(opts, locator.WithServers(p.opts.DNSServers...))
	}
	r, err := locator.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	return r, nil
}

func (p *Phone) closeListeners() {
	if p.udpConn != nil {
		p.udpConn.Close()
	}
	if p.tcpLn != nil {
		p.tcpLn.Close()
	}
	if p.tlsLn != nil {
		p.tlsLn.Close()
	}
	if p.tlsInj != nil {
		p.tlsInj.Close()
	}
}

// guessHostIP picks the address to advertise when listening on 0.0.0.0: the
// local address the kernel would use towards the first registrar (no packet
// is sent by a UDP "connect"), else the first non-loopback interface address.
func (p *Phone) guessHostIP() net.IP {
	for _, a := range p.accounts {
		host := a.registrar.Host
		if ip := net.ParseIP(host); ip != nil {
			if c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: ip, Port: 5060}); err == nil {
				local := c.LocalAddr().(*net.UDPAddr).IP
				c.Close()
				return local
			}
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP
			}
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

func mediaBindIP(bind, host net.IP) net.IP {
	if bind.IsUnspecified() {
		return bind
	}
	return host
}

// uriTransport is the transport a request to u goes over: its transport
// parameter, else TLS for a sips: URI (RFC 3261 §26.2.2), else dflt.
func uriTransport(u sip.Uri, dflt string) string {
	if u.UriParams != nil {
		if v, ok := u.UriParams.Get("transport"); ok && v != "" {
			return strings.ToUpper(v)
		}
	}
	if strings.EqualFold(u.Scheme, "sips") {
		return "TLS"
	}
	return dflt
}

// clientFor returns the client for a transport ("UDP", "TCP" or "TLS").
func (p *Phone) clientFor(transport string) (*sipgo.Client, error) {
	if strings.EqualFold(transport, "TLS") {
		if p.tlsCli == nil {
			return nil, errors.New("tls transport is not enabled")
		}
		return p.tlsCli, nil
	}
	if strings.EqualFold(transport, "TCP") {
		if p.tcpCli == nil {
			return nil, errors.New("tcp transport is not enabled")
		}
		return p.tcpCli, nil
	}
	if p.udpCli == nil {
		return nil, errors.New("udp transport is not enabled")
	}
	return p.udpCli, nil
}

// fromListener makes a UDP request leave from the listening socket.
// sipgo pins the socket (WithClientConnectionAddr) only in the request
// build it runs when a send is given no request options; every in-dialog
// send (the dialog sessions pass options of their own) and our ACKs of
// re-INVITE 2xx pass some, and such a request to an address that never sent
// us anything left from a new socket on an ephemeral port, which the far
// end's NAT binding, its symmetric-response logic and ours do not know.
func (p *Phone) fromListener(req *sip.Request, transport string) {
	if p.udpConn == nil || !strings.EqualFold(transport, "UDP") {
		return
	}
	p.udpLaddr.Copy(&req.Laddr)
}

// contactFor builds our Contact for a call or registration of acct (nil:
// a direct call) over transport. Once the account's registrar told us our
// public address (learnPublic), its Contacts on the registration's
// transport carry that address.
func (p *Phone) contactFor(acct *account, transport string) sip.ContactHeader {
	return p.contactAt(acct, transport, nil)
}

// contactAt is contactFor at host (nil: the default address; see hostFor).
func (p *Phone) contactAt(acct *account, transport string, host net.IP) sip.ContactHeader {
	user := "" // no account: our address only
	if acct != nil {
		user = acct.contactUser()
	}
	if host == nil && acct != nil {
		acct.mu.Lock()
		host = acct.regHost // the address last registered (dual stack)
		acct.mu.Unlock()
	}
	if host == nil {
		host = p.hostIP
	}
	u := sip.Uri{Scheme: "sip", User: user, Host: host.String(), Port: p.port}
	if acct != nil && strings.EqualFold(transport, acct.transport) {
		if pub, ok := acct.publicContact(); ok {
			u.Host, u.Port = pub.Addr().String(), int(pub.Port())
		}
	}
	switch {
	case strings.EqualFold(transport, "TLS"):
		// RFC 3261 §26.2.2, §8.1.1.8: a sips: AOR gets a sips: Contact;
		// a TLS hop for a sip: AOR keeps sip: with transport=tls (RFC 5630 §3.2).
		if acct != nil && strings.EqualFold(acct.aor.Scheme, "sips") {
			u.Scheme = "sips"
		} else {
			u.UriParams = sip.NewParams()
			u.UriParams.Add("transport", "tls")
		}
		if p.tlsPort != 0 {
			u.Port = p.tlsPort
		}
	case strings.EqualFold(transport, "TCP"):
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return sip.ContactHeader{Address: u}
}

func (p *Phone) dialogUA(acct *account, transport string, host net.IP) (*sipgo.DialogUA, error) {
	cli, err := p.clientFor(transport)
	if err != nil {
		return nil, err
	}
	return &sipgo.DialogUA{Client: cli, ContactHDR: p.contactAt(acct, transport, host)}, nil
}
