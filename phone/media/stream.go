package media

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/internal/rtpseq"
)

const (
	// DefaultDTMFDuration is the tone length of one RFC 4733 digit.
	DefaultDTMFDuration = 160 * time.Millisecond
	// dtmfGapFrames of audio separate two queued digits.
	dtmfGapFrames = 3
	// dtmfQueueMax bounds the digits waiting to be sent.
	dtmfQueueMax = 64
	// dtmfRecvTimeout: an event with no end packet is reported this long
	// after its last packet.
	dtmfRecvTimeout = time.Second
	// relockAfter is the silence of the locked source after which another
	// SSRC may take over (see the package documentation).
	relockAfter = 500 * time.Millisecond
	// payloadCN is the static comfort-noise payload type (RFC 3551, RFC 3389).
	payloadCN = 13
)

// StreamConfig describes the media of one call.
type StreamConfig struct {
	// RTP and RTCP are sockets already bound by the caller; the stream owns
	// them from NewStream on and closes them on Close. RTCP may be nil (no
	// RTCP is sent unless RTCPMux; RTCP multiplexed on the RTP port is
	// always understood).
	// On Linux, Start takes the RTP socket's descriptor for the clock and
	// closes the *net.UDPConn (its LocalAddr still answers).
	RTP, RTCP *net.UDPConn
	// Remote is the RTP address from the SDP; it may be zero until known.
	// RemoteRTCP defaults to Remote's port + 1.
	Remote, RemoteRTCP netip.AddrPort
	// RTCPMux sends RTCP on the RTP socket to where RTP goes (RFC 5761,
	// negotiated with a=rtcp-mux); the RTCP socket is then not read. See
	// Stream.SetRTCPMux.
	RTCPMux bool
	// PayloadType and Codec (a name the engine knows: "PCMU", "PCMA",
	// "G722", "opus") of the audio we send and accept. Source and Sink
	// work at the codec's audio rate (CodecAudioRate).
	PayloadType uint8
	Codec       string
	// Fmtp is the far end's a=fmtp parameters for the codec ("" if none):
	// Opus sets its encoder up by them (RFC 7587 §6.1).
	Fmtp string
	// DTMFPayloadType is the remote's telephone-event payload type used for
	// sending (RFC 4733 §7.1.1 registers it without a static type: usually 96-127); -1 when none was
	// negotiated. Values that cannot be a telephone-event type (0-34, the
	// RTCP-conflicting 64-95, the audio type, above 127) also mean none, so
	// the zero value never sends DTMF as PCMU.
	DTMFPayloadType int
	// RecvDTMFPayloadTypes are the telephone-event payload types accepted.
	RecvDTMFPayloadTypes []uint8
	// Source gives the audio we send (nil: silence); Sink takes the audio
	// we receive (nil: discarded). Both are called from the clock goroutine.
	Source audio.Source
	Sink   audio.Sink
	// CNAME for RTCP SDES (default: a random identifier).
	CNAME string
	// OnDTMF is called once per received RFC 4733 event, in order, outside
	// locks: from the clock goroutine after the tick that received it (or
	// that found its end lost), or, where the clock does not drain the RTP
	// socket (not Linux), from the receive goroutine. It must not block and
	// must not call Close.
	OnDTMF func(digit rune)
	// ICE holds our ICE-lite credentials when our SDP carried them: the
	// stream then answers the peer's connectivity checks (see SetICE).
	ICE ICECredentials
	// SRTP, when its Suite is set, protects RTP and RTCP (RFC 3711) with
	// SDES keys; see Stream.SetSRTP.
	SRTP SRTPKeys
	// DTLS makes the stream carry DTLS-SRTP (RFC 5764): DTLS records on
	// the RTP port go to Stream.DTLS, and no RTP or RTCP is sent or
	// accepted until SetSRTP installs the keys the handshake gives.
	DTLS bool
	// OnStats is called with fresh statistics a few times per second at most
	// (see WithStatsInterval), from the clock goroutine, outside locks. It
	// must not block.
	OnStats func(Stats)
}

// Stream is the RTP/RTCP media of one call. Its methods are safe for
// concurrent use.
type Stream struct {
	e        *Engine
	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn
	ssrc     uint32
	cname    string
	onDTMF   func(rune)
	onStats  func(Stats)
	epoch    time.Time // origin of arrival times in timestamp units

	mu         sync.Mutex
	started    bool
	closed     bool
	sdpRTP     netip.AddrPort
	sdpRTCP    netip.AddrPort
	dst        netip.AddrPort // where RTP goes (SDP or latched)
	dstRTCP    netip.AddrPort
	latched    bool
	rtcpLatch  bool
	mux        bool // RFC 5761: RTCP on the RTP socket, to dst
	rtcpRead   bool // the RTCP socket's goroutine runs
	pt         uint8
	codecName  string
	codec      Codec
	info       CodecInfo
	dtmfPT     int
	recvDTMF   []uint8
	sendOn     bool
	recvOn     bool
	muted      bool
	src        audio.Source
	sink       audio.Sink
	markNext   bool
	dtmfQ      []dtmfReq
	jb         PlayoutBuffer
	conceal    Concealer
	rx         rxState
	rtcpRx     rtcpRxState
	rtcpLocked uint64 // RTCP packets received (guarded by mu)
	ice        ICECredentials

	// SRTP (RFC 3711): the keys in use, nil for plain RTP (see SetSRTP).
	sec atomic.Pointer[srtpState]
	srx srtpRx // the RTP receiver's
	srtcpScratch
	srtpDropped atomic.Uint64

	// DTLS-SRTP (RFC 5764): the records' transport, nil without; needKeys
	// holds media back until keys are set (fixed by NewStream); the
	// transports are replaced for a new association (RenewDTLS).
	dtls     atomic.Pointer[DTLSTransport]
	dtlsRTCP atomic.Pointer[DTLSTransport]
	needKeys bool

	tx    txState  // clock goroutine only (and Close after remove)
	drain rtpDrain // set up by Start before s is on the clock; then clock goroutine only

	clock atomic.Pointer[frameClockBox] // the source as a FrameClock, or nil
	dev   atomic.Pointer[deviceSinkBox] // the sink as a DeviceSink, or nil

	remoteLoss atomic.Int32 // percent lost the far end last reported; -1 before any report

	txPackets atomic.Uint64
	txOctets  atomic.Uint64
	rtcpSent  atomic.Uint64
	garbage   atomic.Uint64
	foreign   atomic.Uint64

	wg        sync.WaitGroup
	closeOnce sync.Once
}

type dtmfReq struct {
	event  byte
	frames int
}

// rxState is the reception state of the locked remote source.
type rxState struct {
	locked   bool
	ssrc     uint32
	seq      rtpseq.Source
	haveCand bool
	candSSRC uint32
	candAddr netip.AddrPort
	cand     rtpseq.Source
	lastPkt  time.Time // last accepted packet of the locked source
	lastDst  time.Time // last accepted packet from the send address
	packets  uint64
	octets   uint64

	// RFC 3550 A.8 interarrival jitter, in timestamp units.
	jitter      float64
	transit     int64
	haveTransit bool

	// RFC 4733 receive: the current event and the last one reported.
	dtmfOpen     bool // an event seen and not reported yet
	dtmfTS       uint32
	dtmfEv       byte
	dtmfLast     time.Time
	dtmfHaveDone bool
	dtmfDoneTS   uint32
}

// rtcpRxState holds what RTCP told us.
type rtcpRxState struct {
	lastSR       uint32 // middle 32 bits of the last SR's NTP time
	lastSRAt     time.Time
	lastSRSSRC   uint32
	rtt          time.Duration
	rttKnown     bool
	remoteLost   int64
	remoteFrac   uint8
	remoteJitter uint32
	bye          bool
}

// txState belongs to the clock goroutine.
type txState struct {
	running     bool
	seq         uint16
	ts          uint32
	marker      bool
	sentSinceRR bool
	dtmf        dtmfTx
	gap         int
	nextRTCP    time.Time
	nextStats   time.Time
	pcm         [audio.MaxFrameSamples]int16
	out         [audio.MaxFrameSamples]int16
	next        [maxPacket]byte // the packet after a lost one (Opus FEC)
	buf         [maxPacket]byte
	sbuf        [maxPacket + srtpOverhead]byte // buf protected (SRTP)
	shdr        rtp.Header                     // EncryptRTP's header
	play        [maxPacket]byte
	block       reportBlock      // sendRTCP's report block
	rtcp        [maxRTCPLen]byte // sendRTCP's packet
}

// dtmfTx is the RFC 4733 event being sent.
type dtmfTx struct {
	active  bool
	event   byte
	pt      uint8
	startTS uint32
	frames  int // tone length in frames
	k       int // packets sent
}

// NewStream creates a stream for cfg. Nothing is sent or received until
// Start. On error the sockets are left to the caller.
func (e *Engine) NewStream(cfg StreamConfig) (*Stream, error) {
	if cfg.RTP == nil {
		return nil, ErrNoConn
	}
	info, ok := e.codecs[cfg.Codec]
	if !ok {
		return nil, fmt.Errorf("new stream: %w %q", ErrUnknownCodec, cfg.Codec)
	}
	codec, err := info.New(cfg.Fmtp)
	if err != nil {
		return nil, fmt.Errorf("new stream: %w", err)
	}
	if e.newPlayout == nil {
		return nil, ErrNoPlayout
	}
	jb := e.newPlayout(info)
	if jb == nil {
		return nil, ErrNoPlayout
	}
	var conceal Concealer
	if e.newConcealer != nil {
		conceal = e.newConcealer()
	}
	s := &Stream{
		e:        e,
		rtpConn:  cfg.RTP,
		rtcpConn: cfg.RTCP,
		ssrc:     rand.Uint32(),
		cname:    cfg.CNAME,
		onDTMF:   cfg.OnDTMF,
		onStats:  cfg.OnStats,
		epoch:    e.now(),
		pt:       cfg.PayloadType & 0x7f,
		codec:    codec,
		info:     info,
		dtmfPT:   dtmfPT(cfg.DTMFPayloadType, cfg.PayloadType),
		recvDTMF: append([]uint8(nil), cfg.RecvDTMFPayloadTypes...),
		ice:      cfg.ICE,
		sendOn:   true,
		recvOn:   true,
		mux:      cfg.RTCPMux,
		src:      cfg.Source,
		sink:     cfg.Sink,
		jb:       jb,
		conceal:  conceal,
	}
	s.codecName = cfg.Codec
	s.remoteLoss.Store(-1)
	s.setClock(cfg.Source)
	s.setDevice(cfg.Sink)
	if s.cname == "" {
		s.cname = fmt.Sprintf("teaphone-%08x", rand.Uint32())
	}
	// RFC 3550 §5.1: random initial sequence number and timestamp.
	s.tx.seq = uint16(rand.Uint32())
	s.tx.ts = rand.Uint32()
	s.setRemoteLocked(cfg.Remote, cfg.RemoteRTCP)
	if cfg.DTLS {
		s.dtls.Store(newDTLSTransport(s, false))
		s.needKeys = true
		if cfg.RTCP != nil {
			s.dtlsRTCP.Store(newDTLSTransport(s, true))
		}
	}
	if err := s.SetSRTP(cfg.SRTP); err != nil {
		return nil, fmt.Errorf("new stream: %w", err)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	e.streams[s] = struct{}{}
	return s, nil
}

// SSRC returns the stream's own synchronisation source identifier.
func (s *Stream) SSRC() uint32 { return s.ssrc }

// Start begins sending and receiving on the engine's clock. It is a no-op
// on a started or closed stream.
//
// On Linux the clock drains the RTP socket itself at each tick (see
// rxBatch); elsewhere, or if the socket cannot be used so, a goroutine
// reads it. RTCP, a packet every few seconds, has its own goroutine unless
// it is multiplexed on the RTP port (see SetRTCPMux).
func (s *Stream) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	if s.e.rtpReaders || !s.drainOnTick() {
		s.wg.Add(1)
		go s.readRTP()
	}
	s.readRTCPLocked()
	// Under s.mu, so that a Close that follows finds s on the clock.
	s.e.activate(s)
}

// Close sends RTCP BYE (RFC 3550 §6.6) if the stream was started, stops it,
// closes its sockets and waits for its goroutines. It is idempotent.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		started := s.started
		s.closed = true
		s.mu.Unlock()
		s.e.remove(s) // no tick runs s after this
		s.mu.Lock()   // after a RenewDTLS, not during one
		if t := s.dtls.Load(); t != nil {
			_ = t.Close()
		}
		if t := s.dtlsRTCP.Load(); t != nil {
			_ = t.Close()
		}
		s.mu.Unlock()
		if started {
			s.sendRTCP(s.e.now(), true)
		}
		s.closeRTP()
		if s.rtcpConn != nil {
			_ = s.rtcpConn.Close()
		}
		s.wg.Wait()
	})
	return nil
}

// Stats returns the current statistics.
func (s *Stream) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Codec:          s.codecName,
		SSRC:           s.ssrc,
		TxPackets:      s.txPackets.Load(),
		TxBytes:        s.txOctets.Load(),
		RxPackets:      s.rx.packets,
		RxBytes:        s.rx.octets,
		DroppedGarbage: s.garbage.Load(),
		DroppedForeign: s.foreign.Load(),
		DroppedSRTP:    s.srtpDropped.Load(),
		SRTP:           s.SRTPSuite(),
		RTCPSent:       s.rtcpSent.Load(),
		RTCPReceived:   s.rtcpLocked,
		RemoteBye:      s.rtcpRx.bye,
		Remote:         s.dst,
		Latched:        s.latched,
		RTCPMux:        s.mux,
		LastRTP:        s.rx.lastPkt,
	}
	if s.rx.locked {
		st.RemoteSSRC = s.rx.ssrc
		st.Lost = s.rx.seq.Lost()
		if exp := s.rx.seq.Expected(); exp > 0 && st.Lost > 0 {
			st.LossPct = 100 * float64(st.Lost) / float64(exp)
		}
		st.JitterMs = s.rx.jitter / float64(s.info.ClockRate/1000)
	}
	if s.rtcpRx.rttKnown {
		st.RTTMs = ms(s.rtcpRx.rtt)
	}
	st.RemoteLost = s.rtcpRx.remoteLost
	st.RemoteLossPct = 100 * float64(s.rtcpRx.remoteFrac) / 256
	st.RemoteJitterMs = float64(s.rtcpRx.remoteJitter) / float64(s.info.ClockRate/1000)
	jbDelay := s.jb.Delay()
	st.JitterBufferMs = ms(jbDelay)
	if s.rx.packets > 0 {
		// One-way latency: half the RTT when known, plus the playout delay.
		lat := jbDelay
		if s.rtcpRx.rttKnown {
			lat += s.rtcpRx.rtt / 2
		}
		jit := time.Duration(st.JitterMs * float64(time.Millisecond))
		st.MOS = MOS(lat, jit, st.LossPct)
	}
	return st
}
