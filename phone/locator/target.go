package locator

import (
	"net/netip"
	"strings"
)

// Transports, as Target.Transport spells them.
const (
	UDP = "UDP"
	TCP = "TCP"
	TLS = "TLS"
)

// Query is what RFC 3263 §4 starts from: the parts of a SIP URI that say
// where a request goes (the outbound proxy's URI if there is one, else the
// Request-URI).
type Query struct {
	Host      string // domain name or IP literal (IPv6 with or without brackets)
	Port      int    // 0 when the URI has none
	Secure    bool   // a sips: URI
	Transport string // the URI's transport parameter ("udp", "tcp", "tls"), "" when absent
}

// Target is one server to try.
type Target struct {
	Transport string // UDP, TCP or TLS
	Addr      netip.AddrPort
	// Host is the name the address was found under (the SRV target, or the
	// URI's host), without a trailing dot: the name to check a TLS
	// certificate against and to show in logs.
	Host string
}

// String gives "UDP 192.0.2.1:5060 (sip1.example.com)", leaving out the
// name when it is the address itself.
func (t Target) String() string {
	s := t.Transport + " " + t.Addr.String()
	if t.Host != "" && t.Host != t.Addr.Addr().String() {
		s += " (" + t.Host + ")"
	}
	return s
}

// DefaultPort is the port of a transport when neither the URI nor an SRV
// record gives one (RFC 3261 §19.1.2, RFC 3263 §4.2).
func DefaultPort(transport string) uint16 {
	if strings.EqualFold(transport, TLS) {
		return 5061
	}
	return 5060
}
