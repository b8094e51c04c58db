package phone

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// The phone opens the TLS connections to its registrars, proxies and
// called domains itself rather than letting sipgo do it, for two things
// sipgo v1.7.3 cannot do: sipgo dials the IP address the locator chose with
// one tls.Config for every connection, so it sends no SNI (Go sends none
// for an address) and cannot check the certificate against the SIP domain
// during the handshake. Here the handshake carries the domain as SNI (RFC
// 5922 §7.2, RFC 6066 §3) and verifies the chain and the name (RFC 5922
// §7.1-7.3) for the account that asked, so a rejected server gets an alert
// and never a byte of SIP. The connection is then handed to sipgo through
// tlsInjector, a net.Listener its TLS transport serves: sipgo puts what it
// "accepts" into its connection pool under the server's address and reads
// from it, and every request to that address, ours or a transaction's, goes
// over it (RFC 5923 style reuse).

// tlsInjector is a net.Listener whose Accept returns the connections the
// phone dialed. sipgo's TLS transport Serve loop calls Accept, adds the
// connection to its pool and starts its reader, then calls Accept again:
// that next call is what tells inject the connection is in the pool.
type tlsInjector struct {
	addr  net.Addr
	conns chan injected
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	pending chan struct{} // closed at the next Accept: the last conn is pooled
}

type injected struct {
	conn   net.Conn
	pooled chan struct{}
}

func newTLSInjector(addr net.Addr) *tlsInjector {
	return &tlsInjector{addr: addr, conns: make(chan injected), done: make(chan struct{})}
}

// Accept returns the next connection given to inject.
func (l *tlsInjector) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.pending != nil {
		close(l.pending)
		l.pending = nil
	}
	l.mu.Unlock()
	select {
	case in := <-l.conns:
		l.mu.Lock()
		l.pending = in.pooled
		l.mu.Unlock()
		return in.conn, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close ends Accept, and so sipgo's Serve loop.
func (l *tlsInjector) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr is the address sipgo records as its TLS listening port: the port
// our TLS Vias and Contacts carry.
func (l *tlsInjector) Addr() net.Addr { return l.addr }

// inject hands conn to sipgo and returns once it is in sipgo's pool. A
// conn sipgo never took is closed here; one it took is sipgo's to close.
func (l *tlsInjector) inject(ctx context.Context, conn net.Conn) error {
	in := injected{conn: conn, pooled: make(chan struct{})}
	select {
	case l.conns <- in:
	case <-l.done:
		_ = conn.Close()
		return net.ErrClosed
	case <-ctx.Done():
		_ = conn.Close()
		return ctx.Err()
	}
	select {
	case <-in.pooled:
		return nil
	case <-l.done:
		return net.ErrClosed
	case <-ctx.Done():
		// Accept returned it: sipgo owns it now and closes it with its pool.
		return ctx.Err()
	}
}

// serveTLSInjector serves the injector openTLS made; Close stops it.
func (p *Phone) serveTLSInjector() {
	p.srvWG.Add(1)
	go func() {
		defer p.srvWG.Done()
		_ = p.srv.ServeTLS(p.tlsInj)
	}()
}

// dialLocks serialises the dialing of one destination, so that two
// requests to a server with no connection yet open one connection, not two.
type dialLocks struct {
	mu    sync.Mutex
	locks map[string]*dialLock
}

type dialLock struct {
	sync.Mutex
	users int
}

func (d *dialLocks) lock(key string) (unlock func()) {
	d.mu.Lock()
	if d.locks == nil {
		d.locks = map[string]*dialLock{}
	}
	l := d.locks[key]
	if l == nil {
		l = &dialLock{}
		d.locks[key] = l
	}
	l.users++
	d.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		d.mu.Lock()
		if l.users--; l.users == 0 {
			delete(d.locks, key)
		}
		d.mu.Unlock()
	}
}

// dialTLS opens a TLS connection to dest (an IP address and port) for
// peer: SNI is peer's domain unless that is an address literal (RFC 6066
// §3 forbids those), and the server's certificate must chain to peer's CAs
// and name the domain, unless verification is off.
func (p *Phone) dialTLS(ctx context.Context, dest netip.AddrPort, peer tlsPeer) (*tls.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", dest.String())
	if err != nil {
		return nil, err
	}
	cfg := p.tlsConfig()
	if _, err := netip.ParseAddr(peer.domain); err != nil && peer.domain != "" {
		cfg.ServerName = peer.domain
	}
	if !p.tlsNoVerify(peer) {
		roots := peer.roots
		if roots == nil {
			roots = p.opts.TLS.RootCAs
		}
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyServerCert(cs.PeerCertificates, roots, peer.domain, time.Now())
		}
	} else {
		cfg.VerifyConnection = nil
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		var ce *CertError
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, fmt.Errorf("handshake: %w", err)
	}
	return conn, nil
}

// tlsNoVerify tells whether certificates of peer's servers go unchecked:
// tls.verify = false for the phone or for the account.
func (p *Phone) tlsNoVerify(peer tlsPeer) bool {
	return p.opts.TLS.NoVerify || peer.noVerify
}
