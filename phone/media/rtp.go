package media

import (
	"encoding/binary"
	"net/netip"
)

const (
	rtpHeaderLen = 12
	// maxPacket is the size of the receive and send buffers.
	maxPacket = 1500
)

// rtpHeader holds the fields of an RTP fixed header the engine uses.
type rtpHeader struct {
	marker bool
	pt     uint8
	seq    uint16
	ts     uint32
	ssrc   uint32
}

// parseRTP checks and splits one RTP packet. It never allocates or panics.
//
// RFC 3550 §5.1 (fixed header), §5.3.1 (header extension) and A.1 (validity
// checks: version 2, padding length inside the packet).
func parseRTP(b []byte) (h rtpHeader, payload []byte, ok bool) {
	if len(b) < rtpHeaderLen || b[0]>>6 != 2 {
		return h, nil, false
	}
	off := rtpHeaderLen + 4*int(b[0]&0x0f)
	if len(b) < off {
		return h, nil, false
	}
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return h, nil, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
		if len(b) < off {
			return h, nil, false
		}
	}
	end := len(b)
	if b[0]&0x20 != 0 {
		p := int(b[end-1])
		if p == 0 || p > end-off {
			return h, nil, false
		}
		end -= p
	}
	h.marker = b[1]&0x80 != 0
	h.pt = b[1] & 0x7f
	h.seq = binary.BigEndian.Uint16(b[2:])
	h.ts = binary.BigEndian.Uint32(b[4:])
	h.ssrc = binary.BigEndian.Uint32(b[8:])
	return h, b[off:end], true
}

// putRTPHeader writes a 12-byte RTP fixed header (RFC 3550 §5.1: V=2, no
// padding, extension or CSRC) into b.
func putRTPHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	_ = b[11]
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

// RFC 4733 §2.3: telephone-event payload.
const (
	dtmfPayloadLen = 4
	dtmfEndBit     = 0x80
	dtmfVolume     = 10 // -10 dBm0
)

// putDTMF writes a 4-byte RFC 4733 §2.3 payload.
func putDTMF(b []byte, ev byte, end bool, dur uint16) {
	_ = b[3]
	b[0] = ev
	b[1] = dtmfVolume
	if end {
		b[1] |= dtmfEndBit
	}
	binary.BigEndian.PutUint16(b[2:], dur)
}

// dtmfPT returns pt if it can be a telephone-event payload type next to the
// audio type, else -1. RFC 3551 §3: 96-127 are dynamic and 35-63
// unassigned; RFC 5761 §4: 64-95 clash with RTCP.
func dtmfPT(pt int, audioPT uint8) int {
	ok := (pt >= 35 && pt <= 63) || (pt >= 96 && pt <= 127)
	if !ok || pt == int(audioPT&0x7f) {
		return -1
	}
	return pt
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	if !ap.IsValid() {
		return ap
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
