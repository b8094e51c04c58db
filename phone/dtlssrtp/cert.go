package dtlssrtp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/teaphone/teaphone/phone/sdp"
)

// certLifetime is how long our self-signed certificates are valid: the
// peer does not check it (only the fingerprint), but a process that runs
// for weeks should not present an expired one.
const certLifetime = 365 * 24 * time.Hour

// Certificate is our DTLS identity: a self-signed ECDSA P-256 certificate
// and its sha-256 fingerprint, written in our SDP (RFC 8122 §5).
type Certificate struct {
	TLS         tls.Certificate
	Fingerprint sdp.Fingerprint
}

// NewCertificate makes a self-signed ECDSA P-256 certificate (RFC 5763 §5:
// self-signed certificates are the norm; the fingerprint binds it to the
// SDP).
func NewCertificate() (*Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dtls certificate: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("dtls certificate: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "teaphone"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("dtls certificate: %w", err)
	}
	fp, err := sdp.NewFingerprint("sha-256", der)
	if err != nil {
		return nil, fmt.Errorf("dtls certificate: %w", err)
	}
	return &Certificate{TLS: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, Fingerprint: fp}, nil
}
