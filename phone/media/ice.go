package media

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/pion/stun/v3"
)

// ICE-lite (RFC 8445 §2.5): a peer that does ICE (baresip's ice module,
// linphone, browsers through a gateway) sends STUN Binding requests to our
// candidates, the RTP and RTCP ports, and waits for their answers before
// it sends media. A lite agent gathers nothing and sends no checks; it
// answers each valid check (RFC 8445 §7.3) and, when the controlling peer
// nominates a pair (USE-CANDIDATE, §7.3.1.5), sends that component's media
// to where the nominating check came from. RFC 7983 §7 tells STUN from
// RTP and RTCP by the first byte.
//
// Checks are rare (a few per call), so this path may allocate.

// ICECredentials are our ICE username fragment and password for a stream;
// empty: ICE is off and STUN on the media ports is dropped as garbage.
type ICECredentials struct {
	Ufrag, Pwd string
}

// stunMagic is the magic cookie of RFC 5389 §6.
const stunMagic = 0x2112A442

// looksLikeSTUN: first byte 0..3 (RFC 7983 §7), the magic cookie, and a
// length that fits.
func looksLikeSTUN(b []byte) bool {
	return len(b) >= 20 && b[0] < 4 && binary.BigEndian.Uint32(b[4:8]) == stunMagic &&
		int(binary.BigEndian.Uint16(b[2:4]))+20 == len(b)
}

// SetICE sets our ICE credentials (RFC 8839 §5.4), those written in our
// SDP; empty ones turn ICE off.
func (s *Stream) SetICE(c ICECredentials) {
	s.mu.Lock()
	s.ice = c
	s.mu.Unlock()
}

// iceCheck is the verdict on one STUN message received on a media port.
type iceCheck struct {
	reply    []byte // to send back to the sender; nil: nothing
	nominate bool   // a valid check with USE-CANDIDATE
}

// answerCheck validates b as an ICE connectivity check for creds (RFC 8445
// §7.3, RFC 5389 §10.1.2) and builds the answer: a success with
// XOR-MAPPED-ADDRESS from, MESSAGE-INTEGRITY and FINGERPRINT; 400 for a
// request without USERNAME or MESSAGE-INTEGRITY; 401 for another username
// or a wrong integrity. Anything that is not a Binding request (an
// indication, a response, garbage) gets nothing.
func answerCheck(b []byte, from netip.AddrPort, creds ICECredentials) iceCheck {
	if creds.Ufrag == "" || creds.Pwd == "" {
		return iceCheck{}
	}
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil || m.Type != stun.BindingRequest {
		return iceCheck{}
	}
	// RFC 8445 §7.2.2: checks carry FINGERPRINT; a wrong one is not STUN.
	if m.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(m) != nil {
		return iceCheck{}
	}
	var user stun.Username
	if user.GetFrom(m) != nil || !m.Contains(stun.AttrMessageIntegrity) {
		return iceCheck{reply: stunError(m, stun.CodeBadRequest)}
	}
	// RFC 8445 §7.3: USERNAME is "ours:theirs".
	if lfrag, _, ok := strings.Cut(string(user), ":"); !ok || lfrag != creds.Ufrag {
		return iceCheck{reply: stunError(m, stun.CodeUnauthorized)}
	}
	key := stun.NewShortTermIntegrity(creds.Pwd)
	if key.Check(m) != nil {
		return iceCheck{reply: stunError(m, stun.CodeUnauthorized)}
	}
	res, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())}, key, stun.Fingerprint)
	if err != nil {
		return iceCheck{}
	}
	return iceCheck{reply: res.Raw, nominate: m.Contains(stun.AttrUseCandidate)}
}

// stunError is an error response to m (RFC 5389 §7.3.1.1), without
// MESSAGE-INTEGRITY: the request could not be authenticated.
func stunError(m *stun.Message, code stun.ErrorCode) []byte {
	res, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingError, code, stun.Fingerprint)
	if err != nil {
		return nil
	}
	return res.Raw
}

// handleSTUN answers a STUN message that arrived on the RTP socket
// (component 1) or, rtcp set, the RTCP socket (component 2). A nominated
// pair moves that component's destination to the check's source.
func (s *Stream) handleSTUN(b []byte, from netip.AddrPort, rtcp bool) {
	from = unmap(from)
	s.mu.Lock()
	creds := s.ice
	s.mu.Unlock()
	chk := answerCheck(b, from, creds)
	if chk.reply == nil {
		s.garbage.Add(1)
		return
	}
	var err error
	if rtcp {
		_, err = s.rtcpConn.WriteToUDPAddrPort(chk.reply, from)
	} else {
		err = s.writeRTP(chk.reply, from)
	}
	if err != nil {
		s.e.log.Debug("ice: answering a check", "from", from, "err", err)
	}
	if !chk.nominate {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if rtcp {
		if s.dstRTCP != from {
			s.e.log.Debug("ice: RTCP pair nominated", "remote", from)
		}
		s.dstRTCP, s.rtcpLatch = from, true
		return
	}
	if s.dst != from {
		s.e.log.Debug("ice: RTP pair nominated", "remote", from)
	}
	s.dst, s.latched = from, true
}
