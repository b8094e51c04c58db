package phone

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
)

func leafOf(t *testing.T, certFile string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVerifyServerCert: RFC 5922 §7 name matching (sip: URI SANs first,
// then DNS names, no wildcards, IP literals against IP SANs) and the
// reasons given for a bad chain.
func TestVerifyServerCert(t *testing.T) {
	ca := peertest.NewCA(t, "test CA")
	other := peertest.NewCA(t, "other CA")
	cases := []struct {
		name   string
		issuer *peertest.CA
		spec   peertest.CertSpec
		domain string
		want   string // "" = accepted, else a part of the reason
	}{
		{"DNS name", ca, peertest.CertSpec{DNSNames: []string{"provider.test"}}, "provider.test", ""},
		{"DNS name, other case", ca, peertest.CertSpec{DNSNames: []string{"Provider.Test"}}, "provider.test", ""},
		{"SRV target name is not the domain", ca, peertest.CertSpec{DNSNames: []string{"sip.provider.test"}}, "provider.test",
			"certificate for sip.provider.test is not valid for provider.test"},
		{"wildcard is not matched", ca, peertest.CertSpec{DNSNames: []string{"*.provider.test"}}, "sip.provider.test", "is not valid for"},
		{"sip: URI SAN", ca, peertest.CertSpec{SIPURIs: []string{"sip:provider.test"}, DNSNames: []string{"other.test"}}, "provider.test", ""},
		{"sip: URI SANs win over DNS", ca, peertest.CertSpec{SIPURIs: []string{"sip:other.test"}, DNSNames: []string{"provider.test"}}, "provider.test", "is not valid for"},
		{"IP literal", ca, peertest.CertSpec{IPs: []net.IP{net.IPv4(192, 0, 2, 1)}}, "192.0.2.1", ""},
		{"IP literal not in cert", ca, peertest.CertSpec{DNSNames: []string{"provider.test"}}, "192.0.2.1", "is not valid for 192.0.2.1"},
		{"expired", ca, peertest.CertSpec{DNSNames: []string{"provider.test"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)},
			"provider.test", "expired on"},
		{"not yet valid", ca, peertest.CertSpec{DNSNames: []string{"provider.test"}, NotBefore: time.Now().Add(time.Hour)},
			"provider.test", "not valid before"},
		{"unknown CA", other, peertest.CertSpec{DNSNames: []string{"provider.test"}}, "provider.test", "signed by unknown authority"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cert, _ := tc.issuer.Issue(t, tc.spec)
			err := verifyServerCert([]*x509.Certificate{leafOf(t, cert)}, ca.Pool(), tc.domain, time.Now())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			case err != nil && !errors.Is(err, ErrTLSCertificate):
				t.Fatalf("err %v is not ErrTLSCertificate", err)
			}
		})
	}
}

// TestRegisterSIPSBySRV: a sips: AOR whose domain has no port is located
// through _sips._tcp SRV (RFC 3263 §4.1) and registered over TLS; the
// certificate must name the SIP domain, not the server the SRV record
// names (RFC 5922 §7).
func TestRegisterSIPSBySRV(t *testing.T) {
	ca := peertest.NewCA(t, "test CA")
	cases := []struct {
		name     string
		names    []string
		noVerify bool // the account's tls.verify = false
		want     RegState
		reason   string
	}{
		{"certificate for the domain", []string{"provider.test"}, false, RegRegistered, ""},
		{"certificate for the SRV target only", []string{"sip.provider.test"}, false, RegFailed,
			"certificate for sip.provider.test is not valid for provider.test"},
		{"wrong name, account does not verify", []string{"sip.provider.test"}, true, RegRegistered, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certFile, keyFile := ca.Issue(t, peertest.CertSpec{DNSNames: tc.names})
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				t.Fatal(err)
			}
			sni := make(chan string, 4)
			reg := newTCPRegistrar(t, func(r *tcpRegistrar) {
				r.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
					GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
						sni <- h.ServerName
						return nil, nil
					}}
			})
			zone := fmt.Sprintf(`
				_sips._tcp.provider.test. SRV 0 0 %d sip.provider.test.
				sip.provider.test. A 127.0.0.1`, mustPort(reg.addr))
			a := newTestPhone(t, Options{
				DNSServers: []string{dnsServer(t, zone)},
				TLS:        TLSOptions{RootCAs: ca.Pool()},
				Accounts: []Account{{Name: "t", AOR: "sips:alice@provider.test", Register: true, Expires: time.Minute,
					TLSNoVerify: tc.noVerify}},
			})
			var got RegistrationEvent
			if !a.waitFor(5*time.Second, func(ev Event) bool {
				r, ok := ev.(RegistrationEvent)
				if ok && (r.State == RegRegistered || r.State == RegFailed) {
					got = r
					return true
				}
				return false
			}) {
				t.Fatalf("no registration outcome: %s", a.dump())
			}
			if got.State != tc.want || !strings.Contains(got.Reason, tc.reason) ||
				!strings.Contains(got.Server, "TLS 127.0.0.1:"+strconv.Itoa(mustPort(reg.addr))+" (sip.provider.test)") {
				t.Fatalf("registration = %+v, want %v %q via TLS to sip.provider.test", got, tc.want, tc.reason)
			}
			// RFC 5922 §7.2 / RFC 6066 §3: SNI names the SIP domain, not
			// the SRV target nor the address dialed.
			if name := <-sni; name != "provider.test" {
				t.Errorf("SNI = %q, want provider.test", name)
			}
			if tc.want == RegRegistered {
				regs := reg.waitRegs(t, 1)
				if c := regs[0].Contact(); c == nil || c.Address.Scheme != "sips" || regs[0].Via().Transport != "TLS" {
					t.Errorf("REGISTER Contact %v Via %v, want a sips: Contact and Via TLS", c, regs[0].Via())
				}
			}
		})
	}
}

// FuzzCertMatches: a server's certificate is network input. Whatever
// crypto/x509 accepts, matching it against a domain and naming it in an
// error must not panic, and an IP address literal matches only an IP SAN.
func FuzzCertMatches(f *testing.F) {
	ca := peertest.NewCA(f, "fuzz CA")
	for _, spec := range []peertest.CertSpec{
		{DNSNames: []string{"provider.test"}},
		{SIPURIs: []string{"sip:provider.test"}},
		{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}},
	} {
		cert, _ := ca.Issue(f, spec)
		b, err := os.ReadFile(cert)
		if err != nil {
			f.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		f.Add(blk.Bytes, "provider.test")
		f.Add(blk.Bytes, "127.0.0.1")
	}
	f.Fuzz(func(t *testing.T, der []byte, domain string) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		ok := certMatches(c, domain)
		_ = certNames(c)
		if ip := net.ParseIP(strings.Trim(domain, "[]")); ip != nil && ok && len(c.IPAddresses) == 0 {
			t.Fatalf("IP literal %q matched a certificate without IP SANs", domain)
		}
		_ = verifyServerCert([]*x509.Certificate{c}, x509.NewCertPool(), domain, time.Now())
	})
}

// TestTLSInjectorClosesWhatItDidNotHandOver: a connection sipgo's serve
// loop never took (the injector closed, or the caller gave up) is closed
// by inject; one it took is handed over and reported pooled at the next
// Accept.
func TestTLSInjectorClosesWhatItDidNotHandOver(t *testing.T) {
	l := newTLSInjector(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5061})
	a, b := net.Pipe()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.inject(ctx, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("inject with nobody accepting = %v, want context.Canceled", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("the connection nobody took is still open (write: %v)", err)
	}

	c, d := net.Pipe()
	defer d.Close()
	got := make(chan net.Conn, 1)
	go func() {
		conn, _ := l.Accept()
		got <- conn
		_, _ = l.Accept() // sipgo's next Accept: the first is pooled
	}()
	if err := l.inject(context.Background(), c); err != nil {
		t.Fatalf("inject = %v", err)
	}
	if conn := <-got; conn != c {
		t.Errorf("Accept returned %v, want the injected connection", conn)
	}
	_ = l.Close()
	if err := l.inject(context.Background(), c); !errors.Is(err, net.ErrClosed) {
		t.Errorf("inject after Close = %v, want net.ErrClosed", err)
	}
}
