package interop

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// udpPacket is one IPv4 UDP datagram seen on the loopback interface.
type udpPacket struct {
	src, dst int // ports
	payload  []byte
}

// loCapture records the IPv4 UDP datagrams on the loopback interface whose
// source or destination port is in [lo, hi]: a packet capture (packet(7),
// like tcpdump -i lo) without tcpdump. It needs CAP_NET_RAW.
type loCapture struct {
	fd     int
	lo, hi int
	mu     sync.Mutex
	pkts   []udpPacket
	done   chan struct{}
}

// htons converts a protocol number for packet(7).
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// startCapture starts capturing on lo until the test ends.
func startCapture(t *testing.T, lo, hi int) *loCapture {
	t.Helper()
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
	if err != nil {
		t.Fatalf("packet socket (CAP_NET_RAW needed to capture on lo): %v", err)
	}
	ifi, err := net.InterfaceByName("lo")
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		t.Fatalf("bind to lo: %v", err)
	}
	// Wake up every 100 ms so that Close is seen.
	tv := unix.Timeval{Usec: 100000}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	c := &loCapture{fd: fd, lo: lo, hi: hi, done: make(chan struct{})}
	stop := make(chan struct{})
	go c.run(stop)
	t.Cleanup(func() {
		close(stop)
		<-c.done
		unix.Close(fd)
	})
	return c
}

func (c *loCapture) run(stop chan struct{}) {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, from, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			continue // timeout or EINTR
		}
		// Every datagram on lo is seen twice (outgoing and incoming):
		// keep the incoming copy only.
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		b := buf[:n]
		if len(b) < 20 || b[0]>>4 != 4 || b[9] != unix.IPPROTO_UDP {
			continue
		}
		ihl := int(b[0]&0x0f) * 4
		if len(b) < ihl+8 {
			continue
		}
		u := b[ihl:]
		src, dst := int(binary.BigEndian.Uint16(u)), int(binary.BigEndian.Uint16(u[2:]))
		if (src < c.lo || src > c.hi) && (dst < c.lo || dst > c.hi) {
			continue
		}
		c.mu.Lock()
		c.pkts = append(c.pkts, udpPacket{src: src, dst: dst, payload: append([]byte(nil), u[8:]...)})
		c.mu.Unlock()
	}
}

// packets returns what was captured so far.
func (c *loCapture) packets() []udpPacket {
	time.Sleep(200 * time.Millisecond) // the last reads
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]udpPacket(nil), c.pkts...)
}
