package media

import "encoding/binary"

// RTCP packet types (RFC 3550 §12.1).
const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203

	sdesCNAME = 1 // RFC 3550 §6.5.1

	rtcpHeaderLen = 4
	srInfoLen     = 20 // NTP (8), RTP time, packet and octet counts
	reportLen     = 24 // one report block (RFC 3550 §6.4.1)
)

// packetKind is what a datagram on the RTP port is.
type packetKind uint8

const (
	kindRTP packetKind = iota
	kindRTCP
)

// demux tells RTP from RTCP on a port that carries both.
//
// RFC 5761 §4: RTCP packet types 192-223 read as RTP payload types 64-95
// (with the marker bit), which RTP must not use where the two share a
// port; the second octet, less the marker bit, decides. A datagram too
// short to have a second octet goes to the RTP checks, which drop it.
func demux(b []byte) packetKind {
	if len(b) >= 2 && b[1]&0x7f >= 64 && b[1]&0x7f <= 95 {
		return kindRTCP
	}
	return kindRTP
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

// rtcpIter walks the packets of a compound RTCP packet that validRTCP
// accepted, without allocating.
type rtcpIter struct {
	b   []byte
	bad bool // the walk ended at a packet that does not fit
}

// next returns the next packet's type, its count field (RC or SC) and its
// body after the 4-byte header, without padding; ok is false at the end or
// at a packet that does not fit: its length, or its padding (RFC 3550
// §6.4.1: the padding count is the last octet); then bad is set.
func (it *rtcpIter) next() (pt, count uint8, body []byte, ok bool) {
	if len(it.b) < rtcpHeaderLen {
		it.bad = len(it.b) != 0
		it.b = nil
		return 0, 0, nil, false
	}
	n := 4 * (int(binary.BigEndian.Uint16(it.b[2:])) + 1)
	if n > len(it.b) {
		it.b, it.bad = nil, true
		return 0, 0, nil, false
	}
	p := it.b[:n]
	it.b = it.b[n:]
	body = p[rtcpHeaderLen:]
	if p[0]&0x20 != 0 {
		pad := int(p[n-1])
		if pad == 0 || pad > len(body) {
			it.b, it.bad = nil, true
			return 0, 0, nil, false
		}
		body = body[:len(body)-pad]
	}
	return p[1], p[0] & 0x1f, body, true
}

// reportBlock is one RFC 3550 §6.4.1 report block.
type reportBlock struct {
	ssrc     uint32
	fraction uint8
	lost     uint32 // 24 bits, signed
	highest  uint32
	jitter   uint32
	lsr      uint32
	dlsr     uint32
}

// senderInfo is the part of an SR or RR we use: the sender's SSRC, the
// SR's NTP time (0 in an RR) and its report blocks, unparsed.
type senderInfo struct {
	ssrc   uint32
	sr     bool
	ntp    uint64
	blocks []byte // count × reportLen
}

// parseSender reads an SR or RR body (RFC 3550 §6.4.1, §6.4.2); false when
// its report blocks do not fit.
func parseSender(pt, count uint8, body []byte) (senderInfo, bool) {
	var s senderInfo
	if len(body) < 4 {
		return s, false
	}
	s.ssrc = binary.BigEndian.Uint32(body)
	rest := body[4:]
	if pt == rtcpSR {
		if len(rest) < srInfoLen {
			return s, false
		}
		s.sr = true
		s.ntp = binary.BigEndian.Uint64(rest)
		rest = rest[srInfoLen:]
	}
	n := int(count) * reportLen
	if len(rest) < n {
		return s, false
	}
	s.blocks = rest[:n]
	return s, true
}

// block returns report block i of blocks.
func block(blocks []byte, i int) reportBlock {
	b := blocks[i*reportLen : (i+1)*reportLen]
	return reportBlock{
		ssrc:     binary.BigEndian.Uint32(b),
		fraction: b[4],
		lost:     uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]),
		highest:  binary.BigEndian.Uint32(b[8:]),
		jitter:   binary.BigEndian.Uint32(b[12:]),
		lsr:      binary.BigEndian.Uint32(b[16:]),
		dlsr:     binary.BigEndian.Uint32(b[20:]),
	}
}

// byeSources returns the SSRCs of a BYE body (RFC 3550 §6.6); false when
// they do not fit.
func byeSources(count uint8, body []byte) ([]byte, bool) {
	n := 4 * int(count)
	if len(body) < n {
		return nil, false
	}
	return body[:n], true
}

// rtcpOut is what one compound report says (see putRTCP).
type rtcpOut struct {
	ssrc    uint32
	sr      bool   // an SR with the fields below, else an RR
	ntp     uint64 // SR
	rtpTime uint32 // SR
	packets uint32 // SR
	octets  uint32 // SR
	block   *reportBlock
	cname   string
	bye     bool
}

// putRTCP writes the compound packet o into b, which must hold
// maxRTCPLen bytes, and returns its length. It does not allocate.
//
// RFC 3550 §6.1: an SR or RR first, then SDES with the CNAME (§6.5; the
// chunk ends with a null item and is padded to 32 bits), then BYE (§6.6).
// A CNAME longer than 255 octets is cut.
func putRTCP(b []byte, o *rtcpOut) int {
	nb := 0
	if o.block != nil {
		nb = 1
	}
	n := rtcpHeaderLen + 4
	pt := uint8(rtcpRR)
	if o.sr {
		pt = rtcpSR
		binary.BigEndian.PutUint64(b[n:], o.ntp)
		binary.BigEndian.PutUint32(b[n+8:], o.rtpTime)
		binary.BigEndian.PutUint32(b[n+12:], o.packets)
		binary.BigEndian.PutUint32(b[n+16:], o.octets)
		n += srInfoLen
	}
	if r := o.block; r != nil {
		binary.BigEndian.PutUint32(b[n:], r.ssrc)
		b[n+4] = r.fraction
		b[n+5], b[n+6], b[n+7] = byte(r.lost>>16), byte(r.lost>>8), byte(r.lost)
		binary.BigEndian.PutUint32(b[n+8:], r.highest)
		binary.BigEndian.PutUint32(b[n+12:], r.jitter)
		binary.BigEndian.PutUint32(b[n+16:], r.lsr)
		binary.BigEndian.PutUint32(b[n+20:], r.dlsr)
		n += reportLen
	}
	putRTCPHeader(b, uint8(nb), pt, n)
	binary.BigEndian.PutUint32(b[4:], o.ssrc)

	// SDES: one chunk, SSRC, CNAME item, end item, padding.
	start := n
	cname := o.cname[:min(len(o.cname), 255)]
	binary.BigEndian.PutUint32(b[n+4:], o.ssrc)
	b[n+8], b[n+9] = sdesCNAME, byte(len(cname))
	copy(b[n+10:], cname)
	end := n + 10 + len(cname) + 1 // with the null item
	for end%4 != 0 {
		end++
	}
	clear(b[n+10+len(cname) : end])
	putRTCPHeader(b[start:], 1, rtcpSDES, end-start)
	n = end

	if o.bye {
		putRTCPHeader(b[n:], 1, rtcpBYE, 8)
		binary.BigEndian.PutUint32(b[n+4:], o.ssrc)
		n += 8
	}
	return n
}

// maxRTCPLen bounds putRTCP's output: SR with one block, SDES with a
// 255-octet CNAME, BYE.
const maxRTCPLen = rtcpHeaderLen + 4 + srInfoLen + reportLen + (rtcpHeaderLen + 4 + 2 + 255 + 4) + 8

// putRTCPHeader writes a packet header: version 2, no padding, count,
// type and the length in 32-bit words minus one (RFC 3550 §6.4.1).
func putRTCPHeader(b []byte, count, pt uint8, n int) {
	b[0] = 0x80 | count&0x1f
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], uint16(n/4-1))
}
