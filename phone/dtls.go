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
// without, the RTCP port has its own (RFC 5764 §4.1.2). A later exchange
// keeps the association, unless it changes a fingerprint, the roles or
// the peer's transport: then a new one replaces it (dtls_renew.go).

// ErrDTLSRequired reports an answer to our DTLS-SRTP offer that is not
// DTLS-SRTP, or that lacks what the handshake needs.
var ErrDTLSRequired = errors.New("media encryption required (dtls-srtp) but the peer did not agree to DTLS-SRTP")

// dtlsState is a call's DTLS side, under mediaState.mu.
type dtlsState struct {
	cert    *dtlssrtp.Certificate
	client  bool              // our role: a=setup active (RFC 5763 §5), as the last exchange said
	remote  []sdp.Fingerprint // the peer's, from its last SDP
	started bool              // the first handshake was started
	keyed   bool              // m.keys came from the running association's handshake
	// The RTCP association's keys, without rtcp-mux (RFC 5764 §4.1.2).
	// Secret.
	rtcpLocal, rtcpRemote []byte
	took                  time.Duration // how long the last handshake took
	// cur is what the running (or running-to-be) association was made
	// for; an exchange that changes it asks for a new one (renew).
	cur        assocKey
	renew      chan struct{} // cap 1: a new association is due (dtls_renew.go)
	handshakes int           // handshakes that finished (tests, logs)
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
	m.dtls = &dtlsState{cert: cert, renew: make(chan struct{}, 1)}
	m.local.DTLS = &sdp.LocalDTLS{Fingerprint: fp}
}

// answeredDTLSLocked records the peer's side after we answered its offer;
// whether a running association is kept is decided once the exchange
// takes effect (renewDTLSLocked).
func (m *mediaState) answeredDTLSLocked(remote sdp.Media) {
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
	client, err := sdp.DTLSClient(remote.Setup)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDTLSRequired, err)
	}
	m.dtls.client, m.dtls.remote = client, remote.Fingerprints
	return nil
}

// dtlsJob is what the handshakes need, taken from mediaState at once:
// one on the RTP port and, when RTCP is not multiplexed, one on the RTCP
// port (RFC 5764 §4.1.2: each component has its own association, with
// the same roles and fingerprints).
type dtlsJob struct {
	cfg       dtlssrtp.Config
	rtp, rtcp *media.DTLSTransport // rtcp nil with rtcp-mux
	renew     <-chan struct{}      // a new association is due
}

// takeDTLSJob returns the first handshakes to run, once per call: ok is
// false without DTLS, without a stream, or when they were started
// already.
func (m *mediaState) takeDTLSJob() (dtlsJob, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dtls == nil || m.dtls.started || m.stream == nil || m.stream.DTLS() == nil {
		return dtlsJob{}, false
	}
	m.dtls.started = true
	var rtcp *media.DTLSTransport
	if !m.mux {
		rtcp = m.stream.DTLSRTCP()
	}
	return m.dtlsJobLocked(m.stream.DTLS(), rtcp), true
}

// dtlsJobLocked is the job of handshakes on rtp and rtcp with the roles
// and fingerprints of the last exchange, which the association is now
// made for (cur).
func (m *mediaState) dtlsJobLocked(rtp, rtcp *media.DTLSTransport) dtlsJob {
	m.dtls.cur = m.assocKeyLocked()
	m.setKeepLocked()
	return dtlsJob{
		cfg: dtlssrtp.Config{Cert: m.dtls.cert, Client: m.dtls.client && !m.p.dtlsForceServer.Load(), Remote: slices.Clone(m.dtls.remote),
			Timeout: time.Duration(m.p.dtlsTimeout.Load())},
		rtp: rtp, rtcp: rtcp, renew: m.dtls.renew,
	}
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
	m.dtls.handshakes++
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
// makes new ones when an exchange asks for them (dtls_renew.go), and a
// failure ends the call with BYE and the reason.
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

// handshake runs job's handshakes and installs their keys; on failure
// it closes what it opened.
func (c *call) handshake(job dtlsJob) (rtp, rtcp handshakeResult, err error) {
	start := time.Now()
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
	err = rtp.err
	if err == nil {
		err = rtcp.err
	}
	if err == nil {
		err = c.media.setDTLSKeys(rtp.keys, rtcp.keys, time.Since(start))
	}
	if err != nil {
		rtp.close()
		rtcp.close()
	}
	return rtp, rtcp, err
}

// runDTLS is the call's DTLS goroutine: it runs job's handshakes, keeps
// the associations, and replaces them when a new one is due.
func (c *call) runDTLS(job dtlsJob) {
	for {
		rtp, rtcp, err := c.handshake(job)
		if err != nil {
			select {
			case <-job.renew:
				// The exchange changed under the handshake: the new
				// association's turn.
			default:
				c.dtlsFailed(err)
				return
			}
		} else {
			c.changed("DTLS-SRTP")
			select {
			case <-c.ctx.Done():
				rtp.close()
				rtcp.close()
				return
			case <-job.renew:
			}
		}
		var ok bool
		if job, ok = c.media.renewDTLSJob(); !ok {
			rtp.close()
			rtcp.close()
			return
		}
		// The old transports are closed: the old associations end
		// without close_notify, which the peer's new handshake would
		// only have to drop.
		rtp.close()
		rtcp.close()
		c.changed("DTLS: new association")
	}
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
