package sdp

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// Local is our side of one call's media session. The caller keeps one per
// call and passes the same pointer to every Offer and Answer of that call,
// so that the o= line keeps its session id and its version grows by one per
// description (RFC 3264 §8).
type Local struct {
	// Addr is our RTP address (an IP literal or a host name), written in c=
	// and o=. It must not be unspecified (0.0.0.0, ::): that reads as hold.
	Addr string
	// Port is our RTP port, 1-65535 (RTCP is Port+1).
	Port int
	// RTCPMux offers RTP/RTCP multiplexing (RFC 5761) in our offers and
	// accepts it in our answers; see Offer and Answer.
	RTCPMux bool
	// Codecs lists the enabled codecs in our preference order ("PCMU",
	// "PCMA", case-insensitive). Empty means PCMU, PCMA.
	Codecs []string
	// DTMFPT is the telephone-event payload type for our offers, 96-127;
	// 0 means DefaultDTMFPT. Answers use the offerer's payload type.
	DTMFPT uint8
	// Ptime is the packet time in milliseconds we ask for in a=ptime;
	// 0 means 20.
	Ptime int
	// SessionID is the o= session id; if 0, the first Offer or Answer sets
	// it to a random value.
	SessionID uint64
	// Version is the o= version of the last description we generated;
	// Offer and Answer increment it and then write it.
	Version uint64
	// Username is the o= user name, "-" if empty (RFC 4566 §5.2).
	Username string
	// ICE, when set, makes offers, and answers to offers that do ICE,
	// carry our ICE-lite credentials and candidates (see LocalICE).
	ICE *LocalICE
	// SRTP, when set, makes offers carry our a=crypto lines (RTP/SAVP if
	// SRTP.Mandatory or SRTP.SAVP) and answers accept a=crypto offers (see
	// SRTP).
	SRTP *SRTP
	// DTLS, when set, makes offers DTLS-SRTP (UDP/TLS/RTP/SAVP, RFC 5764
	// §8, with a=fingerprint and a=setup:actpass) and answers accept only
	// DTLS-SRTP offers (see LocalDTLS). It excludes SRTP.
	DTLS *LocalDTLS
}

// defaultPtime is 20 ms, the RFC 3551 §4.5 default for G.711 frames.
const defaultPtime = 20

// Offer returns an offer (RFC 3264 §5) for one RTP/AVP audio stream with the
// enabled codecs in preference order on their static payload types (0, 8), telephone-event/8000 (RFC 4733) on our
// DTMF payload type, a=ptime and the direction dir. With l.RTCPMux it also
// carries a=rtcp-mux and, for a peer that does not multiplex, the separate
// RTCP port in a=rtcp (see addMuxOffer). It increments l.Version
// first, as every new offer or answer must (RFC 3264 §8).
//
// With holdC0 and dir SendOnly or Inactive the connection address is written
// as c=IN IP4 0.0.0.0 besides the direction attribute, for peers that only
// understand RFC 2543 hold (RFC 3264 §8.4); holdC0 is ignored otherwise.
//
// Offer fails with ErrInvalidLocal if l or dir cannot give a valid offer; l is
// then left unchanged.
func Offer(l *Local, dir Direction, holdC0 bool) ([]byte, error) {
	if err := l.check(dir); err != nil {
		return nil, err
	}
	codecs, err := l.codecs()
	if err != nil {
		return nil, err
	}
	dtmf := l.DTMFPT
	if dtmf == 0 {
		dtmf = DefaultDTMFPT
	}
	// RFC 3551 §3: 96-127 is the dynamic range.
	if dtmf < 96 || dtmf > 127 {
		return nil, fmt.Errorf("%w: DTMF payload type %d outside 96-127", ErrInvalidLocal, dtmf)
	}

	sd := l.session()
	if holdC0 && !dir.Recvs() {
		sd.ConnectionInformation = connection("0.0.0.0")
	}
	var lines []Crypto
	if l.SRTP != nil && l.DTLS != nil {
		return nil, fmt.Errorf("%w: both SDES and DTLS-SRTP", ErrInvalidLocal)
	}
	if l.SRTP != nil {
		if lines, err = l.SRTP.offerLines(); err != nil {
			return nil, err
		}
	}
	md := &psdp.MediaDescription{MediaName: audioName(l.Port, l.SRTP.savp())}
	if l.DTLS != nil {
		md.MediaName.Protos = slices.Clone(dtlsProtos)
	}
	wide := false
	for _, name := range codecs {
		addCodec(md, offerPT(name), rtpmapValue(name), localFmtp(name))
		wide = wide || ClockRate(name) != G711Rate
	}
	addCodec(md, dtmf, "telephone-event/8000", "0-16")
	if wide && dtmf+opusDTMFOffset <= 127 && dtmf+opusDTMFOffset != OpusPT {
		// RFC 4733 §2.1: events on Opus's 48 kHz clock need their own
		// format.
		addCodec(md, dtmf+opusDTMFOffset, "telephone-event/48000", "0-16")
	}
	addTail(md, l.ptime(), dir)
	if l.RTCPMux {
		addMuxOffer(md, l.Port)
	}
	addCrypto(md, lines)
	if l.DTLS != nil {
		// RFC 5763 §5: the offerer MUST write actpass.
		md.Attributes = append(md.Attributes, dtlsAttrs(l.DTLS.Fingerprint, SetupActPass)...)
	}
	l.addICE(sd, md, false)
	sd.MediaDescriptions = []*psdp.MediaDescription{md}
	return sd.Marshal()
}

// check validates l and dir before anything is generated.
func (l *Local) check(dir Direction) error {
	if l == nil {
		return fmt.Errorf("%w: nil Local", ErrInvalidLocal)
	}
	if dir < SendRecv || dir > Inactive {
		return fmt.Errorf("%w: direction %d", ErrInvalidLocal, int(dir))
	}
	if l.Port < 1 || l.Port > 65535 {
		return fmt.Errorf("%w: port %d", ErrInvalidLocal, l.Port)
	}
	if ip, err := netip.ParseAddr(l.Addr); err == nil {
		// An unspecified address would read as RFC 2543 hold (RFC 3264
		// §8.4): a socket bound to 0.0.0.0 must advertise a real address.
		if ip.Zone() != "" || ip.IsUnspecified() || ip.Unmap().IsUnspecified() {
			return fmt.Errorf("%w: address %q", ErrInvalidLocal, l.Addr)
		}
	} else if !isHostname(l.Addr) {
		return fmt.Errorf("%w: address %q", ErrInvalidLocal, l.Addr)
	}
	// RFC 4566 §5.2 and §9: <username> is a non-whitespace string.
	if strings.ContainsFunc(l.Username, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return fmt.Errorf("%w: user name %q", ErrInvalidLocal, l.Username)
	}
	if l.Ptime < 0 || l.Ptime > 1000 {
		return fmt.Errorf("%w: ptime %d", ErrInvalidLocal, l.Ptime)
	}
	return nil
}

// codecs returns the enabled codecs, canonical and without duplicates.
func (l *Local) codecs() ([]string, error) {
	if len(l.Codecs) == 0 {
		return []string{PCMU, PCMA}, nil
	}
	out := make([]string, 0, len(l.Codecs))
	for _, c := range l.Codecs {
		name := canonicalCodec(c)
		if name == "" {
			return nil, fmt.Errorf("%w: codec %q", ErrInvalidLocal, c)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

func (l *Local) ptime() int {
	if l.Ptime == 0 {
		return defaultPtime
	}
	return l.Ptime
}

// session returns the session-level part of our next description and
// increments the version (RFC 3264 §8). RFC 3264 §5 recommends s=- and
// t=0 0 for unicast sessions.
func (l *Local) session() *psdp.SessionDescription {
	if l.SessionID == 0 {
		// RFC 4566 §5.2 only asks for a unique numeric string; stay below
		// 2^62 for peers that parse it as a signed integer.
		l.SessionID = rand.Uint64N(1<<62) + 1
	}
	l.Version++
	user := l.Username
	if user == "" {
		user = "-"
	}
	c := connection(l.Addr)
	return &psdp.SessionDescription{
		Origin: psdp.Origin{
			Username:       user,
			SessionID:      l.SessionID,
			SessionVersion: l.Version,
			NetworkType:    "IN",
			AddressType:    c.AddressType,
			UnicastAddress: c.Address.Address,
		},
		SessionName:           "-",
		ConnectionInformation: c,
		TimeDescriptions:      []psdp.TimeDescription{{}},
	}
}

// connection returns c=IN IP6 for IPv6 literals and c=IN IP4 otherwise
// (IPv4 literals, also IPv4-mapped IPv6 ones, and host names). IP literals
// are written in canonical form.
func connection(addr string) *psdp.ConnectionInformation {
	typ := "IP4"
	if ip, err := netip.ParseAddr(addr); err == nil {
		ip = ip.Unmap()
		if !ip.Is4() {
			typ = "IP6"
		}
		addr = ip.String()
	}
	return &psdp.ConnectionInformation{NetworkType: "IN", AddressType: typ, Address: &psdp.Address{Address: addr}}
}

// audioName is an m=audio line on port with the RTP/AVP profile, or
// RTP/SAVP (RFC 3711 §12) when savp, and no formats yet.
func audioName(port int, savp bool) psdp.MediaName {
	p := "AVP"
	if savp {
		p = "SAVP"
	}
	return psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: port}, Protos: []string{"RTP", p}}
}

// addCodec appends a format to the m= line with its a=rtpmap (enc is the
// encoding, e.g. "PCMU/8000"), written for static payload types too, and an
// optional a=fmtp (RFC 4566 §6).
func addCodec(md *psdp.MediaDescription, pt uint8, enc, fmtp string) {
	p := strconv.Itoa(int(pt))
	md.MediaName.Formats = append(md.MediaName.Formats, p)
	md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", p+" "+enc))
	if fmtp != "" {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("fmtp", p+" "+fmtp))
	}
}

// addTail appends a=ptime and the direction attribute, which we always
// write explicitly (RFC 3264 §5.1).
func addTail(md *psdp.MediaDescription, ptime int, dir Direction) {
	md.Attributes = append(md.Attributes,
		psdp.NewAttribute("ptime", strconv.Itoa(ptime)),
		psdp.NewPropertyAttribute(dir.String()))
}

// addMuxOffer appends a=rtcp and a=rtcp-mux to an offer.
//
// RFC 5761 §5.1.1: an answer without a=rtcp-mux means separate RTCP "on a
// port allocated according to the usual port-selection rules (either the
// port pair, or a signalled port if the a=rtcp: attribute is also
// included)"; we name that fallback port, our pair's Port+1, in RFC 3605
// a=rtcp, as §5.1.3 asks of an offer with ICE. Port 65535 has no next
// port: then only a=rtcp-mux is written.
func addMuxOffer(md *psdp.MediaDescription, port int) {
	if port < 65535 {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtcp", strconv.Itoa(port+1)))
	}
	md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute(attrRTCPMux))
}

// attrRTCPMux is the RFC 5761 §5.1.1 media-level property attribute.
const attrRTCPMux = "rtcp-mux"
