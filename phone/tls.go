package phone

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TLSOptions configure the TLS transport (RFC 3261 §26.2, RFC 5630). The
// zero value verifies servers against the system roots and offers no
// client certificate.
type TLSOptions struct {
	// RootCAs are the CAs a server certificate must chain to; nil means
	// the system roots.
	RootCAs *x509.CertPool
	// Certificate, if set, is offered when a server asks for one.
	Certificate *tls.Certificate
	// NoVerify accepts any server certificate. It exists for labs only:
	// the phone logs a warning and every registration over TLS says so.
	NoVerify bool
	// HandshakeTimeout bounds a TLS connection's set-up (TCP connect and
	// handshake); 0 means 10 s.
	HandshakeTimeout time.Duration
}

// ErrTLSCertificate reports a server certificate that failed verification;
// errors.Is matches every *CertError to it.
var ErrTLSCertificate = errors.New("tls certificate rejected")

// CertError is a server certificate that failed verification, with a
// reason a person can act on.
type CertError struct{ Reason string }

func (e *CertError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrTLSCertificate) true.
func (e *CertError) Is(target error) bool { return target == ErrTLSCertificate }

func certErr(format string, args ...any) error {
	return &CertError{Reason: fmt.Sprintf(format, args...)}
}

// tlsPeer is what a TLS server is checked against: the SIP domain the
// request was for (RFC 5922 §7) and the CAs of the account that sends it.
type tlsPeer struct {
	domain   string
	roots    *x509.CertPool // nil: the phone's
	noVerify bool           // the account's tls.verify = false
}

// tlsConfig is the config of every TLS connection this phone opens.
// Those to registrars, proxies and called domains are opened by dialTLS,
// which sets SNI and checks the chain and the SIP domain for the account
// that asked. sipgo opens the others by itself (an in-dialog target with no
// connection yet) with this config as it is: sipgo sets only ServerName,
// to the IP address it dials, and no callback of crypto/tls is told which
// SIP domain the connection is for, so their chain is checked in
// VerifyConnection against every CA the phone trusts.
func (p *Phone) tlsConfig() *tls.Config {
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection and tlsConnect (RFC 5922)
		VerifyConnection:   p.verifyConnection,
	}
	if p.opts.TLS.Certificate != nil {
		c.Certificates = []tls.Certificate{*p.opts.TLS.Certificate}
	}
	return c
}

// openTLS builds the TLS client. TLS needs no listener to send: requests
// from a server come back over the connection we opened (RFC 5923 style
// reuse, sipgo's pool).
func (p *Phone) openTLS(ua *sipgo.UserAgent) error {
	port := p.port // Via and Contact agree, so that a proxy can alias it to our connection
	if p.tlsPort != 0 {
		port = p.tlsPort
	}
	cli, err := sipgo.NewClient(ua,
		sipgo.WithClientLogger(p.log),
		sipgo.WithClientHostname(p.hostIP.String()),
		sipgo.WithClientPort(port),
		sipgo.WithClientNAT(),
	)
	if err != nil {
		return fmt.Errorf("create TLS client: %w", err)
	}
	p.tlsCli = cli
	p.tlsInj = newTLSInjector(&net.TCPAddr{IP: p.hostIP, Port: port})
	if p.opts.TLS.NoVerify {
		p.log.Warn("TLS certificate verification is OFF (tls.verify = false): for a lab only")
	}
	return nil
}

// verifyConnection checks a server's certificate chain against every CA
// the phone trusts: its own roots or those of one of its accounts.
func (p *Phone) verifyConnection(cs tls.ConnectionState) error {
	if p.opts.TLS.NoVerify {
		return nil
	}
	err := verifyServerCert(cs.PeerCertificates, p.opts.TLS.RootCAs, "", time.Now())
	for _, a := range p.accounts {
		if err == nil {
			break
		}
		if a.cfg.TLSRootCAs != nil && verifyServerCert(cs.PeerCertificates, a.cfg.TLSRootCAs, "", time.Now()) == nil {
			err = nil
		}
	}
	return err
}

// verifyServerCert verifies a server's chain (leaf first) against roots
// (nil: the system roots) at now, and the leaf against domain.
func verifyServerCert(chain []*x509.Certificate, roots *x509.CertPool, domain string, now time.Time) error {
	if len(chain) == 0 {
		return certErr("the server sent no certificate")
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return certReason(leaf, err, now)
	}
	if domain != "" && !certMatches(leaf, domain) {
		return certErr("certificate for %s is not valid for %s", certNames(leaf), domain)
	}
	return nil
}

// certReason turns crypto/x509's verdict into words a person can act on.
func certReason(leaf *x509.Certificate, err error, now time.Time) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return certErr("certificate for %s signed by unknown authority %q (add its CA to tls.ca_file)", certNames(leaf), leaf.Issuer.String())
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		if now.Before(leaf.NotBefore) {
			return certErr("certificate for %s is not valid before %s (check the clock)", certNames(leaf), leaf.NotBefore.UTC().Format(time.RFC3339))
		}
		return certErr("certificate for %s expired on %s", certNames(leaf), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return certErr("%v", err)
}

// certMatches is RFC 5922 §7.1 and §7.2: when the certificate has
// subjectAltName URIs of scheme sip, one of them must name the domain;
// otherwise one of its DNS names must equal it (an IP address literal: one
// of its IP addresses), without wildcards; the Common Name counts only when
// there are no subjectAltNames at all.
func certMatches(c *x509.Certificate, domain string) bool {
	domain = strings.Trim(domain, "[]")
	if ip := net.ParseIP(domain); ip != nil {
		for _, a := range c.IPAddresses {
			if a.Equal(ip) {
				return true
			}
		}
		return false
	}
	var sipURIs int
	for _, u := range c.URIs {
		if u.Scheme != "sip" {
			continue
		}
		sipURIs++
		if strings.EqualFold(u.Opaque, domain) || strings.EqualFold(u.Host, domain) {
			return true
		}
	}
	if sipURIs > 0 {
		return false
	}
	for _, n := range c.DNSNames {
		if strings.EqualFold(n, domain) {
			return true
		}
	}
	if len(c.DNSNames) == 0 && len(c.IPAddresses) == 0 && len(c.URIs) == 0 {
		return strings.EqualFold(c.Subject.CommonName, domain)
	}
	return false
}

// certNames names what a certificate is for, for error messages.
func certNames(c *x509.Certificate) string {
	var names []string
	for _, u := range c.URIs {
		names = append(names, u.String())
	}
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		names = append(names, c.Subject.CommonName)
	}
	return strings.Join(names, ", ")
}

// tlsConnect finds in sipgo's pool, or opens (tls_dial.go), the TLS
// connection req will go over and checks it against peer before anything
// is sent on it, all within the handshake timeout: a server that stalls
// mid-handshake is a failure after that long, not a hang, and a rejected
// certificate comes back as itself rather than as a transaction error.
func (p *Phone) tlsConnect(ctx context.Context, req *sip.Request, peer tlsPeer) error {
	dest := req.Destination()
	timeout := p.opts.TLS.HandshakeTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ap, err := netip.ParseAddrPort(dest)
	if err != nil {
		return fmt.Errorf("tls to %s: not an address and port", dest)
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	key := ap.String() // how sipgo's pool names the server's connection
	if p.tlsInj == nil {
		return fmt.Errorf("tls to %s: %w", dest, ErrClosed)
	}
	unlock := p.tlsDials.lock(key)
	defer unlock()
	if conn, err := p.ua.TransportLayer().GetConnection("tls", key); err == nil {
		return p.checkPooledTLS(conn, dest, peer)
	}
	conn, err := p.dialTLS(cctx, ap, peer)
	if err != nil {
		var ce *CertError
		switch {
		case errors.As(err, &ce):
			return fmt.Errorf("tls to %s: %w", dest, ce)
		case cctx.Err() != nil && ctx.Err() == nil:
			return fmt.Errorf("tls to %s: no handshake within %v", dest, timeout)
		}
		return fmt.Errorf("tls to %s: %w", dest, err)
	}
	if p.tlsNoVerify(peer) {
		p.log.Warn("TLS certificate NOT verified (tls.verify = false): anybody on the path can read and change this signalling", "server", dest, "domain", peer.domain)
	}
	if err := p.tlsInj.inject(cctx, conn); err != nil {
		return fmt.Errorf("tls to %s: %w", dest, err)
	}
	return nil
}

// checkPooledTLS checks a connection that was already open to dest (opened
// for another account or call, or by sipgo for an in-dialog target) against
// peer: its certificate must also name peer's domain.
func (p *Phone) checkPooledTLS(conn sip.Connection, dest string, peer tlsPeer) error {
	if p.tlsNoVerify(peer) {
		return nil
	}
	tc, ok := conn.(*sip.TCPConnection)
	if !ok {
		return fmt.Errorf("tls to %s: unexpected connection type %T", dest, conn)
	}
	tlsConn, ok := tc.Conn.(*tls.Conn)
	if !ok {
		return fmt.Errorf("tls to %s: unexpected connection type %T", dest, tc.Conn)
	}
	roots := peer.roots
	if roots == nil {
		roots = p.opts.TLS.RootCAs
	}
	if err := verifyServerCert(tlsConn.ConnectionState().PeerCertificates, roots, peer.domain, time.Now()); err != nil {
		return fmt.Errorf("tls to %s: %w", dest, err)
	}
	return nil
}

// tlsPeer is what the account's TLS servers are checked against: the host
// of its outbound proxy, else of its registrar (RFC 5922 §7: the domain
// the request was resolved from, not the server the DNS named).
func (p *Phone) accountTLSPeer(a *account) tlsPeer {
	return tlsPeer{domain: a.firstHop().Host, roots: a.cfg.TLSRootCAs, noVerify: a.cfg.TLSNoVerify}
}

// callTLSPeer is what the servers of a call to uri are checked against:
// the account's outbound proxy when it has one, else uri's host.
func (p *Phone) callTLSPeer(a *account, uri sip.Uri) tlsPeer {
	if a != nil && a.proxy != nil {
		return p.accountTLSPeer(a)
	}
	peer := tlsPeer{domain: uri.Host}
	if a != nil {
		peer.roots, peer.noVerify = a.cfg.TLSRootCAs, a.cfg.TLSNoVerify
	}
	return peer
}
