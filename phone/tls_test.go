package phone

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
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
