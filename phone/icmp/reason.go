package icmp

// Reason is the kind of ICMP error that made a destination unreachable.
type Reason int

// Reasons. The zero value, ReasonUnknown, is never reported: the ICMP errors
// it stands for (time exceeded, packet too big, source quench, redirects and
// anything unknown) do not mean that the destination cannot be reached
// (RFC 3261 §18.4 asks to ignore TTL exceeded and source quench).
const (
	ReasonUnknown Reason = iota
	ReasonPortUnreachable
	ReasonHostUnreachable
	ReasonNetUnreachable
	ReasonProtocolUnreachable
	ReasonProhibited
	ReasonParameterProblem
)

// String returns a short text for the reason, fit to end a call with:
// "port unreachable", "host unreachable", "network unreachable",
// "protocol unreachable", "administratively prohibited", "parameter
// problem" or "unknown".
func (r Reason) String() string {
	switch r {
	case ReasonPortUnreachable:
		return "port unreachable"
	case ReasonHostUnreachable:
		return "host unreachable"
	case ReasonNetUnreachable:
		return "network unreachable"
	case ReasonProtocolUnreachable:
		return "protocol unreachable"
	case ReasonProhibited:
		return "administratively prohibited"
	case ReasonParameterProblem:
		return "parameter problem"
	}
	return "unknown"
}

// Origins of an extended socket error (struct sock_extended_err's ee_origin,
// linux/errqueue.h): an ICMP or an ICMPv6 message. An IPv4 error on an
// IPv6 socket keeps the ICMP origin and ICMP types.
const (
	originICMP  = 2 // SO_EE_ORIGIN_ICMP
	originICMP6 = 3 // SO_EE_ORIGIN_ICMP6
)

// reasonFor maps an ICMP (origin originICMP) or ICMPv6 (originICMP6) type
// and code to a Reason.
func reasonFor(origin, typ, code uint8) Reason {
	switch origin {
	case originICMP:
		return reasonICMP(typ, code)
	case originICMP6:
		return reasonICMP6(typ, code)
	}
	return ReasonUnknown
}

// reasonICMP maps ICMP type 3, Destination Unreachable (RFC 792, codes 6-15
// from RFC 1122 §3.2.2.1 and RFC 1812 §5.2.7.1), and type 12, Parameter
// Problem. Code 4 (fragmentation needed) is path MTU discovery, which the
// kernel handles, not an unreachable destination.
func reasonICMP(typ, code uint8) Reason {
	switch typ {
	case 3:
		switch code {
		case 0, 5, 6, 11: // net unreachable, source route failed, net unknown, net unreachable for TOS
			return ReasonNetUnreachable
		case 1, 7, 8, 12: // host unreachable, host unknown, host isolated, host unreachable for TOS
			return ReasonHostUnreachable
		case 2:
			return ReasonProtocolUnreachable
		case 3:
			return ReasonPortUnreachable
		case 9, 10, 13, 14, 15: // net, host, communication prohibited; precedence violation, cutoff
			return ReasonProhibited
		}
	case 12:
		return ReasonParameterProblem
	}
	return ReasonUnknown
}

// reasonICMP6 maps ICMPv6 type 1, Destination Unreachable (RFC 4443 §3.1),
// and type 4, Parameter Problem (§3.4). Type 2 (packet too big) is path MTU
// discovery.
func reasonICMP6(typ, code uint8) Reason {
	switch typ {
	case 1:
		switch code {
		case 0, 2: // no route to destination, beyond scope of source address
			return ReasonNetUnreachable
		case 1, 5, 6: // administratively prohibited, source address failed policy, reject route
			return ReasonProhibited
		case 3:
			return ReasonHostUnreachable // address unreachable
		case 4:
			return ReasonPortUnreachable
		}
	case 4:
		return ReasonParameterProblem
	}
	return ReasonUnknown
}
