package sdp

import (
	"fmt"
	"strings"

	"github.com/teaphone/teaphone/audio/opus"
)

// Codec names and the RTP clock rate of both G.711 laws.
const (
	PCMU = "PCMU"
	PCMA = "PCMA"
	// G722 is ITU-T G.722: 16 kHz audio on an 8 kHz RTP clock (RFC 3551
	// §4.5.2), static payload type 9.
	G722 = "G722"
	// Opus is RFC 7587 Opus: 48 kHz RTP clock, rtpmap opus/48000/2, a
	// dynamic payload type.
	Opus = "opus"

	// G711Rate is the RTP clock rate of PCMU, PCMA and the telephone-event
	// stream that goes with them (RFC 3551 §4.5.14, RFC 4733 §2.3).
	G711Rate = 8000

	// DefaultDTMFPT is the telephone-event payload type Offer uses when
	// Local.DTMFPT is 0. It is only our choice: answers and ParseAnswer
	// always use the payload type the peer wrote (RFC 3264 §6.1).
	DefaultDTMFPT = 101
	// OpusPT is the dynamic payload type our offers give Opus, and
	// opusDTMFOffset puts telephone-event/48000 (RFC 4733 §2.1: the event
	// clock is the audio clock) on the DTMF type plus one.
	OpusPT         = 111
	opusDTMFOffset = 1
)

// Static payload types of RFC 3551 §6 that this package knows.
const (
	ptPCMU = 0
	ptPCMA = 8
	ptG722 = 9
)

// Codec is one negotiable audio format: a payload type bound to a codec
// this package knows.
type Codec struct {
	PT   uint8  // RTP payload type, as written by whoever made the offer
	Name string // PCMU, PCMA, G722 or opus (canonical spelling)
	Rate int    // RTP clock rate: 8000, or 48000 for Opus
	// Fmtp is the writer's a=fmtp parameters for the format (RFC 4566 §6),
	// "" when none: for Opus, what the writer wants to receive (RFC 7587
	// §6.1).
	Fmtp string
}

// String returns the rtpmap form, e.g. "0 PCMU/8000".
func (c Codec) String() string {
	return fmt.Sprintf("%d %s/%d", c.PT, c.Name, c.Rate)
}

// codecSpec is how a known codec is written in SDP.
type codecSpec struct {
	name     string
	rate     int    // RTP clock
	channels string // the rtpmap's encoding parameters ("" for none)
	static   int    // RFC 3551 static payload type, -1 for a dynamic one
}

var knownCodecs = []codecSpec{
	{PCMU, G711Rate, "", ptPCMU},
	{PCMA, G711Rate, "", ptPCMA},
	{G722, 8000, "", ptG722},
	// RFC 7587 §7: the rtpmap always says two channels.
	{Opus, 48000, "2", -1},
}

func specOf(name string) (codecSpec, bool) {
	for _, s := range knownCodecs {
		if s.name == name {
			return s, true
		}
	}
	return codecSpec{}, false
}

// canonicalCodec returns the canonical name of a supported codec, or "".
func canonicalCodec(name string) string {
	for _, s := range knownCodecs {
		if strings.EqualFold(name, s.name) {
			return s.name
		}
	}
	return ""
}

// ClockRate returns the RTP clock rate of a canonical codec name (0 for an
// unknown one).
func ClockRate(name string) int {
	s, _ := specOf(name)
	return s.rate
}

// offerPT returns the payload type our offers use for a canonical name.
func offerPT(name string) uint8 {
	s, _ := specOf(name)
	if s.static >= 0 {
		return uint8(s.static)
	}
	return OpusPT
}

// localFmtp is the a=fmtp we write for a codec: for Opus what we want to
// receive (RFC 7587 §6.1: full band, mono, in-band FEC).
func localFmtp(name string) string {
	if name == Opus {
		return opus.FormatFmtp(opus.LocalParams())
	}
	return ""
}

// rtpmapValue is the a=rtpmap encoding of a known codec, e.g. "opus/48000/2".
func rtpmapValue(name string) string {
	s, ok := specOf(name)
	if !ok {
		return name + "/8000"
	}
	v := fmt.Sprintf("%s/%d", s.name, s.rate)
	if s.channels != "" {
		v += "/" + s.channels
	}
	return v
}
