package stun

import (
	"net"
	"strconv"
	"strings"
)

// DefaultPort is the STUN port (RFC 5389 §9).
const DefaultPort = 3478

// SplitServer splits a configured STUN server, "host", "host:port" or
// "[v6]:port", into host and port (DefaultPort when none is given). A
// "stun:" URI prefix (RFC 7064) is accepted.
func SplitServer(s string) (host string, port int, err error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "stun:")
	if s == "" {
		return "", 0, &net.AddrError{Err: "empty STUN server", Addr: s}
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a bare name, IPv4 address, or IPv6 address.
		return strings.Trim(s, "[]"), DefaultPort, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || h == "" {
		return "", 0, &net.AddrError{Err: "bad STUN server", Addr: s}
	}
	return h, n, nil
}
