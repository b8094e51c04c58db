package phone

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/media"
	"github.com/teaphone/teaphone/phone/sdp"
)

// Encryption is the media encryption policy of a call (config
// media.encryption, or an account's own).
type Encryption string

// The policies. SRTP keys are exchanged in the SDP (SDES, RFC 4568), so
// they are only as private as the signalling hop (use TLS).
const (
	// EncryptionNone offers plain RTP/AVP, ignores a=crypto in offers and
	// refuses RTP/SAVP offers (488). "" means the same.
	EncryptionNone Encryption = "none"
	// EncryptionSRTPOptional offers RTP/AVP with a=crypto (the best-effort
	// convention of baresip's srtp module and Asterisk) and uses SRTP when
	// the answer carries a key; it accepts RTP/SAVP and a=crypto offers and
	// plain ones.
	EncryptionSRTPOptional Encryption = "srtp-optional"
	// EncryptionSRTPMandatory offers RTP/SAVP (RFC 3711 §12), refuses offers
	// without a usable key with 488 and hangs up on an answer without one.
	EncryptionSRTPMandatory Encryption = "srtp-mandatory"
	// EncryptionDTLSSRTP offers DTLS-SRTP (UDP/TLS/RTP/SAVP, RFC 5764 §8)
	// and accepts only DTLS-SRTP offers (else 488): the keys come from a
	// DTLS handshake on the media port, checked against the certificate
	// fingerprint of the peer's SDP (RFC 5763), so they never appear in
	// the signalling. Without rtcp-mux the RTCP port has its own
	// association (RFC 5764 §4.1.2).
	EncryptionDTLSSRTP Encryption = "dtls-srtp"
)

// Valid reports whether e is one of the policies or "".
func (e Encryption) Valid() bool {
	switch e {
	case "", EncryptionNone, EncryptionSRTPOptional, EncryptionSRTPMandatory, EncryptionDTLSSRTP:
		return true
	}
	return false
}

// ErrSRTPRequired reports a call that had to be encrypted and could not
// be: the answer to our RTP/SAVP offer carried no usable a=crypto key.
var ErrSRTPRequired = errors.New("media encryption required (srtp-mandatory) but the peer agreed to no SRTP key")

// errRetrySAVP asks runOutgoing to send the INVITE again to the same
// server, offering RTP/SAVP.
var errRetrySAVP = errors.New("488 to RTP/AVP with a=crypto: retry with RTP/SAVP")

// retrySAVPAfter488 decides whether a failed INVITE is sent again as
// RTP/SAVP: srtp-optional offers RTP/AVP with a=crypto (best effort, so
// that a plain peer answers in plain RTP), which a peer that only does
// RTP/SAVP refuses with 488 (RFC 3261 §21.4.26; baresip's srtp-mand does).
// We then offer once more with RTP/SAVP and the same keys, the same
// Call-ID and From tag and the next CSeq, as after a 422; a second 488
// ends the call. Mandatory calls already offer RTP/SAVP and plain ones
// have nothing to retry.
func (c *call) retrySAVPAfter488(err error) bool {
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != sip.StatusNotAcceptableHere || !c.media.offerSAVP() {
		return false
	}
	c.mu.Lock()
	if cs := de.Res.CSeq(); cs != nil {
		c.uacAsk.cseq = cs.SeqNo + 1
	}
	c.mu.Unlock()
	c.p.log.Info("488 to our RTP/AVP offer with SRTP keys: offering RTP/SAVP", "session", c.id)
	return true
}

// offerSAVP switches an srtp-optional call's offers to RTP/SAVP; it
// reports false when they are RTP/SAVP already or carry no keys.
func (m *mediaState) offerSAVP() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.local.SRTP
	if s == nil || s.Mandatory || s.SAVP {
		return false
	}
	s.SAVP = true
	return true
}

// savpRetried reports whether an srtp-optional call was offered again as
// RTP/SAVP (retrySAVPAfter488).
func (m *mediaState) savpRetried() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.local.SRTP != nil && m.local.SRTP.SAVP && !m.local.SRTP.Mandatory
}

// encryption returns the policy of a call on acct (nil: a direct call).
func (p *Phone) encryption(acct *account) Encryption {
	if acct != nil && acct.cfg.Encryption != "" {
		return acct.cfg.Encryption
	}
	return p.opts.Encryption
}

// initSRTP sets our SDES side for policy e.
func (m *mediaState) initSRTP(e Encryption) {
	switch e {
	case EncryptionSRTPOptional:
		m.local.SRTP = &sdp.SRTP{}
	case EncryptionSRTPMandatory:
		m.local.SRTP = &sdp.SRTP{Mandatory: true}
	case EncryptionDTLSSRTP:
		m.initDTLS()
	}
}

// answeredKeysLocked records the keys of the answer we just made to
// remote (RFC 4568 §7.1.2); sdp.Answer already refused what the policy
// does not allow.
func (m *mediaState) answeredKeysLocked(remote sdp.Media) {
	if m.dtls != nil {
		m.answeredDTLSLocked(remote) // the keys come from the handshake
		return
	}
	k, _ := m.local.SRTP.AnswerKeys(remote)
	m.setKeysLocked(k)
}

// acceptKeysLocked takes the keys of an answer to our offer (RFC 4568
// §7.1.3). Without a usable key the call is plain RTP, or fails with
// ErrSRTPRequired when it must be encrypted.
func (m *mediaState) acceptKeysLocked(remote sdp.Media) error {
	if m.dtls != nil {
		return m.acceptDTLSLocked(remote)
	}
	if m.local.SRTP == nil {
		if remote.SAVP {
			return fmt.Errorf("%w: RTP/SAVP answer to a plain offer", sdp.ErrNoCrypto)
		}
		m.setKeysLocked(sdp.Keys{})
		return nil
	}
	k, ok := m.local.SRTP.Accept(remote.Crypto)
	if !ok && (m.local.SRTP.Mandatory || remote.SAVP) {
		return ErrSRTPRequired
	}
	m.setKeysLocked(k)
	return nil
}

// setKeysLocked keeps k for the stream and logs the suite when it
// changes: the suite only, never a key.
func (m *mediaState) setKeysLocked(k sdp.Keys) {
	if m.p != nil && k.Suite != m.keys.Suite {
		if k.Suite != "" {
			m.p.log.Info("srtp: "+string(k.Suite), "session", m.id)
		} else if m.local.SRTP != nil {
			m.p.log.Info("srtp: off (the peer sent no usable key)", "session", m.id)
		}
	}
	m.keys = k
}

// mediaKeysLocked is m.keys for the media engine.
func (m *mediaState) mediaKeysLocked() media.SRTPKeys {
	return m.dtlsMediaKeysLocked(media.SRTPKeys{Suite: string(m.keys.Suite), Local: m.keys.Local, Remote: m.keys.Remote, RemoteMKI: m.keys.RemoteMKI})
}

// srtpSuite returns the suite protecting the call's media, "" for none;
// for DTLS-SRTP the suite and " (DTLS)" once the handshake keyed it, and
// SRTPHandshaking while the media waits for its keys.
func (m *mediaState) srtpSuite() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dtls != nil {
		switch {
		case m.dtls.keyed:
			return dtlsLabel(string(m.keys.Suite))
		case m.stream != nil:
			return SRTPHandshaking
		}
	}
	return string(m.keys.Suite)
}

// dtlsLabel is suite marked as keyed by DTLS ("" stays "").
func dtlsLabel(suite string) string {
	if suite == "" {
		return ""
	}
	return suite + " (DTLS)"
}

// srtpMandatory reports whether the call must be encrypted.
func (m *mediaState) srtpMandatory() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.local.SRTP != nil && m.local.SRTP.Mandatory
}

// redactSDESKeys returns msg with the key of every a=crypto inline: key
// parameter (RFC 4568 §9.1) replaced by "[redacted]", for traces and logs;
// msg itself is not changed. Without "inline:" it returns msg.
func redactSDESKeys(msg []byte) []byte {
	const tag = "inline:"
	low := bytes.ToLower(msg)
	if !bytes.Contains(low, []byte(tag)) {
		return msg
	}
	out := make([]byte, 0, len(msg))
	for {
		i := bytes.Index(low, []byte(tag))
		if i < 0 {
			return append(out, msg...)
		}
		i += len(tag)
		out = append(out, msg[:i]...)
		out = append(out, "[redacted]"...)
		j := i
		for j < len(msg) && isBase64Char(msg[j]) {
			j++
		}
		msg, low = msg[j:], low[j:]
	}
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}
