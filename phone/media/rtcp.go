package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
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
		s.handleRTCP(buf[:n], from, s.e.now())
	}
}

// validRTCP applies the RFC 3550 A.2 header validity checks to a compound
// packet: version 2, the first packet an SR or RR without padding, and the
// packet lengths adding up to the datagram length.
func validRTCP(b []byte) bool {
	if len(b) < 8 || len(b)%4 != 0 {
		return false
	}
	if b[0]&0xe0 != 0x80 || (b[1] != rtcpSR && b[1] != rtcpRR) {
		return false
	}
	for off := 0; off < len(b); {
		if len(b)-off < 4 || b[off]>>6 != 2 {
			return false
		}
		off += 4 * (int(binary.BigEndian.Uint16(b[off+2:])) + 1)
		if off > len(b) {
			return false
		}
	}
	return true
}

const (
	rtcpSR = 200
	rtcpRR = 201
)

// handleRTCP processes one compound RTCP packet (RFC 3550 §6.4): the
// remote's SR time for our LSR/DLSR, and the report block about our stream
// for RTT, loss and jitter. Garbage is dropped and counted.
func (s *Stream) handleRTCP(b []byte, from netip.AddrPort, now time.Time) {
	if !validRTCP(b) {
		s.garbage.Add(1)
		return
	}
	pkts, err := unmarshalRTCP(b)
	if err != nil {
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
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			if rx.locked && p.SSRC != rx.ssrc {
				s.foreign.Add(1)
				continue
			}
			accepted = true
			s.rtcpRx.lastSR = uint32(p.NTPTime >> 16)
			s.rtcpRx.lastSRAt = now
			s.rtcpRx.lastSRSSRC = p.SSRC
			s.reportBlocksLocked(p.Reports, now)
		case *rtcp.ReceiverReport:
			if rx.locked && p.SSRC != rx.ssrc {
				s.foreign.Add(1)
				continue
			}
			accepted = true
			s.reportBlocksLocked(p.Reports, now)
		case *rtcp.Goodbye:
			for _, src := range p.Sources {
				if rx.locked && src == rx.ssrc {
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
	if rx.locked && !s.rtcpLatch && from != s.dstRTCP && from.IsValid() {
		s.dstRTCP, s.rtcpLatch = from, true
	}
}

// unmarshalRTCP wraps the pion parser so that a parser bug on hostile
// input drops the packet instead of taking the process down.
func unmarshalRTCP(b []byte) (pkts []rtcp.Packet, err error) {
	defer func() {
		if recover() != nil {
			pkts, err = nil, errBadRTCP
		}
	}()
	return rtcp.Unmarshal(b)
}

var errBadRTCP = errors.New("media: malformed rtcp")

// reportBlocksLocked takes the report block about our SSRC.
//
// RFC 3550 §6.4.1: RTT = A − LSR − DLSR, with A the arrival time in the
// middle 32 bits of NTP time; all in 1/65536 s. A result below the
// resolution counts as one unit, so a measured RTT is never reported as 0.
func (s *Stream) reportBlocksLocked(rr []rtcp.ReceptionReport, now time.Time) {
	for _, r := range rr {
		if r.SSRC != s.ssrc {
			continue
		}
		s.rtcpRx.remoteFrac = r.FractionLost
		lost := int64(r.TotalLost & 0xffffff)
		if lost&0x800000 != 0 {
			lost -= 1 << 24 // signed 24 bit
		}
		s.rtcpRx.remoteLost = lost
		s.rtcpRx.remoteJitter = r.Jitter
		if r.LastSenderReport == 0 {
			continue
		}
		rtt := int32(ntpMiddle(now) - r.LastSenderReport - r.Delay)
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
// source; SDES CNAME; and BYE when the stream ends (§6.6).
func (s *Stream) sendRTCP(now time.Time, bye bool) {
	if s.rtcpConn == nil {
		return
	}
	s.mu.Lock()
	dst := s.dstRTCP
	var blocks []rtcp.ReceptionReport
	if rx := &s.rx; rx.locked && rx.seq.Received() > 0 {
		// RFC 3550 §6.4.1 and A.3.
		b := rtcp.ReceptionReport{
			SSRC:               rx.ssrc,
			FractionLost:       rx.seq.FractionLost(),
			TotalLost:          lost24(rx.seq.Lost()),
			LastSequenceNumber: rx.seq.ExtendedMax(),
			Jitter:             uint32(rx.jitter),
		}
		if s.rtcpRx.lastSR != 0 {
			b.LastSenderReport = s.rtcpRx.lastSR
			b.Delay = uint32(now.Sub(s.rtcpRx.lastSRAt) * 65536 / time.Second)
		}
		blocks = []rtcp.ReceptionReport{b}
	}
	s.mu.Unlock()
	if !dst.IsValid() {
		return
	}
	pkts := make([]rtcp.Packet, 0, 3)
	t := &s.tx
	if t.sentSinceRR {
		t.sentSinceRR = false
		pkts = append(pkts, &rtcp.SenderReport{
			SSRC:        s.ssrc,
			NTPTime:     ntpTime(now),
			RTPTime:     t.ts,
			PacketCount: uint32(s.txPackets.Load()),
			OctetCount:  uint32(s.txOctets.Load()),
			Reports:     blocks,
		})
	} else {
		pkts = append(pkts, &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks})
	}
	pkts = append(pkts, rtcp.NewCNAMESourceDescription(s.ssrc, s.cname))
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		s.e.log.Warn("rtcp marshal", "err", err)
		return
	}
	if _, err := s.rtcpConn.WriteToUDPAddrPort(b, dst); err == nil {
		s.rtcpSent.Add(1)
	}
}

// lost24 encodes a cumulative loss as the signed 24-bit field of a report
// block, clamped as RFC 3550 A.3 says (0x7fffff up, 0x800000 down).
func lost24(lost int64) uint32 {
	lost = min(max(lost, -0x800000), 0x7fffff)
	return uint32(lost) & 0xffffff
}
