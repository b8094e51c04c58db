//go:build !linux

package interop

import "testing"

// udpPacket is one UDP datagram seen on the loopback interface.
type udpPacket struct {
	src, dst int
	payload  []byte
}

// loCapture is Linux only (packet(7)).
type loCapture struct{}

func startCapture(t *testing.T, _, _ int) *loCapture {
	t.Skip("loopback capture needs Linux packet sockets")
	return nil
}

func (*loCapture) packets() []udpPacket { return nil }
