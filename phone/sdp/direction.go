package sdp

import (
	"fmt"
	"strings"
)

// Direction is the media direction attribute of RFC 4566 §6 and RFC 3264
// §5.1, always seen from the side that wrote the description: SendOnly in a
// peer's SDP means the peer sends and does not want to receive.
type Direction int

// Directions. The zero value is DirectionUnknown, which no description
// contains: a section without a direction attribute is SendRecv.
const (
	DirectionUnknown Direction = iota
	SendRecv
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name ("sendrecv", "sendonly", "recvonly",
// "inactive") or "unknown".
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "unknown"
}

// ParseDirection parses a direction attribute name. Case is ignored.
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "sendrecv":
		return SendRecv, nil
	case "sendonly":
		return SendOnly, nil
	case "recvonly":
		return RecvOnly, nil
	case "inactive":
		return Inactive, nil
	}
	return DirectionUnknown, fmt.Errorf("sdp: unknown direction %q", s)
}

// Sends reports whether the side that wrote d sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Recvs reports whether the side that wrote d receives media.
func (d Direction) Recvs() bool { return d == SendRecv || d == RecvOnly }

// Mirror returns the direction seen from the other side, which is the most an
// answer may use (RFC 3264 §6.1): sendonly becomes recvonly and vice versa,
// sendrecv and inactive stay. DirectionUnknown stays unknown.
func (d Direction) Mirror() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Intersect returns the direction that both d and o allow: it sends only if
// both send and receives only if both receive. Answer uses
// remote.Mirror().Intersect(local); a UAC applies the same rule to an answer.
// If either side is DirectionUnknown the result is DirectionUnknown.
func (d Direction) Intersect(o Direction) Direction {
	if d == DirectionUnknown || o == DirectionUnknown {
		return DirectionUnknown
	}
	return directionOf(d.Sends() && o.Sends(), d.Recvs() && o.Recvs())
}

// directionOf builds a Direction from its two capabilities.
func directionOf(sends, recvs bool) Direction {
	switch {
	case sends && recvs:
		return SendRecv
	case sends:
		return SendOnly
	case recvs:
		return RecvOnly
	}
	return Inactive
}
