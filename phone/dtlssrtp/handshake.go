package dtlssrtp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/srtp/v3"

	"github.com/teaphone/teaphone/phone/sdp"
)

// DefaultTimeout bounds a handshake when Config.Timeout is 0: DTLS
// retransmits a lost flight after 1 s, doubling (RFC 6347 §4.2.4.1), so a
// handshake not done in 5 s has a peer that does not answer.
const DefaultTimeout = 5 * time.Second

var (
	// ErrFingerprintMismatch reports a peer whose certificate matches
	// none of the fingerprints of its SDP (RFC 8122 §5, RFC 5763 §5):
	// someone else is on the media path, or the SDP was changed.
	ErrFingerprintMismatch = errors.New("DTLS: fingerprint mismatch")
	// ErrNoFingerprint reports a handshake attempted without a
	// fingerprint to check the peer against.
	ErrNoFingerprint = errors.New("DTLS: no fingerprint of the peer")
	// ErrTimeout reports a handshake that did not finish in time.
	ErrTimeout = errors.New("DTLS: handshake timed out")
	// ErrNoProfile reports a handshake that agreed on no SRTP protection
	// profile we can use (RFC 5764 §4.1.2).
	ErrNoProfile = errors.New("DTLS: no SRTP protection profile agreed")
)

// Config is one handshake.
type Config struct {
	// Cert is ours.
	Cert *Certificate
	// Client: we send the ClientHello (a=setup:active, RFC 5763 §5);
	// else we wait for the peer's.
	Client bool
	// Remote are the a=fingerprint values of the peer's SDP; its
	// certificate must match one of them.
	Remote []sdp.Fingerprint
	// Timeout bounds the handshake; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Keys are the SRTP master keys a handshake exported (RFC 5764 §4.2):
// Suite is the SDES name of the protection profile (RFC 4568 §6.2 style,
// e.g. AES_CM_128_HMAC_SHA1_80); Local and Remote are key||salt, ours to
// protect what we send, the peer's to check what we receive. They are
// secret: never log them.
type Keys struct {
	Suite         string
	Local, Remote []byte
}

// profiles are the SRTP protection profiles we offer, in our order of
// preference, with their SDES names (the media engine's suites).
var profiles = []struct {
	dtls  dtls.SRTPProtectionProfile
	srtp  srtp.ProtectionProfile
	suite string
}{
	{dtls.SRTP_AES128_CM_HMAC_SHA1_80, srtp.ProtectionProfileAes128CmHmacSha1_80, "AES_CM_128_HMAC_SHA1_80"},
	{dtls.SRTP_AEAD_AES_128_GCM, srtp.ProtectionProfileAeadAes128Gcm, "AEAD_AES_128_GCM"},
	{dtls.SRTP_AES128_CM_HMAC_SHA1_32, srtp.ProtectionProfileAes128CmHmacSha1_32, "AES_CM_128_HMAC_SHA1_32"},
}

// Session is an established DTLS association. Keep it open for the
// call: RFC 5763 §6.7, a re-INVITE that keeps the transport keeps it.
type Session struct {
	conn *dtls.Conn
}

// Close sends close_notify and ends the association.
func (s *Session) Close() error { return s.conn.Close() }

// Handshake runs a DTLS handshake over pc with the peer at raddr and
// returns the association and the SRTP keys. It checks the peer's
// certificate against cfg.Remote while the handshake runs, so that a
// mismatch aborts it (with a bad_certificate alert) and fails with
// ErrFingerprintMismatch. It fails with ErrTimeout after cfg.Timeout or
// ctx's end, whichever is first; pc is then left to the caller.
func Handshake(ctx context.Context, pc net.PacketConn, raddr net.Addr, cfg Config) (*Session, Keys, error) {
	if len(cfg.Remote) == 0 {
		return nil, Keys{}, ErrNoFingerprint
	}
	if cfg.Cert == nil {
		return nil, Keys{}, errors.New("DTLS: no certificate")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var mismatch atomic.Bool
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			mismatch.Store(true)
			return ErrFingerprintMismatch
		}
		for _, f := range cfg.Remote {
			if f.Matches(raw[0]) {
				return nil
			}
		}
		mismatch.Store(true)
		return ErrFingerprintMismatch
	}
	ids := make([]dtls.SRTPProtectionProfile, len(profiles))
	for i, p := range profiles {
		ids[i] = p.dtls
	}
	opts := []dtls.Option{
		dtls.WithCertificates(cfg.Cert.TLS),
		dtls.WithSRTPProtectionProfiles(ids...),
		// Self-signed on both sides: the fingerprint check is the
		// authentication (RFC 5763 §5).
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(verify),
		dtls.WithExtendedMasterSecret(dtls.RequestExtendedMasterSecret),
	}
	var conn *dtls.Conn
	var err error
	if cfg.Client {
		copts := make([]dtls.ClientOption, len(opts))
		for i, o := range opts {
			copts[i] = o
		}
		conn, err = dtls.ClientWithOptions(pc, raddr, copts...)
	} else {
		sopts := make([]dtls.ServerOption, 0, len(opts)+1)
		for _, o := range opts {
			sopts = append(sopts, o)
		}
		// RFC 5763 §5: the client must present a certificate too.
		sopts = append(sopts, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		conn, err = dtls.ServerWithOptions(pc, raddr, sopts...)
	}
	if err != nil {
		return nil, Keys{}, fmt.Errorf("DTLS: %w", err)
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		switch {
		case mismatch.Load():
			return nil, Keys{}, ErrFingerprintMismatch
		case ctx.Err() != nil:
			return nil, Keys{}, fmt.Errorf("%w (%v)", ErrTimeout, timeout)
		}
		return nil, Keys{}, fmt.Errorf("DTLS: handshake: %w", err)
	}
	keys, err := exportKeys(conn, cfg.Client)
	if err != nil {
		_ = conn.Close()
		return nil, Keys{}, err
	}
	return &Session{conn: conn}, keys, nil
}

// exportKeys derives the SRTP master keys of the agreed profile (RFC 5764
// §4.2: the EXTRACTOR-dtls_srtp exporter; the client's write key is the
// one the client protects with).
func exportKeys(conn *dtls.Conn, client bool) (Keys, error) {
	id, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return Keys{}, ErrNoProfile
	}
	for _, p := range profiles {
		if p.dtls != id {
			continue
		}
		state, ok := conn.ConnectionState()
		if !ok {
			return Keys{}, errors.New("DTLS: no connection state after the handshake")
		}
		c := srtp.Config{Profile: p.srtp}
		if err := c.ExtractSessionKeysFromDTLS(&state, client); err != nil {
			return Keys{}, fmt.Errorf("DTLS: exporting SRTP keys: %w", err)
		}
		k := c.Keys
		return Keys{
			Suite:  p.suite,
			Local:  append(append([]byte(nil), k.LocalMasterKey...), k.LocalMasterSalt...),
			Remote: append(append([]byte(nil), k.RemoteMasterKey...), k.RemoteMasterSalt...),
		}, nil
	}
	return Keys{}, fmt.Errorf("%w: profile %#x", ErrNoProfile, uint16(id))
}
