package icmp

import "net/netip"

// Report is one ICMP error for a datagram sent on a Conn.
type Report struct {
	// Addr is where the datagram that bounced was sent. An IPv4 address
	// reported on an IPv6 socket is unmapped: Addr is 127.0.0.1:5060, not
	// [::ffff:127.0.0.1]:5060. A link-local IPv6 address carries its zone.
	Addr netip.AddrPort
	// Reason is the kind of error; never ReasonUnknown.
	Reason Reason
	// From is the host or router that sent the ICMP error (the destination
	// host itself for a port unreachable), or the zero Addr if the kernel
	// did not say.
	From netip.Addr
	// Quote is the start of the datagram that bounced, as the ICMP error
	// quoted it, without the IP and UDP headers. It may be truncated or
	// empty (RFC 792 asks only for the first 8 bytes after the IP header).
	Quote []byte
}

// String returns "port unreachable: 192.0.2.1:5060", followed by " (from
// 198.51.100.1)" when a router, not the destination, sent the error.
func (r Report) String() string {
	s := r.Reason.String() + ": " + r.Addr.String()
	if r.From.IsValid() && r.From.WithZone("") != r.Addr.Addr().WithZone("") {
		s += " (from " + r.From.String() + ")"
	}
	return s
}

// Handler receives the Reports of a Conn, one at a time, on the Conn's own
// goroutine. It must return, and must not close the Conn.
type Handler interface {
	Report(Report)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(Report)

// Report calls f(r).
func (f HandlerFunc) Report(r Report) { f(r) }
