package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"
)

// ntpEpochOffset is the number of seconds from 1900 to 1970 (RFC 5905).
const ntpEpochOffset = 2208988800

// ntpTime converts t to a 64-bit NTP timestamp (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	ns := t.UnixNano()
	sec := uint64(ns/1e9) + ntpEpochOffset
	frac := uint64(ns%1e9) << 32 / 1e9
	return sec<<32 | frac
}

// ntpMiddle is the middle 32 bits of t's NTP timestamp, the unit of LSR and
// of the RTT computation (RFC 3550 §6.4.1).
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// readRTCP is the stream's RTCP receive goroutine.
func (s *Stream) readRTCP() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	plain := make([]byte, maxPacket)
	for {
		n, from, err := s.rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return
			}
			// A transient error (ICMP unreachable on some systems); pause
			// so that a persistent one cannot spin.
			time.Sleep(time.Millisecond)
			continue
		}
		if looksLikeSTUN(buf[:n]) {
			s.handleSTUN(buf[:n], from, true)
			continue
		}
		if isDTLS(buf[:n]) {
			if t := s.dtlsRTCP.Load(); t != nil {
				t.push(buf[:n], unmap(from))
			} else {
				s.garbage.Add(1)
			}
			continue
		}
		b := buf[:n]
		st := s.sec.Load()
		if st == nil && s.needKeys {
			s.srtpDropped.Add(1) // DTLS-SRTP before its keys
			continue
		}
		if st != nil {
			var ok bool
			if b, ok = s.unprotectRTCP(st, plain, b); !ok {
				continue
			}
		}
		s.handleRTCP(b, from, s.e.now(), false)
	}
}

// handleRTCP processes one compound RTCP packet (RFC 3550 §6.4): the
// remote's SR time for our LSR/DLSR, and the report block about our stream
// for RTT, loss and jitter. Garbage is dropped and counted. onRTP is set
// for RTCP that came on the RTP socket (RFC 5761). It does not allocate.
func (s *Stream) handleRTCP(b []byte, from netip.AddrPort, now time.Time, onRTP bool) {
	if !validRTCP(b) || !wellFormedRTCP(b) {
		s.garbage.Add(1)
		return
	}
	from = unmap(from)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	rx := &s.rx
	accepted := false
	it := rtcpIter{b: b}
	for {
		pt, count, body, ok := it.next()
		if !ok {
			break
		}
		switch pt {
		case rtcpSR, rtcpRR:
			p, _ := parseSender(pt, count, body) // wellFormedRTCP checked it
			if rx.locked && p.ssrc != rx.ssrc {
				s.foreign.Add(1)
				continue
			}
			accepted = true
			if p.sr {
				s.rtcpRx.lastSR = uint32(p.ntp >> 16)
				s.rtcpRx.lastSRAt = now
				s.rtcpRx.lastSRSSRC = p.ssrc
			}
			s.reportBlocksLocked(p.blocks, now)
		case rtcpBYE:
			srcs, _ := byeSources(count, body)
			for i := 0; i+4 <= len(srcs); i += 4 {
				if rx.locked && binary.BigEndian.Uint32(srcs[i:]) == rx.ssrc {
					s.rtcpRx.bye = true
				}
			}
		}
	}
	if !accepted {
		return
	}
	s.rtcpLocked++
	// Symmetric RTCP: answer where the locked source's reports come from.
	// Multiplexed (RFC 5761 §4), RTCP goes where RTP goes: the RTP latch
	// is the RTCP latch, and RTCP on the RTP port never moves dstRTCP.
	if !s.mux && !onRTP && rx.locked && !s.rtcpLatch && from != s.dstRTCP && from.IsValid() {
		s.dstRTCP, s.rtcpLatch = from, true
	}
}

// wellFormedRTCP checks, before anything is taken from a compound packet,
// that every SR, RR and BYE in it holds what its count says and that
// every padding fits.
func wellFormedRTCP(b []byte) bool {
	it := rtcpIter{b: b}
	for {
		pt, count, body, ok := it.next()
		if !ok {
			return !it.bad
		}
		switch pt {
		case rtcpSR, rtcpRR:
			if _, ok := parseSender(pt, count, body); !ok {
				return false
			}
		case rtcpBYE:
			if _, ok := byeSources(count, body); !ok {
				return false
			}
		}
	}
}

// reportBlocksLocked takes the report block about our SSRC.
//
// RFC 3550 §6.4.1: RTT = A − LSR − DLSR, with A the arrival time in the
// middle 32 bits of NTP time; all in 1/65536 s. A result below the
// resolution counts as one unit, so a measured RTT is never reported as 0.
func (s *Stream) reportBlocksLocked(blocks []byte, now time.Time) {
	for i := range len(blocks) / reportLen {
		r := block(blocks, i)
		if r.ssrc != s.ssrc {
			continue
		}
		s.rtcpRx.remoteFrac = r.fraction
		// For the encoder (LossAdapter), applied on the clock goroutine.
		s.remoteLoss.Store(int32(r.fraction) * 100 / 256)
		lost := int64(r.lost & 0xffffff)
		if lost&0x800000 != 0 {
			lost -= 1 << 24 // signed 24 bit
		}
		s.rtcpRx.remoteLost = lost
		s.rtcpRx.remoteJitter = r.jitter
		if r.lsr == 0 {
			continue
		}
		rtt := int32(ntpMiddle(now) - r.lsr - r.dlsr)
		if rtt < 0 {
			continue // clock trouble or a bogus report
		}
		rtt = max(rtt, 1)
		s.rtcpRx.rtt = time.Duration(int64(rtt) * int64(time.Second) >> 16)
		s.rtcpRx.rttKnown = true
	}
}

// sendRTCP sends one compound packet (RFC 3550 §6.1): SR if we sent RTP
// since the last report, else RR; one report block for the locked remote
// source; SDES CNAME; and BYE when the stream ends (§6.6). Multiplexed
// (RFC 5761 §4) it leaves from the RTP socket to where RTP goes; else from
// the RTCP socket, if any, to the RTCP address. It runs on the clock
// goroutine (or in Close, once off the clock) and does not allocate.
func (s *Stream) sendRTCP(now time.Time, bye bool) {
	t := &s.tx
	o := rtcpOut{ssrc: s.ssrc, cname: s.cname, bye: bye}
	s.mu.Lock()
	mux := s.mux
	dst := s.dstRTCP
	if mux {
		dst = s.dst
	}
	if rx := &s.rx; rx.locked && rx.seq.Received() > 0 {
		// RFC 3550 §6.4.1 and A.3.
		t.block = reportBlock{
			ssrc:     rx.ssrc,
			fraction: rx.seq.FractionLost(),
			lost:     lost24(rx.seq.Lost()),
			highest:  rx.seq.ExtendedMax(),
			jitter:   uint32(rx.jitter),
		}
		if s.rtcpRx.lastSR != 0 {
			t.block.lsr = s.rtcpRx.lastSR
			t.block.dlsr = uint32(now.Sub(s.rtcpRx.lastSRAt) * 65536 / time.Second)
		}
		o.block = &t.block
	}
	s.mu.Unlock()
	if !dst.IsValid() || (!mux && s.rtcpConn == nil) || (s.needKeys && s.sec.Load() == nil) {
		return
	}
	if t.sentSinceRR {
		t.sentSinceRR = false
		o.sr = true
		o.ntp = ntpTime(now)
		o.rtpTime = t.ts
		o.packets = uint32(s.txPackets.Load())
		o.octets = uint32(s.txOctets.Load())
	}
	b := t.rtcp[:putRTCP(t.rtcp[:], &o)]
	var err error
	if st := s.sec.Load(); st != nil {
		// RFC 3711 §3.4: SRTCP is mandatory with SRTP.
		if b, err = s.protectRTCP(st, b); err != nil {
			return
		}
	}
	if mux {
		err = s.writeRTP(b, dst)
	} else {
		_, err = s.rtcpConn.WriteToUDPAddrPort(b, dst)
	}
	if err == nil {
		s.rtcpSent.Add(1)
	}
}

// lost24 encodes a cumulative loss as the signed 24-bit field of a report
// block, clamped as RFC 3550 A.3 says (0x7fffff up, 0x800000 down).
func lost24(lost int64) uint32 {
	lost = min(max(lost, -0x800000), 0x7fffff)
	return uint32(lost) & 0xffffff
}
