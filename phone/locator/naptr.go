package locator

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// service is one SRV name to query and the transport its servers speak.
type service struct {
	transport string
	name      string // fully qualified, e.g. "_sip._udp.example.com."
}

// naptrService reads one NAPTR record the way RFC 3263 §4.1 uses them:
// a terminal record (flag "S", the next lookup is SRV) whose service field
// is SIP+D2U, SIP+D2T or SIPS+D2T, whose regexp is empty and whose
// replacement is the SRV name. For a sips: URI only SIPS+D2T is kept
// ("a client resolving a SIPS URI MUST discard any services that do not
// contain SIPS as the protocol"). Every other record is refused with the
// reason: this package follows the replacement field and never evaluates a
// regexp.
func naptrService(flags, svc, regexp, replacement string, secure bool) (service, error) {
	if !strings.EqualFold(flags, "s") {
		return service{}, fmt.Errorf("flags %q: only terminal \"S\" records are used", flags)
	}
	var transport string
	switch strings.ToUpper(svc) {
	case "SIP+D2U":
		transport = UDP
	case "SIP+D2T":
		transport = TCP
	case "SIPS+D2T":
		transport = TLS
	default:
		return service{}, fmt.Errorf("service %q: not a SIP transport this phone speaks", svc)
	}
	if secure && transport != TLS {
		return service{}, fmt.Errorf("service %q: a sips: URI needs SIPS+D2T", svc)
	}
	if regexp != "" {
		return service{}, fmt.Errorf("regexp %q: regexp records are not supported, only the replacement field", regexp)
	}
	name, err := srvName(replacement)
	if err != nil {
		return service{}, fmt.Errorf("replacement: %w", err)
	}
	return service{transport: transport, name: name}, nil
}

// srvName checks a name taken from a DNS record and returns it fully
// qualified. "." and the empty name are refused: they name no server.
func srvName(s string) (string, error) {
	if s == "" || s == "." {
		return "", errors.New("empty name")
	}
	if _, ok := dns.IsDomainName(s); !ok {
		return "", fmt.Errorf("%q is not a domain name", s)
	}
	return dns.Fqdn(s), nil
}
