//go:build linux

package netlab

// NAT is the kind of address translation the lab's router does.
type NAT int

const (
	// NATUnknown is the zero value; a Config with it gets PortPreserving.
	NATUnknown NAT = iota
	// PortPreserving is the common home router: plain masquerade keeps the
	// phone's source port where it is free, and a binding accepts inbound
	// packets only from the address and port the phone sent to (nftables
	// "masquerade").
	PortPreserving
	// Symmetric picks a new random public port for every destination
	// (nftables "masquerade random"), so the port a STUN server sees is not
	// the one another peer sees.
	Symmetric
)

// String returns the name of the constant, e.g. "PortPreserving".
func (n NAT) String() string {
	switch n {
	case PortPreserving:
		return "PortPreserving"
	case Symmetric:
		return "Symmetric"
	default:
		return "NATUnknown"
	}
}

// masquerade returns the nftables statement for the kind.
func (n NAT) masquerade() string {
	if n == Symmetric {
		return "masquerade random"
	}
	return "masquerade"
}
