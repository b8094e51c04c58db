package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLS is the [tls] table: how TLS connections (sips: URIs,
// transport=tls) check servers and present the phone.
type TLS struct {
	// Verify checks every server certificate against the system roots
	// plus CAFile, and its name against the SIP domain (RFC 5922). false
	// is for a lab only: it is logged loudly and registrations say so.
	Verify bool `toml:"verify"`
	// CAFile is a PEM file of further CAs to trust; "" adds none.
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and its key,
	// offered when a server asks for one; both or neither.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// AccountTLS is an account's [accounts.tls] table.
type AccountTLS struct {
	// CAFile is a PEM file of CAs trusted for this account's servers
	// (with the system roots), instead of [tls] ca_file; "" means those.
	CAFile string `toml:"ca_file"`
	// Verify = false accepts any certificate from this account's servers
	// and the domains its calls go to, for a lab; unset or true keeps
	// [tls] verify. Logged loudly, and its registrations say so.
	Verify *bool `toml:"verify"`
}

// NoVerify tells whether the account turned verification off.
func (t AccountTLS) NoVerify() bool { return t.Verify != nil && !*t.Verify }

// RootCAs is the system roots plus the CAs in caFile ("" adds none). Call
// it on a validated config.
func RootCAs(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls ca_file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls ca_file %s: no PEM certificate in it", caFile)
	}
	return pool, nil
}

// ClientCertificate loads CertFile and KeyFile; nil when they are empty.
func (t TLS) ClientCertificate() (*tls.Certificate, error) {
	if t.CertFile == "" && t.KeyFile == "" {
		return nil, nil
	}
	c, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls cert_file/key_file: %w", err)
	}
	return &c, nil
}

// tls checks the [tls] table and every account's tls.ca_file: the files
// exist and hold what they should.
func (v *validator) tls() {
	t := v.c.TLS
	v.caFile("tls.ca_file", t.CAFile)
	switch {
	case t.CertFile == "" && t.KeyFile == "":
	case t.CertFile == "":
		v.addf("tls.cert_file", "required with tls.key_file")
	case t.KeyFile == "":
		v.addf("tls.key_file", "required with tls.cert_file")
	default:
		if _, err := t.ClientCertificate(); err != nil {
			v.addf("tls.cert_file", "%v", errors.Unwrap(err))
		}
	}
	if l := v.c.SIP.ListenTLS; l != "" {
		if err := parseListen(l); err != nil {
			v.addf("sip.listen_tls", "%v", err)
		} else if t.CertFile == "" {
			v.addf("sip.listen_tls", "a TLS listener needs tls.cert_file and tls.key_file (its certificate)")
		}
	}
	for i, a := range v.c.Accounts {
		v.caFile(fmt.Sprintf("accounts[%d].tls.ca_file", i), a.TLS.CAFile)
	}
}

func (v *validator) caFile(key, file string) {
	if file == "" {
		return
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		v.addf(key, "%v", err)
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		v.addf(key, "%s holds no PEM certificate", file)
	}
}
