package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sipURI is the part of a sip:/sips: URI that config checks (RFC 3261 §19.1.1).
type sipURI struct {
	Scheme string // "sip" or "sips", lower case
	User   string
	Host   string // without brackets for IPv6
	Port   int    // 0 when absent
}

// hasSIPScheme reports whether s starts with sip: or sips: in any case.
func hasSIPScheme(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "sip:") || strings.HasPrefix(l, "sips:")
}

// parseSIPURI parses a sip: or sips: URI. It is deliberately strict about
// characters that could break a SIP header: no whitespace, controls, <, > or ".
func parseSIPURI(s string) (sipURI, error) {
	var u sipURI
	if err := checkHeaderSafe(s); err != nil {
		return u, err
	}
	if strings.ContainsAny(s, " \t<>\"") {
		return u, fmt.Errorf("must not contain spaces, '<', '>' or '\"'")
	}
	scheme, rest, ok := strings.Cut(s, ":")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "sip" && scheme != "sips") {
		return u, fmt.Errorf("no sip: or sips: scheme")
	}
	u.Scheme = scheme
	// Headers (?...) and URI parameters (;...) after the host are not checked.
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	hostport := rest
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		userinfo := rest[:i]
		hostport = rest[i+1:]
		user, _, _ := strings.Cut(userinfo, ":")
		if user == "" {
			return u, fmt.Errorf("empty user before '@'")
		}
		u.User = user
	}
	if i := strings.IndexByte(hostport, ';'); i >= 0 {
		hostport = hostport[:i]
	}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return u, err
	}
	u.Host, u.Port = host, port
	return u, nil
}

// splitHostPort splits host[:port], where host is a name, an IPv4 address or
// a bracketed IPv6 address, and port is 1..65535 when present.
func splitHostPort(s string) (host string, port int, err error) {
	if s == "" {
		return "", 0, fmt.Errorf("empty host")
	}
	host, portStr := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("missing ']' in IPv6 address")
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", 0, fmt.Errorf("unexpected %q after IPv6 address", rest)
			}
			portStr = rest[1:]
			if portStr == "" {
				return "", 0, fmt.Errorf("empty port")
			}
		}
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return "", 0, fmt.Errorf("bad IPv6 address %q", host)
		}
	default:
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, portStr = s[:i], s[i+1:]
			if portStr == "" {
				return "", 0, fmt.Errorf("empty port")
			}
		}
		if err := checkHostname(host); err != nil {
			return "", 0, err
		}
	}
	if portStr != "" {
		p, err := strconv.Atoi(portStr)
		if err != nil || p < 1 || p > 65535 {
			return "", 0, fmt.Errorf("port %q is not a number in 1..65535", portStr)
		}
		port = p
	}
	return host, port, nil
}

// checkHostname accepts a DNS name or an IPv4 address.
func checkHostname(h string) error {
	if h == "" {
		return fmt.Errorf("empty host")
	}
	if len(h) > 253 {
		return fmt.Errorf("host name longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("bad host name %q", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return fmt.Errorf("bad host name %q", h)
			}
		}
	}
	return nil
}

// checkHeaderSafe rejects invalid UTF-8 and control characters (CR, LF, NUL,
// TAB, DEL, C1 ...): strings that end up in SIP headers must not be able to
// start a new header line.
func checkHeaderSafe(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("must not contain CR, LF or other control characters (found %U)", r)
		}
	}
	return nil
}

// parseListen checks host:port for a listening socket: host optional, port 0..65535.
func parseListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port such as \"0.0.0.0:5060\" or \":5060\", got %q", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("port %q is not a number in 0..65535", port)
	}
	if host == "" || net.ParseIP(host) != nil {
		return nil
	}
	return checkHostname(host)
}
