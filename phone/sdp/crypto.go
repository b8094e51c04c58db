package sdp

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Suite is an SRTP crypto-suite name of an a=crypto line (RFC 4568 §6.2).
type Suite string

// The suites this package negotiates.
const (
	// AESCM128SHA1x80 is RFC 4568 §6.2.1: AES counter mode, 128-bit key,
	// 112-bit salt, 80-bit HMAC-SHA1 tag.
	AESCM128SHA1x80 Suite = "AES_CM_128_HMAC_SHA1_80"
	// AESCM128SHA1x32 is RFC 4568 §6.2.2: the same with a 32-bit tag.
	AESCM128SHA1x32 Suite = "AES_CM_128_HMAC_SHA1_32"
	// AEADAES128GCM is RFC 7714 §12: AES-GCM, 128-bit key, 96-bit salt.
	AEADAES128GCM Suite = "AEAD_AES_128_GCM"
)

// Suites lists the supported suites in our default order of preference.
var Suites = []Suite{AESCM128SHA1x80, AEADAES128GCM, AESCM128SHA1x32}

// KeyLen returns the length of the inline key||salt of s (16 byte key plus
// 14 byte salt for AES-CM, RFC 4568 §6.2.1; plus 12 for AES-GCM, RFC 7714
// §12), or 0 when s is not supported.
func (s Suite) KeyLen() int {
	switch s {
	case AESCM128SHA1x80, AESCM128SHA1x32:
		return 30
	case AEADAES128GCM:
		return 28
	}
	return 0
}

// Crypto is one usable a=crypto line (RFC 4568 §9.1):
//
//	a=crypto:<tag> <crypto-suite> inline:<key||salt>[|<lifetime>][|<MKI>:<length>] [<session-param> …]
//
// Only lines this package can use are kept: a supported suite, exactly one
// key parameter with a key of the suite's length, and no session parameter
// we cannot honour (see sessionParamOK).
type Crypto struct {
	// Tag identifies the line within its m= section, 0-999999999 (§9.1).
	Tag int
	// Suite is the crypto suite.
	Suite Suite
	// Key is the master key followed by the master salt. It is secret:
	// never log it.
	Key []byte
	// MKI is the master key identifier the line's sender puts into each
	// SRTP and SRTCP packet (RFC 3711 §3.1), big-endian in exactly
	// <length> bytes (RFC 4568 §6.1); nil when the line has none.
	MKI []byte
}

// maxMKILen is the largest <length> of an MKI, in bytes (RFC 4568 §9.1:
// mki-length = 1*3DIGIT, 1 to 128).
const maxMKILen = 128

// String returns the a=crypto value, key included: write it only into SDP.
func (c Crypto) String() string {
	s := strconv.Itoa(c.Tag) + " " + string(c.Suite) + " inline:" + base64.StdEncoding.EncodeToString(c.Key)
	if len(c.MKI) > 0 {
		s += "|" + new(big.Int).SetBytes(c.MKI).String() + ":" + strconv.Itoa(len(c.MKI))
	}
	return s
}

// ParseCrypto parses the value of an a=crypto attribute. It fails for a
// malformed line and for one this package cannot use (see Crypto); callers
// ignore such lines (RFC 4568 §7.1.1 lets an answerer pick among the usable
// ones).
func ParseCrypto(v string) (Crypto, error) {
	bad := func(why string) (Crypto, error) {
		// The value holds a key: never put it into the error.
		return Crypto{}, fmt.Errorf("%w: a=crypto: %s", ErrMalformed, why)
	}
	f := strings.Fields(v)
	if len(f) < 3 {
		return bad("fewer than three fields")
	}
	// RFC 4568 §6.3: session parameters follow the key parameters; one we
	// cannot honour makes the line unusable (an unknown one must not be
	// accepted).
	for _, p := range f[3:] {
		if !sessionParamOK(p) {
			return bad("session parameter")
		}
	}
	// §9.1: tag = 1*9DIGIT.
	if len(f[0]) > 9 || strings.Trim(f[0], "0123456789") != "" {
		return bad("tag")
	}
	tag, _ := strconv.Atoi(f[0])
	s := Suite(f[1])
	if s.KeyLen() == 0 {
		return bad("unsupported suite")
	}
	// §9.1: key-params = key-param *(";" key-param); several keys, told
	// apart by their MKIs, would need rekeying by MKI: not supported.
	kp := f[2]
	if strings.Contains(kp, ";") {
		return bad("several keys")
	}
	method, info, ok := strings.Cut(kp, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return bad("key method")
	}
	// §9.1: srtp-key-info = key-salt ["|" lifetime] ["|" mki], in that order.
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return bad("key parameters")
	}
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(parts[0])
	}
	if err != nil || len(key) != s.KeyLen() {
		return bad("key length")
	}
	var mki []byte
	for i, p := range parts[1:] {
		if !strings.Contains(p, ":") {
			if i > 0 || !validLifetime(p) {
				return bad("lifetime")
			}
			continue
		}
		if i+2 != len(parts) {
			return bad("MKI before the lifetime")
		}
		if mki, ok = parseMKI(p); !ok {
			return bad("MKI")
		}
	}
	return Crypto{Tag: tag, Suite: s, Key: key, MKI: mki}, nil
}

// parseMKI parses RFC 4568 §9.1's mki = mki-value ":" mki-length, a
// decimal value and its length in bytes (1-128), into the value's
// big-endian bytes of that length. A value too large for its length is
// refused.
func parseMKI(p string) ([]byte, bool) {
	val, length, _ := strings.Cut(p, ":")
	if val == "" || strings.Trim(val, "0123456789") != "" || length == "" || len(length) > 3 || strings.Trim(length, "0123456789") != "" {
		return nil, false
	}
	n, _ := strconv.Atoi(length)
	// 309 digits hold any 128-byte value; more cannot fit.
	if n < 1 || n > maxMKILen || len(val) > 309 {
		return nil, false
	}
	v, ok := new(big.Int).SetString(val, 10)
	if !ok || v.BitLen() > 8*n {
		return nil, false
	}
	return v.FillBytes(make([]byte, n)), true
}

// sessionParamOK reports whether we can honour the session parameter p
// (RFC 4568 §6.3). WSH (window size hint) only tells the receiver how
// much reordering to expect; we keep our replay window (64, RFC 3711
// §3.3.2) whatever it says, and a hint below 64 is malformed. FEC_ORDER
// only orders SRTP and FEC, and we negotiate no FEC. The others cannot be
// honoured: KDR asks for key re-derivation, which pion/srtp does not do;
// UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP and UNAUTHENTICATED_SRTP would carry
// media we present as protected in clear or unauthenticated, so we refuse
// them; FEC_KEY keys FEC; anything else is unknown, and §6.3 forbids
// accepting a line with an unknown session parameter.
func sessionParamOK(p string) bool {
	name, val, _ := strings.Cut(p, "=")
	switch name {
	case "WSH":
		n, err := strconv.Atoi(val)
		return err == nil && n >= 64
	case "FEC_ORDER":
		return val == "FEC_SRTP" || val == "SRTP_FEC"
	}
	return false
}

// validLifetime checks a §9.1 lifetime: ["2^"] 1*DIGIT. The value itself is
// not enforced: we never send 2^31 packets with one key in a call.
func validLifetime(p string) bool {
	p = strings.TrimPrefix(p, "2^")
	return p != "" && len(p) <= 20 && strings.Trim(p, "0123456789") == ""
}

// NewKey returns a fresh random key||salt for s.
func NewKey(s Suite) ([]byte, error) {
	n := s.KeyLen()
	if n == 0 {
		return nil, fmt.Errorf("%w: suite %q", ErrInvalidLocal, s)
	}
	k := make([]byte, n)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("sdp: srtp key: %w", err)
	}
	return k, nil
}
