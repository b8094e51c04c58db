package media

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// readRTP is the stream's RTP receive goroutine where the clock cannot
// drain the socket itself (see Stream.Start); it ends when the socket is
// closed.
func (s *Stream) readRTP() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, from, err := s.rtpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return
			}
			// A transient error (ICMP unreachable on some systems); pause
			// so that a persistent one cannot spin.
			time.Sleep(time.Millisecond)
			continue
		}
		s.handleRTP(buf[:n], from, s.e.now())
	}
}

func (s *Stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// handleRTP processes one datagram from the RTP socket on the receive
// goroutine and reports its DTMF digits at once. It does not allocate.
func (s *Stream) handleRTP(b []byte, from netip.AddrPort, now time.Time) {
	d1, d2 := s.receiveRTP(b, from, now)
	if s.onDTMF != nil {
		if d1 != 0 {
			s.onDTMF(d1)
		}
		if d2 != 0 {
			s.onDTMF(d2)
		}
	}
}

// receiveRTP processes one datagram from the RTP socket that arrived at
// now and returns up to two DTMF digits to report, in order (0: none); the
// caller reports them outside every lock. RTCP multiplexed on the RTP port
// (RFC 5761 §4) is told apart first and touches neither the source lock,
// the latch, the statistics of RTP nor the playout buffer. It does not
// allocate.
func (s *Stream) receiveRTP(b []byte, from netip.AddrPort, now time.Time) (d1, d2 rune) {
	if looksLikeSTUN(b) {
		s.handleSTUN(b, from, false)
		return 0, 0
	}
	if isDTLS(b) {
		// RFC 7983 §7: 20-63 is DTLS.
		if t := s.dtls.Load(); t != nil {
			t.push(b, unmap(from))
		} else {
			s.garbage.Add(1)
		}
		return 0, 0
	}
	st := s.sec.Load()
	if st == nil && s.needKeys {
		// RFC 5764 §4.1.2: nothing in clear before the DTLS keys.
		s.srtpDropped.Add(1)
		return 0, 0
	}
	if demux(b) == kindRTCP {
		if st != nil {
			var ok bool
			if b, ok = s.unprotectRTCP(st, s.srx.plain[:], b); !ok {
				return 0, 0
			}
		}
		s.handleRTCP(b, from, now, true)
		return 0, 0
	}
	if st != nil {
		var ok bool
		if b, ok = s.unprotectRTP(st, b); !ok {
			return 0, 0
		}
	}
	h, payload, ok := parseRTP(b)
	if !ok {
		s.garbage.Add(1)
		return 0, 0
	}
	from = unmap(from)
	s.mu.Lock()
	d1, d2 = s.acceptRTPLocked(h, payload, from, now)
	s.mu.Unlock()
	return d1, d2
}

// acceptRTPLocked runs the source lock, the latch, RFC 3550 A.1/A.8
// statistics, the playout buffer and RFC 4733 receive for one parsed
// packet. It returns up to two DTMF digits to report, in order (0: none).
func (s *Stream) acceptRTPLocked(h rtpHeader, payload []byte, from netip.AddrPort, now time.Time) (d1, d2 rune) {
	isAudio := h.pt == s.pt
	isDTMF := !isAudio && slices.Contains(s.recvDTMF, h.pt)
	if !isAudio && !isDTMF && h.pt != payloadCN {
		s.garbage.Add(1)
		return 0, 0
	}
	if s.closed {
		return 0, 0
	}
	rx := &s.rx
	if !rx.locked || h.ssrc != rx.ssrc {
		if rx.locked && !s.mayRelockLocked(from, now) {
			s.foreign.Add(1)
			return 0, 0
		}
		if !s.probeLocked(h, from) {
			return 0, 0
		}
	} else if !rx.seq.Update(h.seq) {
		return 0, 0 // RFC 3550 A.1: a jump, waiting for the next in sequence
	}

	rx.packets++
	rx.octets += uint64(len(payload))
	rx.lastPkt = now
	if from == s.dst {
		rx.lastDst = now
	} else if now.Sub(rx.lastDst) >= relockAfter {
		// Same source, new address, old address silent: NAT rebinding.
		s.dst, s.latched, rx.lastDst = from, true, now
	}
	switch {
	case isAudio:
		s.jitterLocked(h.ts, now)
		if s.recvOn {
			s.jb.Push(h.seq, h.ts, h.ssrc, h.marker, payload, now)
		}
	case isDTMF && s.recvOn:
		return rx.dtmfLocked(h.ts, payload, now)
	}
	return 0, 0
}

// mayRelockLocked: another SSRC may take over the stream only when the
// locked source is silent (or said BYE) and it comes from the latched or
// the SDP address.
func (s *Stream) mayRelockLocked(from netip.AddrPort, now time.Time) bool {
	quiet := now.Sub(s.rx.lastPkt) >= relockAfter || s.rtcpRx.bye
	return quiet && (from == s.dst || from == s.sdpRTP)
}

// probeLocked runs RFC 3550 A.1 probation for a candidate source; when it
// completes, the candidate is locked and, if it came from elsewhere than
// the SDP address, the send address latches to it (symmetric RTP in the
// spirit of RFC 4961, "comedia"). It reports whether this packet is accepted.
func (s *Stream) probeLocked(h rtpHeader, from netip.AddrPort) bool {
	rx := &s.rx
	if !rx.haveCand || rx.candSSRC != h.ssrc || rx.candAddr != from {
		rx.haveCand, rx.candSSRC, rx.candAddr = true, h.ssrc, from
		rx.cand.Probe(h.seq)
	}
	if !rx.cand.Update(h.seq) {
		return false
	}
	rx.haveCand = false
	rx.locked, rx.ssrc, rx.seq = true, h.ssrc, rx.cand
	rx.haveTransit = false
	rx.jitter = 0
	rx.dtmfOpen, rx.dtmfHaveDone = false, false
	s.rtcpRx.bye = false
	if s.rtcpRx.lastSRSSRC != h.ssrc {
		s.rtcpRx.lastSR = 0 // an SR of another source
	}
	if from != s.dst {
		s.dst, s.latched = from, true
		s.rtcpLatch = false
		if from.Port() < 65535 {
			// RTCP follows RTP until RTCP itself arrives from elsewhere.
			s.dstRTCP = netip.AddrPortFrom(from.Addr(), from.Port()+1)
		}
	}
	rx.lastDst = time.Time{}
	return true
}

// jitterLocked updates the RFC 3550 A.8 interarrival jitter estimate.
func (s *Stream) jitterLocked(ts uint32, now time.Time) {
	rx := &s.rx
	ns, rate := now.Sub(s.epoch).Nanoseconds(), int64(s.info.ClockRate)
	var arrival int64
	switch rate { // constant divisors: the compiler multiplies instead
	case 8000:
		arrival = ns / (int64(time.Second) / 8000)
	case 16000:
		arrival = ns / (int64(time.Second) / 16000)
	default: // 48 kHz does not divide a second in whole nanoseconds
		arrival = ns/int64(time.Second)*rate + ns%int64(time.Second)*rate/int64(time.Second)
	}
	transit := arrival - int64(int32(ts))
	if rx.haveTransit {
		d := int64(int32(transit - rx.transit))
		if d < 0 {
			d = -d
		}
		rx.jitter += (float64(d) - rx.jitter) / 16
	}
	rx.transit, rx.haveTransit = transit, true
}

// dtmfLocked handles one RFC 4733 packet and returns the digits to report
// (each event once), in order: prev is an older event closed by this one.
//
// RFC 4733 §2.5.2: the event is identified by its timestamp; it is reported
// on the first packet with the E bit. The marker bit is not required (it
// may be lost), and an event whose end never arrives is reported by the
// clock after dtmfRecvTimeout.
func (rx *rxState) dtmfLocked(ts uint32, p []byte, now time.Time) (prev, cur rune) {
	if len(p) < dtmfPayloadLen {
		return 0, 0
	}
	if rx.dtmfHaveDone && ts == rx.dtmfDoneTS {
		return 0, 0 // retransmitted end packets of a reported event
	}
	if rx.dtmfOpen && ts != rx.dtmfTS {
		// A new event before the old one ended: report the old one now.
		prev = rx.closeDTMFLocked()
	}
	rx.dtmfOpen, rx.dtmfTS, rx.dtmfEv, rx.dtmfLast = true, ts, p[0], now
	if p[1]&dtmfEndBit != 0 {
		cur = rx.closeDTMFLocked()
	}
	return prev, cur
}

// closeDTMFLocked ends the open event and returns its digit (0 for events
// that are not digits, such as flash).
func (rx *rxState) closeDTMFLocked() rune {
	rx.dtmfOpen = false
	rx.dtmfHaveDone, rx.dtmfDoneTS = true, rx.dtmfTS
	d, _ := sipaddr.DTMFDigit(rx.dtmfEv)
	return d
}
