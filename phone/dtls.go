package phone

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/teaphone/teaphone/phone/dtlssrtp"
	"github.com/teaphone/teaphone/phone/media"
	"github.com/teaphone/teaphone/phone/sdp"
)

// DTLS-SRTP (RFC 5763, RFC 5764) for calls with media.encryption =
// dtls-srtp: the SDP carries our certificate's fingerprint and the roles
// (a=setup), the handshake runs over the call's RTP socket once the call
// is answered, on a goroutine the call owns, and its keys go into the
// stream's SRTP contexts. Nothing is sent before them (media.StreamConfig
// DTLS). With rtcp-mux (RFC 5761) one association keys RTP and RTCP;
// without, the RTCP port has its own (RFC 5764 §4.1.2).

// ErrDTLSRequired reports an answer to our DTLS-SRTP offer that is not
// DTLS-SRTP, or that lacks what the handshake needs.
var ErrDTLSRequired = errors.New("media encryption required (dtls-srtp) but the peer did not agree to DTLS-SRTP")

// dtlsState is a call's DTLS side, under mediaState.mu.
type dtlsState struct {
	cert    *dtlssrtp.Certificate
	client  bool              // our role: a=setup active (RFC 5763 §5)
	remote  []sdp.Fingerprint // the peer's, from its SDP
	started bool              // the handshake was started: later exchanges keep it (RFC 5763 §6.7)
	keyed   bool              // m.keys came from the handshake
	// The RTCP association's keys, without rtcp-mux (RFC 5764 §4.1.2).
	// Secret.
	rtcpLocal, rtcpRemote []byte
	took                  time.Duration // how long the handshake took
}

// dtlsPhone is the phone's DTLS side: one certificate for the phone's
// life, made when the phone is (RFC 8122 §5 lets a certificate serve many
// sessions; its fingerprint is in every SDP), and test seams, atomic so
// that tests may set them on a running phone.
type dtlsPhone struct {
	dtlsCert *dtlssrtp.Certificate
	// dtlsAdvertise, when set, is written in our SDP instead of our
	// fingerprint (tests: a mismatch).
	dtlsAdvertise atomic.Pointer[sdp.Fingerprint]
	// dtlsTimeout bounds handshakes; 0 is dtlssrtp.DefaultTimeout.
	dtlsTimeout atomic.Int64
	// dtlsForceServer makes us the DTLS server whatever the SDP says
	// (tests: a handshake that never starts).
	dtlsForceServer atomic.Bool
}

// initDTLS sets our DTLS side up for a dtls-srtp call.
func (m *mediaState) initDTLS() {
	cert := m.p.dtlsCert
	fp := cert.Fingerprint
	if f := m.p.dtlsAdvertise.Load(); f != nil {
		fp = *f // tests: a fingerprint that is not ours
	}
	m.dtls = &dtlsState{cert: cert}
	m.local.DTLS = &sdp.LocalDTLS{Fingerprint: fp}
}

// answeredDTLSLocked records the peer's side after we answered its offer.
func (m *mediaState) answeredDTLSLocked(remote sdp.Media) {
	if m.dtls.started {
		m.checkSameFingerprintLocked(remote)
		return
	}
	m.dtls.client = m.local.DTLS.Setup == sdp.SetupActive
	m.dtls.remote = remote.Fingerprints
}

// acceptDTLSLocked checks the answer to our DTLS-SRTP offer and records
// our role (RFC 5763 §5: the answerer's active makes us the server).
func (m *mediaState) acceptDTLSLocked(remote sdp.Media) error {
	switch {
	case !remote.DTLS:
		return fmt.Errorf("%w: the answer is %s", ErrDTLSRequired, map[bool]string{true: "RTP/SAVP", false: "RTP/AVP"}[remote.SAVP])
	case len(remote.Fingerprints) == 0:
		return fmt.Errorf("%w: no usable a=fingerprint in the answer", ErrDTLSRequired)
	}
	if m.dtls.started {
		// RFC 5763 §6.7: same transport, same association.
		m.checkSameFingerprintLocked(remote)
		return nil
	}
	client, err := sdp.DTLSClient(remote.Setup)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDTLSRequired, err)
	}
	m.dtls.client, m.dtls.remote = client, remote.Fingerprints
	return nil
}

// checkSameFingerprintLocked logs a peer that changed its certificate in
// a later exchange: that asks for a new association (RFC 5763 §6.7),
// which we do not make; the running one stays.
func (m *mediaState) checkSameFingerprintLocked(remote sdp.Media) {
	same := len(remote.Fingerprints) == len(m.dtls.remote)
	for i := 0; same && i < len(remote.Fingerprints); i++ {
		same = remote.Fingerprints[i].String() == m.dtls.remote[i].String()
	}
	if !same && m.p != nil {
		m.p.log.Warn("dtls: the peer's fingerprint changed in a re-INVITE; keeping the running association", "session", m.id)
	}
}

// dtlsJob is what the handshakes need, taken from mediaState at once:
// one on the RTP port and, when RTCP is not multiplexed, one on the RTCP
// port (RFC 5764 §4.1.2: each component has its own association, with
// the same roles and fingerprints).
type dtlsJob struct {
	cfg       dtlssrtp.Config
	rtp, rtcp *media.DTLSTransport // rtcp nil with rtcp-mux
}

// takeDTLSJob returns the handshakes to run, once per call: ok is false
// without DTLS, without a stream, or when they were started already.
func (m *mediaState) takeDTLSJob() (dtlsJob, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dtls == nil || m.dtls.started || m.stream == nil || m.stream.DTLS() == nil {
		return dtlsJob{}, false
	}
	m.dtls.started = true
	job := dtlsJob{
		cfg: dtlssrtp.Config{Cert: m.dtls.cert, Client: m.dtls.client && !m.p.dtlsForceServer.Load(), Remote: slices.Clone(m.dtls.remote),
			Timeout: time.Duration(m.p.dtlsTimeout.Load())},
		rtp: m.stream.DTLS(),
	}
	if !m.mux {
		job.rtcp = m.stream.DTLSRTCP()
	}
	return job, true
}

// setDTLSKeys installs the keys of the finished handshakes (rtcp's Suite
// is "" with rtcp-mux).
func (m *mediaState) setDTLSKeys(k, rtcp dtlssrtp.Keys, took time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream == nil {
		return nil // the call ended meanwhile
	}
	if rtcp.Suite != "" && rtcp.Suite != k.Suite {
		// pion/srtp's contexts of a stream share one profile.
		return fmt.Errorf("DTLS: the RTP and RTCP associations agreed on %s and %s", k.Suite, rtcp.Suite)
	}
	m.keys = sdp.Keys{Suite: sdp.Suite(k.Suite), Local: k.Local, Remote: k.Remote}
	m.dtls.rtcpLocal, m.dtls.rtcpRemote = rtcp.Local, rtcp.Remote
	m.dtls.keyed, m.dtls.took = true, took
	if err := m.stream.SetSRTP(m.mediaKeysLocked()); err != nil {
		return fmt.Errorf("DTLS: installing the SRTP keys: %w", err)
	}
	m.p.log.Info("srtp: "+k.Suite+" (DTLS)", "session", m.id, "handshake", took.Round(time.Millisecond),
		"role", map[bool]string{true: "client", false: "server"}[m.dtls.client], "rtcp_association", rtcp.Suite != "")
	return nil
}

// dtlsMediaKeysLocked adds the RTCP association's keys, if any, to k.
func (m *mediaState) dtlsMediaKeysLocked(k media.SRTPKeys) media.SRTPKeys {
	if m.dtls != nil && m.dtls.keyed {
		k.RTCPLocal, k.RTCPRemote = m.dtls.rtcpLocal, m.dtls.rtcpRemote
	}
	return k
}

// peerByeGrace is how long a side whose handshake the peer aborted waits
// for the peer's BYE before sending its own.
const peerByeGrace = time.Second

// startDTLS starts the call's handshakes once its media runs; the
// goroutine keeps the associations until the call ends (its context),
// and a failure ends the call with BYE and the reason.
func (c *call) startDTLS() {
	job, ok := c.media.takeDTLSJob()
	if !ok {
		return
	}
	c.p.spawn(func() { c.runDTLS(job) })
}

// handshakeResult is one association's outcome.
type handshakeResult struct {
	sess *dtlssrtp.Session
	keys dtlssrtp.Keys
	err  error
}

func (r handshakeResult) close() {
	if r.sess != nil {
		_ = r.sess.Close()
	}
}

func (c *call) runDTLS(job dtlsJob) {
	start := time.Now()
	var rtp, rtcp handshakeResult
	rtp.sess, rtp.keys, rtp.err = dtlssrtp.Handshake(c.ctx, job.rtp, job.rtp.RemoteAddr(), job.cfg)
	if rtp.err == nil && job.rtcp != nil {
		// The RTCP port's association only after the RTP port's: baresip
		// 1.0 takes the first of its associations to finish for the whole
		// stream's and starts sending RTP, in clear if that was the RTCP
		// one. A peer's early ClientHello waits in the transport's queue.
		rtcp.sess, rtcp.keys, rtcp.err = dtlssrtp.Handshake(c.ctx, job.rtcp, job.rtcp.RemoteAddr(), job.cfg)
		if rtcp.err != nil {
			rtcp.err = fmt.Errorf("%w (RTCP port)", rtcp.err)
		}
	}
	err := rtp.err
	if err == nil {
		err = rtcp.err
	}
	if err == nil {
		err = c.media.setDTLSKeys(rtp.keys, rtcp.keys, time.Since(start))
	}
	if err != nil {
		rtp.close()
		rtcp.close()
		c.dtlsFailed(err)
		return
	}
	c.changed("DTLS-SRTP")
	<-c.ctx.Done()
	rtp.close()
	rtcp.close()
}

// dtlsFailed ends the call after a failed handshake, with BYE and the
// reason, unless it ended already.
func (c *call) dtlsFailed(err error) {
	if c.ctx.Err() != nil {
		return // the call ended first
	}
	if !errors.Is(err, dtlssrtp.ErrFingerprintMismatch) && !errors.Is(err, dtlssrtp.ErrTimeout) {
		// The peer aborted (an alert): it knows why and hangs up with its
		// reason; give its BYE a moment before ours.
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(peerByeGrace):
		}
	}
	c.p.log.Warn("dtls: handshake failed: hanging up", "session", c.id, "err", err)
	c.cancel(err)
	c.bye(488, err.Error(), err.Error())
}

// dtlsOn reports whether the call does DTLS-SRTP.
func (m *mediaState) dtlsOn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dtls != nil
}

// dtlsHandshakeTime returns how long the call's handshake took, 0 before
// it finished (tests, logs).
func (m *mediaState) dtlsHandshakeTime() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dtls == nil {
		return 0
	}
	return m.dtls.took
}
