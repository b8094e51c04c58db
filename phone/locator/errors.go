package locator

import "errors"

var (
	// ErrNotFound reports a domain under which no server could be found:
	// no SRV record led to an address and the A/AAAA fallback found none.
	ErrNotFound = errors.New("no SIP server found")

	// ErrUnavailable reports SRV records whose only target is "." (RFC 2782:
	// the service is decidedly not available at this domain).
	ErrUnavailable = errors.New("SIP service not available")

	// ErrDNS reports that a lookup the answer depends on failed (no answer
	// in time, SERVFAIL, REFUSED) rather than finding nothing.
	ErrDNS = errors.New("DNS lookup failed")

	// ErrTransport reports a URI whose transport the caller does not
	// support (transport=tcp without TCP, a sips: URI without TLS) or that
	// is invalid (a sips: URI with transport=udp).
	ErrTransport = errors.New("transport not usable")

	// ErrInvalid reports a query or an option that cannot be used: an empty
	// or malformed host, a port out of range, an unknown transport name.
	ErrInvalid = errors.New("invalid locator input")
)
