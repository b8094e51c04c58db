package sipaddr

import (
	"net/netip"
	"strconv"
	"strings"
)

// ParseHostPort parses host[:port] (RFC 3261 §25.1 hostport): a host name,
// an IPv4 address or an IPv6 address in brackets, then an optional port
// 1-65535 (0 when absent). The host comes back without brackets.
//
// Host names follow RFC 3261 (labels of letters, digits and inner hyphens;
// the last label starts with a letter, so "10.0.0.300" is a bad IPv4
// address rather than a name), except that "_" is accepted inside labels,
// as real DNS names and container host names use it.
func ParseHostPort(s string) (host string, port int, err error) {
	if s == "" {
		return "", 0, errorf(ErrInvalidURI, "empty host")
	}
	host, portStr, hasPort := s, "", false
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, errorf(ErrInvalidURI, "missing ']' in IPv6 address")
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "", 0, errorf(ErrInvalidURI, "unexpected %q after IPv6 address", rest)
			}
			portStr, hasPort = rest[1:], true
		}
		if err := checkIPv6(host); err != nil {
			return "", 0, err
		}
	} else {
		if strings.Count(s, ":") > 1 {
			return "", 0, errorf(ErrInvalidURI, "IPv6 address %q must be in brackets", s)
		}
		host, portStr, hasPort = strings.Cut(s, ":")
		if err := checkHost(host); err != nil {
			return "", 0, err
		}
	}
	if hasPort {
		if port, err = parsePort(portStr); err != nil {
			return "", 0, err
		}
	}
	return host, port, nil
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, errorf(ErrInvalidURI, "empty port")
	}
	p, err := strconv.Atoi(s)
	if err != nil || len(s) > 5 || p < 1 || p > 65535 || s[0] == '+' || s[0] == '-' {
		return 0, errorf(ErrInvalidURI, "port %q is not a number in 1..65535", s)
	}
	return p, nil
}

// checkIPv6 accepts an IPv6 address (RFC 3261 §25.1 IPv6reference without
// its brackets); zones ("%eth0") are not part of the grammar.
func checkIPv6(h string) error {
	a, err := netip.ParseAddr(h)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return errorf(ErrInvalidURI, "bad IPv6 address %q", h)
	}
	return nil
}

// checkHost accepts a host name or an IPv4 address (RFC 3261 §25.1).
func checkHost(h string) error {
	if h == "" {
		return errorf(ErrInvalidURI, "empty host")
	}
	name := strings.TrimSuffix(h, ".")
	labels := strings.Split(name, ".")
	if top := labels[len(labels)-1]; top != "" && isDigit(top[0]) {
		// toplabel starts with ALPHA: this must be an IPv4address.
		if a, err := netip.ParseAddr(h); err != nil || !a.Is4() {
			return errorf(ErrInvalidURI, "bad IPv4 address %q", h)
		}
		return nil
	}
	if len(name) > 253 {
		return errorf(ErrInvalidURI, "host name longer than 253 characters")
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errorf(ErrInvalidURI, "bad host name %q", h)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlphanum(c) && c != '-' && c != '_' {
				return errorf(ErrInvalidURI, "bad host name %q", h)
			}
		}
	}
	return nil
}
