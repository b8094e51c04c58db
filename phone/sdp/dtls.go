package sdp

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // RFC 8122 §5 lists sha-1 fingerprints; we only compare them
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// DTLS-SRTP (RFC 5763, RFC 5764) in SDP: the UDP/TLS/RTP/SAVP profile
// (RFC 5764 §8) and its AVPF variant, a=fingerprint (RFC 8122 §5) and
// a=setup (RFC 4145 §4, RFC 5763 §5).

// Setup is the value of an a=setup attribute (RFC 4145 §4): which side
// opens the connection, here which side is the DTLS client.
type Setup string

// The a=setup values.
const (
	// SetupActive: the writer is the DTLS client.
	SetupActive Setup = "active"
	// SetupPassive: the writer is the DTLS server.
	SetupPassive Setup = "passive"
	// SetupActPass: either; RFC 5763 §5 requires it in offers.
	SetupActPass Setup = "actpass"
	// SetupHoldConn: no connection for now; we cannot use it.
	SetupHoldConn Setup = "holdconn"
)

// ParseSetup parses an a=setup value, case-insensitively.
func ParseSetup(v string) (Setup, error) {
	switch s := Setup(strings.ToLower(strings.TrimSpace(v))); s {
	case SetupActive, SetupPassive, SetupActPass, SetupHoldConn:
		return s, nil
	}
	return "", fmt.Errorf("%w: a=setup:%s", ErrMalformed, v)
}

// Fingerprint is one a=fingerprint value (RFC 8122 §5): a hash function
// name and the hash of the writer's certificate.
type Fingerprint struct {
	// Hash is the lower-case hash function name: sha-1, sha-224,
	// sha-256, sha-384 or sha-512.
	Hash string
	// Sum is the certificate's hash (DER encoding, RFC 8122 §5).
	Sum []byte
}

// newHash returns the hash of a supported fingerprint hash name, nil for
// another one.
func newHash(name string) hash.Hash {
	switch name {
	case "sha-1":
		return sha1.New() //nolint:gosec // see the import
	case "sha-224":
		return sha256.New224()
	case "sha-256":
		return sha256.New()
	case "sha-384":
		return sha512.New384()
	case "sha-512":
		return sha512.New()
	}
	return nil
}

// NewFingerprint returns the fingerprint of a DER certificate with the
// named hash function (see Fingerprint.Hash).
func NewFingerprint(hashName string, der []byte) (Fingerprint, error) {
	h := newHash(hashName)
	if h == nil {
		return Fingerprint{}, fmt.Errorf("%w: fingerprint hash %q", ErrInvalidLocal, hashName)
	}
	h.Write(der)
	return Fingerprint{Hash: hashName, Sum: h.Sum(nil)}, nil
}

// Matches reports whether der, a DER certificate, has fingerprint f.
func (f Fingerprint) Matches(der []byte) bool {
	g, err := NewFingerprint(f.Hash, der)
	return err == nil && bytes.Equal(g.Sum, f.Sum)
}

// String returns the attribute value: the hash name, a space and the sum
// as upper-case hex pairs separated by colons (RFC 8122 §5, UHEX).
func (f Fingerprint) String() string {
	var sb strings.Builder
	sb.WriteString(f.Hash)
	sb.WriteByte(' ')
	for i, c := range f.Sum {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return sb.String()
}

// errFingerprint is the cause of every fingerprint ParseFingerprint
// refuses.
var errFingerprint = errors.New("bad a=fingerprint")

// ParseFingerprint parses an a=fingerprint value (RFC 8122 §5):
//
//	hash-func SP 2UHEX *(":" 2UHEX)
//
// The hash name is case-insensitive (baresip writes SHA-256) and so,
// leniently, are the hex digits. A hash function we do not support, or a
// sum whose length is not that function's, is refused.
func ParseFingerprint(v string) (Fingerprint, error) {
	name, sum, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return Fingerprint{}, fmt.Errorf("%w: %w: %q", ErrMalformed, errFingerprint, v)
	}
	name = strings.ToLower(name)
	h := newHash(name)
	if h == nil {
		return Fingerprint{}, fmt.Errorf("%w: %w: hash %q", ErrMalformed, errFingerprint, name)
	}
	sum = strings.TrimSpace(sum)
	parts := strings.Split(sum, ":")
	if len(parts) != h.Size() {
		return Fingerprint{}, fmt.Errorf("%w: %w: %d octets for %s", ErrMalformed, errFingerprint, len(parts), name)
	}
	out := make([]byte, len(parts))
	for i, p := range parts {
		if len(p) != 2 {
			return Fingerprint{}, fmt.Errorf("%w: %w: octet %q", ErrMalformed, errFingerprint, p)
		}
		b, err := hex.DecodeString(p)
		if err != nil {
			return Fingerprint{}, fmt.Errorf("%w: %w: octet %q", ErrMalformed, errFingerprint, p)
		}
		out[i] = b[0]
	}
	return Fingerprint{Hash: name, Sum: out}, nil
}

// LocalDTLS is our side of DTLS-SRTP for one call: set in Local, it makes
// offers UDP/TLS/RTP/SAVP with a=setup:actpass and answers accept only a
// DTLS offer.
type LocalDTLS struct {
	// Fingerprint is our certificate's (sha-256).
	Fingerprint Fingerprint
	// Setup is the a=setup of our last answer: SetupActive (we are the
	// DTLS client) or SetupPassive. Answer sets it.
	Setup Setup
	// Keep, when SetupActive or SetupPassive, is the role of a running
	// association that the next answer means to keep: an actpass offer is
	// answered with it rather than with active (RFC 8842 §5: the roles of
	// a kept association do not change).
	Keep Setup
}

// dtlsProtos are the transport protocols of DTLS-SRTP (RFC 5764 §8); the
// F variant carries RTCP feedback (RFC 5124), which baresip 1.0 offers.
var (
	dtlsProtos  = []string{"UDP", "TLS", "RTP", "SAVP"}
	dtlsProtosF = []string{"UDP", "TLS", "RTP", "SAVPF"}
)

// isDTLSProto reports whether p is UDP/TLS/RTP/SAVP or UDP/TLS/RTP/SAVPF.
func isDTLSProto(p []string) bool {
	eq := func(q []string) bool {
		if len(p) != len(q) {
			return false
		}
		for i := range p {
			if !strings.EqualFold(p[i], q[i]) {
				return false
			}
		}
		return true
	}
	return eq(dtlsProtos) || eq(dtlsProtosF)
}

// isSecure reports whether md's profile requires SRTP: RTP/SAVP (RFC 3711
// §12) or DTLS-SRTP (RFC 5764 §8).
func isSecure(md *psdp.MediaDescription) bool {
	p := md.MediaName.Protos
	return len(p) == 2 && p[1] == "SAVP" || isDTLSProto(p)
}

// parseDTLS fills m's DTLS fields from md, a section of sd. RFC 8122 §5
// and RFC 4145 §4: both attributes may be at session or media level; the
// media level wins. Malformed a=fingerprint lines are skipped (the call
// then has none and is refused); a malformed a=setup is an error.
func parseDTLS(m *Media, sd *psdp.SessionDescription, md *psdp.MediaDescription) error {
	m.DTLS = isDTLSProto(md.MediaName.Protos)
	fps := fingerprintsOf(md.Attributes)
	if len(fps) == 0 {
		fps = fingerprintsOf(sd.Attributes)
	}
	m.Fingerprints = fps
	v, ok := md.Attribute("setup")
	if !ok {
		v, ok = sd.Attribute("setup")
	}
	if ok {
		s, err := ParseSetup(v)
		if err != nil {
			return err
		}
		m.Setup = s
	}
	return nil
}

func fingerprintsOf(attrs []psdp.Attribute) []Fingerprint {
	var out []Fingerprint
	for _, a := range attrs {
		if a.Key != "fingerprint" {
			continue
		}
		if f, err := ParseFingerprint(a.Value); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// selectDTLS returns the first DTLS-SRTP audio section with a non-zero
// port, or -1.
func selectDTLS(sd *psdp.SessionDescription) int {
	for i, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" && isDTLSProto(md.MediaName.Protos) && md.MediaName.Port.Value != 0 {
			return i
		}
	}
	return -1
}

// answerSetup is our a=setup in an answer to an offer with remote (RFC
// 5763 §5: the answerer picks active or passive; "active" SHOULD be
// chosen when the offer allows it, so that the offerer's ClientHello
// does not race our answer). RFC 4145 §4: a missing attribute means
// active.
func answerSetup(remote Setup) (Setup, error) {
	switch remote {
	case SetupActPass, SetupPassive:
		return SetupActive, nil
	case SetupActive, "":
		return SetupPassive, nil
	}
	return "", fmt.Errorf("%w: a=setup:%s offered", ErrNoCrypto, remote)
}

// DTLSClient reports whether we are the DTLS client after an answer with
// remote to our actpass offer (RFC 5763 §5): the answerer's active makes
// us the server, its passive the client. A missing attribute means
// active (RFC 4145 §4); actpass or holdconn in an answer is an error.
func DTLSClient(remote Setup) (bool, error) {
	switch remote {
	case SetupActive, "":
		return false, nil
	case SetupPassive:
		return true, nil
	}
	return false, fmt.Errorf("%w: a=setup:%s in the answer", ErrNoCrypto, remote)
}

// answerDTLS checks a DTLS offer for an answer by l and returns the
// attributes to write: RFC 5763 §5 requires a fingerprint. Without
// rtcp-mux the caller runs a second association on the RTCP port (RFC
// 5764 §4.1.2); the a=setup roles apply to both.
func answerDTLS(l *LocalDTLS, remote Media) ([]psdp.Attribute, error) {
	if !remote.DTLS {
		return nil, fmt.Errorf("%w: DTLS-SRTP required, %s offered", ErrNoCrypto, profileName(remote))
	}
	if len(remote.Fingerprints) == 0 {
		return nil, fmt.Errorf("%w: DTLS offer without a usable a=fingerprint", ErrNoCrypto)
	}
	s, err := answerSetup(remote.Setup)
	if err != nil {
		return nil, err
	}
	if remote.Setup == SetupActPass && (l.Keep == SetupActive || l.Keep == SetupPassive) {
		s = l.Keep
	}
	l.Setup = s
	return dtlsAttrs(l.Fingerprint, s), nil
}

// dtlsAttrs are our a=fingerprint and a=setup lines.
func dtlsAttrs(f Fingerprint, s Setup) []psdp.Attribute {
	return []psdp.Attribute{psdp.NewAttribute("fingerprint", f.String()), psdp.NewAttribute("setup", string(s))}
}

func profileName(m Media) string {
	if m.SAVP {
		return "RTP/SAVP"
	}
	return "RTP/AVP"
}
