package sdp

import (
	"fmt"
	"strings"
)

// Codec names and the RTP clock rate of both G.711 laws.
const (
	PCMU = "PCMU"
	PCMA = "PCMA"

	// G711Rate is the RTP clock rate of PCMU, PCMA and the telephone-event
	// stream that goes with them (RFC 3551 §4.5.14, RFC 4733 §2.3).
	G711Rate = 8000

	// DefaultDTMFPT is the telephone-event payload type Offer uses when
	// Local.DTMFPT is 0. It is only our choice: answers and ParseAnswer
	// always use the payload type the peer wrote (RFC 3264 §6.1).
	DefaultDTMFPT = 101
)

// Static payload types of RFC 3551 §6 that this package knows.
const (
	ptPCMU = 0
	ptPCMA = 8
)

// Codec is one negotiable audio format: a payload type bound to PCMU or PCMA.
type Codec struct {
	PT   uint8  // RTP payload type, as written by whoever made the offer
	Name string // PCMU or PCMA (canonical upper case)
	Rate int    // clock rate, always G711Rate
}

// String returns the rtpmap form, e.g. "0 PCMU/8000".
func (c Codec) String() string {
	return fmt.Sprintf("%d %s/%d", c.PT, c.Name, c.Rate)
}

// canonicalCodec returns the canonical name of a supported codec, or "".
func canonicalCodec(name string) string {
	switch {
	case strings.EqualFold(name, PCMU):
		return PCMU
	case strings.EqualFold(name, PCMA):
		return PCMA
	}
	return ""
}

// staticPT returns the RFC 3551 §6 static payload type of a canonical name.
func staticPT(name string) uint8 {
	if name == PCMA {
		return ptPCMA
	}
	return ptPCMU
}
