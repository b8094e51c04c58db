package phone

import (
	"net"
	"sync"

	"github.com/teaphone/teaphone/phone/sdp"
)

// mediaState is one call's offer/answer state (RFC 3264) and, once media is
// wired, its RTP stream.
type mediaState struct {
	mu       sync.Mutex
	local    sdp.Local
	localDir sdp.Direction // what we want: SendRecv, or SendOnly/Inactive while holding
	holdC0   bool
	remote   sdp.Media
	codec    sdp.Codec
	haveAns  bool // an offer/answer exchange has completed
}

func (m *mediaState) init(p *Phone, rtp *net.UDPConn) {
	m.local = sdp.Local{
		Addr:     p.hostIP.String(),
		Port:     rtp.LocalAddr().(*net.UDPAddr).Port,
		Codecs:   p.opts.Codecs,
		Username: "teaphone",
	}
	m.localDir = sdp.SendRecv
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
	m.remote, m.codec, m.haveAns = remote, chosen, true
	return nil
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

// start begins RTP after the first offer/answer exchange; update applies a
// changed description; stop ends the stream. They are wired to the media
// engine in media.go.
func (m *mediaState) start()  {}
func (m *mediaState) update() {}
func (m *mediaState) stop()   {}

// setMute sends silence instead of the source while on.
func (m *mediaState) setMute(on bool) {}

// sendDTMF queues an RFC 4733 event; false when telephone-event was not
// negotiated or no stream runs (the caller falls back to SIP INFO).
func (m *mediaState) sendDTMF(d rune) bool { return false }
