package sdp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// MaxSize is the largest description, in bytes, that Parse, Answer and
// ParseAnswer accept. One audio stream needs well under 2 KiB; the limit only
// bounds the work a hostile peer can cause.
const MaxSize = 64 << 10

// Media is the parsed view of the audio m= section of a description, seen
// from the side that wrote it.
type Media struct {
	// Addr is the connection address (RFC 4566 §5.7): the media-level c=
	// if present, else the session-level one. It is an IP literal in
	// canonical form, or a host name (the caller resolves it). It may be
	// the unspecified address, see HoldC0.
	Addr string
	// Port is the RTP port; 0 means the stream is disabled or rejected
	// (RFC 3264 §5.1, §6).
	Port int
	// Codecs lists the supported formats (PCMU, PCMA) in m= order, which is
	// the writer's order of preference (RFC 3264 §5.1). Formats this
	// package does not support are left out, so it may be empty.
	Codecs []Codec
	// DTMFPT is the payload type of the first telephone-event/8000 format
	// in m= order (RFC 4733 §7.1.1), or -1 if there is none.
	DTMFPT int
	// DTMF48 is the same for telephone-event/48000 (the events of an Opus
	// stream, RFC 4733 §2.1), or -1; see DTMFFor.
	DTMF48 int
	// Direction is the writer's direction: the media-level attribute, else
	// the session-level one, else SendRecv (RFC 3264 §5.1). With HoldC0 the
	// receive half is removed (sendrecv becomes sendonly, recvonly becomes
	// inactive), because nothing can be sent to the unspecified address.
	Direction Direction
	// HoldC0 is set when the connection address is unspecified
	// (c=IN IP4 0.0.0.0, RFC 2543 hold, see RFC 3264 §8.4; c=IN IP6 :: is
	// treated the same way). The caller must not send RTP or RTCP to Addr.
	HoldC0 bool
	// Ptime is the a=ptime value in milliseconds (RFC 4566 §6), 0 if absent.
	Ptime int
	// RTCPPort is the a=rtcp port (RFC 3605 §2.1) if present, else Port+1
	// (RFC 3550 §11); 0 when Port is 0. An address in a=rtcp is ignored.
	RTCPPort int
	// ICE is what the writer says about ICE (RFC 8839).
	ICE ICE
	// RTCPMux is set when the section carries a=rtcp-mux (RFC 5761 §5.1.1):
	// in an offer, the writer can multiplex RTP and RTCP on Port; in an
	// answer, it agrees to.
	RTCPMux bool
	// SAVP is set when the profile is RTP/SAVP (RFC 3711 §12): the writer
	// requires SRTP.
	SAVP bool
	// Crypto lists the usable a=crypto lines (RFC 4568 §9.1) in order;
	// malformed ones and unsupported suites are left out.
	Crypto []Crypto
	// DTLS is set when the profile is UDP/TLS/RTP/SAVP or its F variant
	// (RFC 5764 §8): keys come from a DTLS handshake on the media port.
	// SAVP is then set too.
	DTLS bool
	// Fingerprints are the usable a=fingerprint values (RFC 8122 §5) of
	// the section, else of the session.
	Fingerprints []Fingerprint
	// Setup is the a=setup value (RFC 4145 §4) of the section, else of
	// the session; "" when absent.
	Setup Setup
}

// Parse parses a session description and returns its audio stream: the first
// m=audio section with the RTP/AVP profile and a non-zero port, else the
// first RTP/SAVP one with a non-zero port, or, if all of them have port 0,
// the first of them (Port is then 0 and err is nil). ParseAnswer uses the
// same section; Answer too, except that without Local.SRTP it ignores
// RTP/SAVP sections and with it prefers a section with a usable a=crypto.
//
// Parse fails with ErrMalformed when the description does not follow RFC 4566
// or a value it interprets (c=, m= formats, a=rtpmap, a=ptime, a=rtcp of that
// section) is invalid, and with ErrNoAudio when there is no such section.
func Parse(b []byte) (Media, error) {
	sd, err := unmarshal(b)
	if err != nil {
		return Media{}, err
	}
	i, err := selectAudio(sd, true)
	if err != nil {
		return Media{}, err
	}
	return parseMedia(sd, sd.MediaDescriptions[i])
}

// unmarshal checks the size, normalises line ends and parses with pion.
func unmarshal(b []byte) (*psdp.SessionDescription, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(b), MaxSize)
	}
	var sd psdp.SessionDescription
	if err := sd.UnmarshalString(normalize(b)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// RFC 4566 §5: v=, o=, s= and t= are required, in that order. pion
	// enforces the order but accepts a description that stops early.
	if len(sd.TimeDescriptions) == 0 {
		return nil, fmt.Errorf("%w: missing v=, o=, s= or t= line", ErrMalformed)
	}
	return &sd, nil
}

// normalize rewrites b with CRLF after every line, dropping empty lines and
// trailing blanks. RFC 4566 §5 asks parsers to accept a bare LF; pion also
// needs a line end after the last line, and a trailing blank would otherwise
// become part of an attribute name ("a=sendonly ").
func normalize(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + 2)
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimRight(line, "\r \t")
		if line == "" {
			continue
		}
		sb.WriteString(line)
		sb.WriteString("\r\n")
	}
	return sb.String()
}

// isAudioAVP reports whether md is an m=audio section with the RTP/AVP
// profile (RFC 3551) or RTP/SAVP (RFC 3711 §12), the transports this
// package negotiates.
func isAudioAVP(md *psdp.MediaDescription) bool {
	p := md.MediaName.Protos
	return md.MediaName.Media == "audio" && (len(p) == 2 && p[0] == "RTP" && (p[1] == "AVP" || p[1] == "SAVP") || isDTLSProto(p))
}

// selectAudio returns the index of the audio section Parse describes: the
// first RTP/AVP one with a non-zero port, else (with savp) the first
// RTP/SAVP one with a non-zero port, else the first of them with port 0.
func selectAudio(sd *psdp.SessionDescription, savp bool) (int, error) {
	first, firstSAVP := -1, -1
	for i, md := range sd.MediaDescriptions {
		if !isAudioAVP(md) {
			continue
		}
		s := isSecure(md)
		if s && !savp {
			continue
		}
		if md.MediaName.Port.Value != 0 {
			if !s {
				return i, nil
			}
			if firstSAVP < 0 {
				firstSAVP = i
			}
		}
		if first < 0 {
			first = i
		}
	}
	if firstSAVP >= 0 {
		return firstSAVP, nil
	}
	if first < 0 {
		return -1, ErrNoAudio
	}
	return first, nil
}

// selectKeyed returns the first audio section (RTP/AVP or RTP/SAVP) with a
// non-zero port and a usable a=crypto line, or -1: an SRTP answerer takes
// it over a plain copy of the stream (the SAVP-then-AVP offers of some
// best-effort SRTP peers).
func selectKeyed(sd *psdp.SessionDescription) int {
	for i, md := range sd.MediaDescriptions {
		if isAudioAVP(md) && md.MediaName.Port.Value != 0 && len(parseCryptoLines(md)) > 0 {
			return i
		}
	}
	return -1
}

// rtpmap is one parsed a=rtpmap value.
type rtpmap struct {
	name     string
	rate     int
	channels string
}

// parseMedia builds the Media view of md, a section of sd.
func parseMedia(sd *psdp.SessionDescription, md *psdp.MediaDescription) (Media, error) {
	m := Media{Port: md.MediaName.Port.Value, DTMFPT: -1, DTMF48: -1}

	// RFC 4566 §5.7: a media-level c= overrides the session-level one, and
	// one of them must be present.
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	addr, err := parseConnAddr(ci)
	if err != nil {
		return Media{}, err
	}
	m.Addr = addr

	maps := make(map[uint8]rtpmap)
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, rm, err := parseRtpmap(a.Value)
		if err != nil {
			return Media{}, err
		}
		if _, dup := maps[pt]; !dup { // the first mapping wins
			maps[pt] = rm
		}
	}

	fmtps := make(map[uint8]string)
	for _, a := range md.Attributes {
		if a.Key != "fmtp" {
			continue
		}
		ptStr, params, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
		if pt, err := parsePT(ptStr); err == nil {
			if _, dup := fmtps[pt]; !dup {
				fmtps[pt] = strings.TrimSpace(params)
			}
		}
	}

	// RFC 3264 §5.1: formats are listed in order of preference. RFC 3551 §6:
	// PT 0 and 8 are PCMU and PCMA without a=rtpmap; an a=rtpmap (also for
	// a dynamic PT, RFC 4566 §6) names the encoding, case-insensitively.
	var seen [128]bool
	for _, f := range md.MediaName.Formats {
		pt, err := parsePT(f)
		if err != nil {
			return Media{}, err
		}
		if seen[pt] {
			continue
		}
		seen[pt] = true
		rm, ok := maps[pt]
		name := canonicalCodec(rm.name)
		spec, _ := specOf(name)
		switch {
		case !ok && pt == ptPCMU:
			m.Codecs = append(m.Codecs, Codec{PT: pt, Name: PCMU, Rate: G711Rate})
		case !ok && pt == ptPCMA:
			m.Codecs = append(m.Codecs, Codec{PT: pt, Name: PCMA, Rate: G711Rate})
		case !ok && pt == ptG722:
			m.Codecs = append(m.Codecs, Codec{PT: pt, Name: G722, Rate: 8000})
		case !ok:
			// unknown dynamic format
		case strings.EqualFold(rm.name, "telephone-event"):
			// RFC 4733 §7.1.1: the PT is whatever the writer chose.
			if rm.rate == G711Rate && m.DTMFPT < 0 {
				m.DTMFPT = int(pt)
			} else if rm.rate == 48000 && m.DTMF48 < 0 {
				m.DTMF48 = int(pt)
			}
		case name == "" || rm.rate != spec.rate:
			// unknown format, or another clock rate
		case name == Opus && (rm.channels == "2" || rm.channels == ""):
			// RFC 7587 §7 says /2; a missing count is taken as well.
			m.Codecs = append(m.Codecs, Codec{PT: pt, Name: name, Rate: spec.rate, Fmtp: fmtps[pt]})
		case name != Opus && (rm.channels == "" || rm.channels == "1"):
			m.Codecs = append(m.Codecs, Codec{PT: pt, Name: name, Rate: spec.rate, Fmtp: fmtps[pt]})
		}
	}

	// RFC 3264 §5.1 and RFC 4566 §6: a media-level direction attribute
	// overrides a session-level one; the default is sendrecv.
	m.Direction = findDirection(md.Attributes)
	if m.Direction == DirectionUnknown {
		m.Direction = findDirection(sd.Attributes)
	}
	if m.Direction == DirectionUnknown {
		m.Direction = SendRecv
	}

	// RFC 3264 §8.4: c=0.0.0.0 is the RFC 2543 way to put a stream on hold;
	// the writer cannot receive, whatever the attribute says.
	if ip, err := netip.ParseAddr(m.Addr); err == nil && ip.IsUnspecified() {
		m.HoldC0 = true
		m.Direction = directionOf(m.Direction.Sends(), false)
	}

	if v, ok := md.Attribute("ptime"); ok {
		// RFC 4566 §6: a=ptime:<packet time> in milliseconds.
		p, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || p < 1 || p > 1000 {
			return Media{}, fmt.Errorf("%w: a=ptime:%s", ErrMalformed, v)
		}
		m.Ptime = p
	}

	// RFC 5761 §5.1.1: a media-level property attribute (a value, which it
	// never has, is ignored).
	_, m.RTCPMux = md.Attribute(attrRTCPMux)

	if m.Port != 0 {
		m.RTCPPort = m.Port + 1
		if m.RTCPPort > 65535 {
			m.RTCPPort = 0
		}
		if v, ok := md.Attribute("rtcp"); ok {
			// RFC 3605 §2.1: a=rtcp:<port> [<nettype> <addrtype> <address>].
			f, _, _ := strings.Cut(strings.TrimSpace(v), " ")
			p, err := strconv.Atoi(f)
			if err != nil || p < 1 || p > 65535 {
				return Media{}, fmt.Errorf("%w: a=rtcp:%s", ErrMalformed, v)
			}
			m.RTCPPort = p
		}
	}
	m.ICE = parseICE(sd, md)
	m.SAVP = isSecure(md)
	m.Crypto = parseCryptoLines(md)
	if err := parseDTLS(&m, sd, md); err != nil {
		return Media{}, err
	}
	return m, nil
}

// findDirection returns the first direction property attribute in attrs, or
// DirectionUnknown.
func findDirection(attrs []psdp.Attribute) Direction {
	for _, a := range attrs {
		if a.Value != "" {
			continue
		}
		if d, err := ParseDirection(a.Key); err == nil {
			return d
		}
	}
	return DirectionUnknown
}

// parsePT parses an RTP/AVP format, a payload type 0-127 (RFC 3551 §3,
// RFC 3550 §5.1: the field has 7 bits).
func parsePT(s string) (uint8, error) {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n > 127 {
		return 0, fmt.Errorf("%w: RTP/AVP format %q", ErrMalformed, s)
	}
	return uint8(n), nil
}

// parseRtpmap parses the value of
// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
// (RFC 4566 §6).
func parseRtpmap(v string) (uint8, rtpmap, error) {
	bad := func() (uint8, rtpmap, error) {
		return 0, rtpmap{}, fmt.Errorf("%w: a=rtpmap:%s", ErrMalformed, v)
	}
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return bad()
	}
	pt, err := parsePT(ptStr)
	if err != nil {
		return bad()
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return bad()
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || rate == 0 {
		return bad()
	}
	rm := rtpmap{name: parts[0], rate: int(rate)}
	if len(parts) == 3 {
		rm.channels = parts[2]
	}
	return pt, rm, nil
}

// parseConnAddr validates a c= line (RFC 4566 §5.7) and returns its address.
func parseConnAddr(ci *psdp.ConnectionInformation) (string, error) {
	if ci == nil {
		return "", fmt.Errorf("%w: no c= line for the audio stream", ErrMalformed)
	}
	if ci.Address == nil || ci.Address.Address == "" {
		return "", fmt.Errorf("%w: c= without address", ErrMalformed)
	}
	// Multicast addresses carry /<ttl>[/<number>]; keep the address.
	host, _, _ := strings.Cut(ci.Address.Address, "/")
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" || (ci.AddressType == "IP4") != ip.Is4() {
			return "", fmt.Errorf("%w: c=%s %s %s", ErrMalformed, ci.NetworkType, ci.AddressType, host)
		}
		return ip.String(), nil
	}
	if !isHostname(host) {
		return "", fmt.Errorf("%w: c= address %q", ErrMalformed, host)
	}
	return host, nil
}

// isHostname reports whether s is a syntactically valid DNS name (RFC 1123
// §2.1) whose last label is not numeric, so that bad IPv4 literals such as
// 300.1.1.1 are not taken for names.
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

// DTMFFor returns the payload type of the telephone-event format on the
// given RTP clock rate (RFC 4733 §2.1: the events use the audio's clock), or
// -1 when the description has none.
func (m Media) DTMFFor(rate int) int {
	switch rate {
	case G711Rate:
		return m.DTMFPT
	case 48000:
		return m.DTMF48
	}
	return -1
}
