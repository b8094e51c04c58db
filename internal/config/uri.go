package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// parseSIPURI parses a sip: or sips: URI (sipaddr.ParseURI; tel: URIs
// have no host to register with, so they are refused here).
func parseSIPURI(s string) (sipaddr.URI, error) {
	if !sipaddr.HasSIPScheme(s) {
		return sipaddr.URI{}, errors.New("no sip: or sips: scheme")
	}
	return sipaddr.ParseURI(s)
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
	_, _, err = sipaddr.ParseHostPort(host)
	return err
}
