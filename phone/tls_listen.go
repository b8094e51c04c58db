package phone

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// listenTLS opens the optional TLS listener (Options.ListenTLS) for
// connections other UAs open to us (RFC 3261 §26.2: a sips: URI naming
// this phone). Requests from a registrar or proxy do not need it: they come
// over the connection we opened. Its port goes into our TLS Contacts and
// Vias.
func (p *Phone) listenTLS() error {
	if p.opts.ListenTLS == "" {
		return nil
	}
	if p.opts.TLS.Certificate == nil {
		return errors.New("a TLS listener needs a certificate (tls.cert_file and tls.key_file)")
	}
	ln, err := net.Listen("tcp", p.opts.ListenTLS)
	if err != nil {
		return fmt.Errorf("listen tls %s: %w", p.opts.ListenTLS, err)
	}
	p.tlsLn = tls.NewListener(&patientListener{Listener: ln, logf: p.log.Warn}, &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{*p.opts.TLS.Certificate},
	})
	p.tlsPort = ln.Addr().(*net.TCPAddr).Port
	return nil
}

// serveTLS serves the TLS listener, if there is one, until it is closed.
func (p *Phone) serveTLS() {
	if p.tlsLn == nil {
		return
	}
	p.srvWG.Add(1)
	go func() {
		defer p.srvWG.Done()
		_ = p.srv.ServeTLS(p.tlsLn)
	}()
}

// LocalTLSAddr is the host:port of the TLS listener, "" when there is none.
func (p *Phone) LocalTLSAddr() string {
	if p.tlsPort == 0 {
		return ""
	}
	return net.JoinHostPort(p.hostIP.String(), strconv.Itoa(p.tlsPort))
}
