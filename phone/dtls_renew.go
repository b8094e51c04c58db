package phone

import (
	"net"
	"strconv"
	"strings"

	"github.com/teaphone/teaphone/phone/sdp"
)

// A new DTLS association for a call whose exchange changed what the
// running one was made for. RFC 5763 §6.7 and RFC 5764 §4 (RFC 8842 §5
// in today's words): a changed fingerprint (either side's), changed
// roles or a changed transport (the peer's media address or port) need a
// new association; anything else (hold, resume, a session refresh) keeps
// the running one, with its roles. Until the new handshake gives keys
// nothing is sent (media.Stream.RenewDTLS): never plain RTP.

// assocKey is what an association is made for.
type assocKey struct {
	client bool
	local  string // our fingerprint, as our SDP advertises it
	remote string // the peer's fingerprints
	addr   string // the peer's media address, host:port
}

// assocKeyLocked is the key of the last exchange. A peer on hold with
// c=0.0.0.0 (RFC 3264 §8.4) or port 0 keeps the running address: that is
// no new transport.
func (m *mediaState) assocKeyLocked() assocKey {
	fps := make([]string, len(m.dtls.remote))
	for i, f := range m.dtls.remote {
		fps[i] = f.String()
	}
	k := assocKey{client: m.dtls.client, local: m.local.DTLS.Fingerprint.String(), remote: strings.Join(fps, " "), addr: m.dtls.cur.addr}
	if !m.remote.HoldC0 && m.remote.Port != 0 {
		k.addr = net.JoinHostPort(m.remote.Addr, strconv.Itoa(m.remote.Port))
	}
	return k
}

// setKeepLocked makes our next answer keep the running association's
// roles when the offer lets us choose (sdp.LocalDTLS.Keep).
func (m *mediaState) setKeepLocked() {
	m.local.DTLS.Keep = sdp.SetupPassive
	if m.dtls.client {
		m.local.DTLS.Keep = sdp.SetupActive
	}
}

// renewDTLSLocked asks the DTLS goroutine for a new association when the
// exchange that just took effect changed what the running one was made
// for; it runs in update, after every exchange.
func (m *mediaState) renewDTLSLocked() {
	if m.dtls == nil || !m.dtls.started || m.stream == nil {
		return
	}
	k := m.assocKeyLocked()
	if k == m.dtls.cur {
		return
	}
	m.p.log.Info("dtls: the exchange changed the association: a new handshake", "session", m.id,
		"fingerprint", k.remote != m.dtls.cur.remote, "our_fingerprint", k.local != m.dtls.cur.local,
		"roles", k.client != m.dtls.cur.client, "address", k.addr != m.dtls.cur.addr)
	m.dtls.cur = k // asked once
	select {
	case m.dtls.renew <- struct{}{}:
	default: // asked already: the goroutine takes the latest exchange
	}
}

// renewDTLSJob drops the stream's keys and transports for fresh ones and
// returns the new association's handshakes; ok is false once the stream
// is gone.
func (m *mediaState) renewDTLSJob() (dtlsJob, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream == nil {
		return dtlsJob{}, false
	}
	rtp, rtcp := m.stream.RenewDTLS()
	if rtp == nil {
		return dtlsJob{}, false
	}
	m.keys, m.dtls.keyed = sdp.Keys{}, false
	m.dtls.rtcpLocal, m.dtls.rtcpRemote = nil, nil
	if m.mux {
		rtcp = nil
	}
	return m.dtlsJobLocked(rtp, rtcp), true
}

// dtlsHandshakes returns how many handshakes of the call finished (tests).
func (m *mediaState) dtlsHandshakes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dtls == nil {
		return 0
	}
	return m.dtls.handshakes
}
