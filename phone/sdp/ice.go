package sdp

import (
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// ICE in SDP (RFC 8839) as an ICE-lite agent writes and reads it (RFC 8445
// §2.5): we only answer connectivity checks, so we need the peer's
// credentials and whether it does ICE at all, and we write our credentials
// and one candidate per component and address.

// ICE is what a description says about ICE for its audio stream.
type ICE struct {
	// Ufrag and Pwd are the writer's credentials (a=ice-ufrag, a=ice-pwd,
	// media-level else session-level); both empty when the writer does no
	// ICE, or when either is missing or malformed (RFC 8839 §5.4).
	Ufrag, Pwd string
	// Lite is a=ice-lite at session level (RFC 8839 §5.3).
	Lite bool
	// Candidates counts the stream's well-formed a=candidate lines.
	Candidates int
}

// On reports whether the writer does ICE: credentials and a candidate.
func (i ICE) On() bool { return i.Ufrag != "" && i.Pwd != "" && i.Candidates > 0 }

// LocalICE is our side of ICE, written into offers and into answers to
// offers that do ICE.
type LocalICE struct {
	// Ufrag (4..256) and Pwd (22..256) are ice-chars: letters, digits,
	// '+' and '/' (RFC 8839 §5.4).
	Ufrag, Pwd string
	// Host is the RTP socket's own address. When it differs from
	// Local.Addr and Local.Port (a public address learnt by STUN), it is
	// written as a host candidate and the SDP address as a server
	// reflexive one (RFC 8445 §5.1.1); else the SDP address is the host
	// candidate.
	Host netip.AddrPort
	// NoRTCP leaves out the candidates of component 2 (RTCP multiplexed on
	// the RTP port, RFC 5761 §5.1.3).
	NoRTCP bool
}

// ICE candidate type preferences (RFC 8445 §5.1.2.2) and the local
// preference of our only interface (§5.1.2.1).
const (
	prefHost  = 126
	prefSrflx = 100
	prefLocal = 65535
)

// priority is RFC 8445 §5.1.2.1's candidate priority.
func priority(typePref, component int) uint32 {
	return uint32(typePref)<<24 | uint32(prefLocal)<<8 | uint32(256-component)
}

// addICE writes l's ICE attributes: a=ice-lite into sd, credentials and
// candidates into md. It writes nothing without l.ICE. With muxed (an
// answer that accepts a=rtcp-mux) only the RTP component has candidates
// (RFC 5761 §5.1.3).
func (l *Local) addICE(sd *psdp.SessionDescription, md *psdp.MediaDescription, muxed bool) {
	ice := l.ICE
	if ice == nil || !iceChars(ice.Ufrag, 4) || !iceChars(ice.Pwd, 22) {
		return
	}
	sd.Attributes = append(sd.Attributes, psdp.NewPropertyAttribute("ice-lite"))
	md.Attributes = append(md.Attributes,
		psdp.NewAttribute("ice-ufrag", ice.Ufrag),
		psdp.NewAttribute("ice-pwd", ice.Pwd))
	components := []int{1, 2}
	if ice.NoRTCP || muxed {
		components = components[:1]
	}
	public, err := netip.ParseAddr(l.Addr)
	for _, comp := range components {
		port := l.Port + comp - 1
		if port > 65535 {
			break
		}
		host := ice.Host
		if host.IsValid() {
			host = netip.AddrPortFrom(host.Addr().Unmap(), host.Port()+uint16(comp-1))
		}
		sdpAddr := netip.AddrPort{}
		if err == nil {
			sdpAddr = netip.AddrPortFrom(public.Unmap(), uint16(port))
		}
		switch {
		case host.IsValid() && sdpAddr.IsValid() && host != sdpAddr:
			md.Attributes = append(md.Attributes,
				candidate("H", comp, prefHost, host, "host", netip.AddrPort{}),
				candidate("S", comp, prefSrflx, sdpAddr, "srflx", host))
		case sdpAddr.IsValid():
			md.Attributes = append(md.Attributes, candidate("H", comp, prefHost, sdpAddr, "host", netip.AddrPort{}))
		}
	}
}

// candidate is one a=candidate attribute (RFC 8839 §5.1) for UDP.
func candidate(foundation string, comp, typePref int, addr netip.AddrPort, typ string, related netip.AddrPort) psdp.Attribute {
	var b strings.Builder
	b.WriteString(foundation)
	b.WriteString(strconv.Itoa(typePref))
	b.WriteString(" " + strconv.Itoa(comp) + " UDP ")
	b.WriteString(strconv.FormatUint(uint64(priority(typePref, comp)), 10))
	b.WriteString(" " + addr.Addr().String() + " " + strconv.Itoa(int(addr.Port())) + " typ " + typ)
	if related.IsValid() {
		b.WriteString(" raddr " + related.Addr().String() + " rport " + strconv.Itoa(int(related.Port())))
	}
	return psdp.NewAttribute("candidate", b.String())
}

// parseICE reads the ICE attributes of md, a section of sd. Malformed
// credentials mean no ICE: the stream then uses its m= and c= addresses,
// which every ICE agent must accept (RFC 8445 §5.1.1.1... the default
// candidate is what a peer without ICE uses).
func parseICE(sd *psdp.SessionDescription, md *psdp.MediaDescription) ICE {
	var ice ICE
	get := func(key string) string {
		if v, ok := md.Attribute(key); ok {
			return strings.TrimSpace(v)
		}
		for _, a := range sd.Attributes {
			if a.Key == key {
				return strings.TrimSpace(a.Value)
			}
		}
		return ""
	}
	ufrag, pwd := get("ice-ufrag"), get("ice-pwd")
	if iceChars(ufrag, 4) && iceChars(pwd, 22) {
		ice.Ufrag, ice.Pwd = ufrag, pwd
	}
	for _, a := range sd.Attributes {
		if a.Key == "ice-lite" {
			ice.Lite = true
		}
	}
	for _, a := range md.Attributes {
		if a.Key == "candidate" && validCandidate(a.Value) {
			ice.Candidates++
		}
	}
	return ice
}

// validCandidate checks the shape of an a=candidate value (RFC 8839 §5.1):
// foundation, component 1..256, transport, priority, address, port, "typ",
// type.
func validCandidate(v string) bool {
	f := strings.Fields(v)
	if len(f) < 8 || f[6] != "typ" {
		return false
	}
	comp, err := strconv.Atoi(f[1])
	if err != nil || comp < 1 || comp > 256 {
		return false
	}
	if _, err := strconv.ParseUint(f[3], 10, 32); err != nil {
		return false
	}
	port, err := strconv.Atoi(f[5])
	return err == nil && port >= 0 && port <= 65535
}

// iceChars reports whether s is min..256 ice-chars (RFC 8839 §5.4).
func iceChars(s string, min int) bool {
	if len(s) < min || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
