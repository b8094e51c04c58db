package media

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTP suites (RFC 4568 §6.2, RFC 7714 §12), as SDES names them.
const (
	SuiteAESCM128SHA1x80 = "AES_CM_128_HMAC_SHA1_80"
	SuiteAESCM128SHA1x32 = "AES_CM_128_HMAC_SHA1_32"
	SuiteAEADAES128GCM   = "AEAD_AES_128_GCM"
)

// srtpReplayWindow is the replay window, in packets, of the receiving
// contexts: RFC 3711 §3.3.2 asks for at least 64.
const srtpReplayWindow = 64

// srtpOverhead bounds what protection adds to a packet: an HMAC-SHA1-80
// tag or a GCM tag (16), plus the SRTCP index (4).
const srtpOverhead = 32

// ErrSRTPKeys reports SRTP keys a stream cannot use: an unknown suite or a
// key||salt of the wrong length.
var ErrSRTPKeys = errors.New("media: unusable SRTP keys")

// SRTPKeys are the SDES keys (RFC 4568) of one call's media. Local and
// Remote are master key||salt: we protect what we send with Local and
// check what we receive with Remote. They are secret: never log them.
type SRTPKeys struct {
	// Suite is one of the Suite constants; "" means plain RTP.
	Suite         string
	Local, Remote []byte
	// RemoteMKI is the master key identifier the peer's SRTP and SRTCP
	// packets carry (RFC 3711 §3.1; RFC 4568 §6.1 <MKI>:<length>), nil when
	// they carry none. We send none.
	RemoteMKI []byte
	// RTCPLocal and RTCPRemote, when set, are SRTCP's own keys: DTLS-SRTP
	// without rtcp-mux keys the RTCP component with its own association
	// (RFC 5764 §4.1.2). Unset, SRTCP uses Local and Remote.
	RTCPLocal, RTCPRemote []byte
}

// srtpState is one set of keys in use. The contexts keep per-SSRC state
// (rollover counter, replay window) and are not safe for concurrent use:
// txRTP belongs to the clock goroutine, rxRTP to the RTP receiver (the
// clock's drain or readRTP: never both), and the two RTCP contexts are
// used under Stream.srtcpMu.
type srtpState struct {
	suite          string
	local, remote  []byte
	rtcpL, rtcpR   []byte // SRTCP's keys (Local and Remote unless set apart)
	remoteMKI      []byte
	txRTP, rxRTP   *srtp.Context
	txRTCP, rxRTCP *srtp.Context
}

// profileOf maps an SDES suite name to pion's profile.
func profileOf(suite string) (srtp.ProtectionProfile, bool) {
	switch suite {
	case SuiteAESCM128SHA1x80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, true
	case SuiteAESCM128SHA1x32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, true
	case SuiteAEADAES128GCM:
		return srtp.ProtectionProfileAeadAes128Gcm, true
	}
	return 0, false
}

// newContext makes a context for a key||salt of profile p. With an mki
// (RFC 3711 §3.1) a sending context writes it into every packet and a
// receiving one refuses packets that do not carry it.
func newContext(p srtp.ProtectionProfile, keySalt []byte, rx bool, mki []byte) (*srtp.Context, error) {
	kl, err := p.KeyLen()
	if err != nil {
		return nil, err
	}
	sl, err := p.SaltLen()
	if err != nil {
		return nil, err
	}
	if len(keySalt) != kl+sl {
		return nil, fmt.Errorf("%w: %d-byte key for %s", ErrSRTPKeys, len(keySalt), p)
	}
	var opts []srtp.ContextOption
	if rx {
		// RFC 3711 §3.3.2: replay protection; pion's default is none.
		opts = append(opts, srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow))
	}
	if len(mki) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(mki))
	}
	c, err := srtp.CreateContext(keySalt[:kl], keySalt[kl:], p, opts...)
	if err != nil {
		return nil, fmt.Errorf("srtp context: %w", err)
	}
	return c, nil
}

// newSRTPState builds the contexts for k, reusing those of old whose key
// did not change, so that a re-INVITE that keeps a key keeps its rollover
// counter and replay window (RFC 3711 §3.3.1; RFC 4568 §7.1.4).
func newSRTPState(k SRTPKeys, old *srtpState) (*srtpState, error) {
	p, ok := profileOf(k.Suite)
	if !ok {
		return nil, fmt.Errorf("%w: suite %q", ErrSRTPKeys, k.Suite)
	}
	rl, rr := k.RTCPLocal, k.RTCPRemote
	if len(rl) == 0 {
		rl = k.Local
	}
	if len(rr) == 0 {
		rr = k.Remote
	}
	st := &srtpState{suite: k.Suite, local: bytes.Clone(k.Local), remote: bytes.Clone(k.Remote), remoteMKI: bytes.Clone(k.RemoteMKI),
		rtcpL: bytes.Clone(rl), rtcpR: bytes.Clone(rr)}
	same := old != nil && old.suite == k.Suite
	sameRx := same && bytes.Equal(old.remoteMKI, k.RemoteMKI)
	var err error
	if same && bytes.Equal(old.local, k.Local) {
		st.txRTP = old.txRTP
	} else if st.txRTP, err = newContext(p, k.Local, false, nil); err != nil {
		return nil, err
	}
	if same && bytes.Equal(old.rtcpL, rl) {
		st.txRTCP = old.txRTCP
	} else if st.txRTCP, err = newContext(p, rl, false, nil); err != nil {
		return nil, err
	}
	if sameRx && bytes.Equal(old.remote, k.Remote) {
		st.rxRTP = old.rxRTP
	} else if st.rxRTP, err = newContext(p, k.Remote, true, k.RemoteMKI); err != nil {
		return nil, err
	}
	if sameRx && bytes.Equal(old.rtcpR, rr) {
		st.rxRTCP = old.rxRTCP
	} else if st.rxRTCP, err = newContext(p, rr, true, k.RemoteMKI); err != nil {
		return nil, err
	}
	return st, nil
}

// SetSRTP switches the stream's protection to k: SRTP with k's keys, or
// plain RTP when k.Suite is "". A context whose key is unchanged is kept
// (see newSRTPState). Safe at any time; the next packet uses the new keys.
func (s *Stream) SetSRTP(k SRTPKeys) error {
	s.srtcpMu.Lock()
	defer s.srtcpMu.Unlock()
	if k.Suite == "" {
		s.sec.Store(nil)
		return nil
	}
	st, err := newSRTPState(k, s.sec.Load())
	if err != nil {
		return err
	}
	s.sec.Store(st)
	return nil
}

// SRTPSuite returns the suite protecting the stream, "" for plain RTP.
func (s *Stream) SRTPSuite() string {
	if st := s.sec.Load(); st != nil {
		return st.suite
	}
	return ""
}

// srtpRx is the receiver's scratch space for unprotecting one packet.
type srtpRx struct {
	plain [maxPacket]byte
	hdr   rtp.Header
}

// unprotectRTP authenticates and decrypts an SRTP packet (RFC 3711 §3.3)
// into the receiver's buffer. A packet that fails (forged, corrupted,
// replayed, another key, plain RTP) is dropped and counted. Only the RTP
// receiver calls it.
func (s *Stream) unprotectRTP(st *srtpState, b []byte) ([]byte, bool) {
	r := &s.srx
	out, err := st.rxRTP.DecryptRTP(r.plain[:0], b, &r.hdr)
	if err != nil || len(out) > len(r.plain) {
		s.srtpDropped.Add(1)
		return nil, false
	}
	return out, true
}

// unprotectRTCP authenticates and decrypts an SRTCP packet (RFC 3711
// §3.4) into dst; failures are dropped and counted.
func (s *Stream) unprotectRTCP(st *srtpState, dst, b []byte) ([]byte, bool) {
	s.srtcpMu.Lock()
	out, err := st.rxRTCP.DecryptRTCP(dst[:0], b, &s.srtcpHdr)
	s.srtcpMu.Unlock()
	if err != nil || len(out) > len(dst) {
		s.srtpDropped.Add(1)
		return nil, false
	}
	return out, true
}

// protectRTCP encrypts and authenticates a compound RTCP packet into the
// stream's SRTCP buffer; the result is valid until the next call, which
// only the sender of RTCP (clock goroutine, or Close off the clock) makes.
func (s *Stream) protectRTCP(st *srtpState, b []byte) ([]byte, error) {
	s.srtcpMu.Lock()
	defer s.srtcpMu.Unlock()
	return st.txRTCP.EncryptRTCP(s.srtcpOut[:0], b, &s.srtcpTxHdr)
}

// srtcpScratch holds what the RTCP path of SRTP needs, under srtcpMu.
type srtcpScratch struct {
	srtcpMu    sync.Mutex
	srtcpHdr   rtcp.Header
	srtcpTxHdr rtcp.Header
	srtcpOut   [maxRTCPLen + srtpOverhead]byte
}
