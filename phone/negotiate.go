package phone

import (
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/phone/media"

	"github.com/teaphone/teaphone/phone/sdp"
)

// mediaState is one call's offer/answer state (RFC 3264) and, once media is
// wired, its RTP stream.
type mediaState struct {
	p        *Phone
	id       SessionID
	mu       sync.Mutex
	rtp      *net.UDPConn
	rtcp     *net.UDPConn
	stream   *media.Stream
	muted    bool
	src      audio.Source // override (play), nil = the provider's
	sink     audio.Sink   // override, nil = the provider's
	defSrc   audio.Source
	defSink  audio.Sink
	release  func()
	rec      *recorder
	confIn   audio.Source // conference: the other call's audio, mixed into ours
	confOut  audio.Sink   // conference: where our remote's audio goes for the other call
	stopped  bool
	local    sdp.Local
	localDir sdp.Direction // what we want: SendRecv, or SendOnly/Inactive while holding
	holdC0   bool
	remote   sdp.Media
	codec    sdp.Codec
	rate     int                  // the stream's audio rate (its codec's), once started
	haveAns  bool                 // an offer/answer exchange has completed
	ice      media.ICECredentials // ours, when Options.ICE
	mux      bool                 // RTCP multiplexed on the RTP port, as the last exchange agreed
	haveMux  bool                 // mux was set once (logging)
	keys     sdp.Keys             // SRTP keys in use (SDES or DTLS); Suite "" = plain RTP. Secret.
	dtls     *dtlsState           // DTLS-SRTP, nil unless media.encryption = dtls-srtp
}

func (m *mediaState) init(p *Phone, id SessionID, rtp, rtcp *net.UDPConn, enc Encryption) {
	m.p, m.id, m.rtp, m.rtcp = p, id, rtp, rtcp
	m.holdC0 = p.opts.HoldC0
	m.local = sdp.Local{
		Addr:     p.hostIP.String(),
		Port:     rtp.LocalAddr().(*net.UDPAddr).Port,
		Codecs:   p.opts.Codecs,
		Username: "-",
		RTCPMux:  !p.opts.NoRTCPMux,
	}
	m.localDir = sdp.SendRecv
	m.initSRTP(enc)
	if p.opts.ICE {
		m.ice = newICECredentials()
		m.local.ICE = &sdp.LocalICE{Ufrag: m.ice.Ufrag, Pwd: m.ice.Pwd,
			Host: netip.AddrPortFrom(hostAddr(p.hostIP.String()), uint16(m.local.Port))}
	}
}

func (m *mediaState) codecName() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.haveAns {
		return ""
	}
	return m.codec.Name
}

// offer builds a new offer in the current local direction.
func (m *mediaState) offer() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sdp.Offer(&m.local, m.localDir, m.holdC0)
}

// answer answers a remote offer (initial INVITE or re-INVITE).
func (m *mediaState) answer(offer []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ans, remote, chosen, err := sdp.Answer(&m.local, offer, m.localDir)
	if err != nil {
		return nil, err
	}
	m.remote, m.codec, m.haveAns = remote, chosen, true
	m.answeredKeysLocked(remote)
	m.logRemoteLocked("offer")
	// RFC 5761 §5.1.1: our answer carried a=rtcp-mux iff this is set.
	m.setMuxLocked(m.local.RTCPMux && remote.RTCPMux, "answer")
	return ans, nil
}

// applyAnswer takes the remote answer to our offer.
func (m *mediaState) applyAnswer(answer []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	remote, chosen, err := sdp.ParseAnswer(answer)
	if err != nil {
		return err
	}
	if err := m.acceptKeysLocked(remote); err != nil {
		return err
	}
	m.remote, m.codec, m.haveAns = remote, chosen, true
	m.logRemoteLocked("answer")
	// RFC 5761 §5.1.1: without a=rtcp-mux in the answer we must not
	// multiplex; RFC 8035 §3: an a=rtcp-mux we did not offer is ignored.
	m.setMuxLocked(m.local.RTCPMux && remote.RTCPMux, "offer")
	return nil
}

// logRemoteLocked logs, for support, where the peer's SDP (its offer or
// answer) asks us to send media, and where ours said to send it to us: a
// private address on either side of a NAT is the usual one-way audio.
func (m *mediaState) logRemoteLocked(kind string) {
	if m.p == nil {
		return
	}
	m.p.log.Debug("sdp: media addresses", "session", m.id, "remote_"+kind, net.JoinHostPort(m.remote.Addr, strconv.Itoa(m.remote.Port)),
		"local", net.JoinHostPort(m.local.Addr, strconv.Itoa(m.local.Port)), "codec", m.codec.Name)
}

// setMuxLocked records whether RTCP is multiplexed (RFC 5761) after an
// offer/answer exchange in which we were role ("offer" or "answer"), and
// logs it when it changes.
//
// Every exchange decides anew, as RFC 8858 §4.5 has it for a session
// update: an offer without a=rtcp-mux falls back to separate RTCP once
// answered. Our own offers always carry a=rtcp-mux (unless
// Options.NoRTCPMux), with a=rtcp naming the separate port, so re-INVITEs
// for hold and resume keep what the first exchange agreed with a peer that
// answers alike each time (§4.5 recommends not switching).
func (m *mediaState) setMuxLocked(on bool, role string) {
	if m.p != nil && (on != m.mux || !m.haveMux) {
		m.p.log.Debug("rtcp-mux", "session", m.id, "on", on, "we", role,
			"offered", m.local.RTCPMux, "remote", m.remote.RTCPMux)
	}
	m.mux, m.haveMux = on, true
}

// remoteHolds reports whether the remote's last description puts us on hold
// (it does not want to receive from us... i.e. it sends nothing or only sends).
func (m *mediaState) remoteHolds() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.haveAns && !m.remote.Direction.Recvs()
}

func (m *mediaState) getLocalDir() sdp.Direction {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.localDir
}

func (m *mediaState) setLocalDir(d sdp.Direction) {
	m.mu.Lock()
	m.localDir = d
	m.mu.Unlock()
}
