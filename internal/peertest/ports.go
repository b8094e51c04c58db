package peertest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Ports are handed out from [portMin, portMax) — cut short where the
// kernel's ephemeral range (ip_local_port_range, usually from 32768) begins,
// since every client socket on the machine takes ports from there — starting
// at a random offset per test process, so that test binaries of different
// packages running at the same time rarely probe the same ports. Each block
// is checked by binding and closing it; a peer that still loses a race is
// restarted on the next block by its Start function.
const (
	portMin = 20000
	portMax = 40000
)

var portAlloc struct {
	mu   sync.Mutex
	max  int // exclusive upper bound, 0 until initialised
	next int
}

// portLimit returns the exclusive upper bound for handed-out ports.
func portLimit() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return portMax
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return portMax
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low < portMin+4000 || low > portMax {
		return portMax
	}
	return low
}

// FreePorts returns the first of n consecutive ports, the first one a
// multiple of align (0 or 1: any), that were all free for both UDP and TCP on
// 127.0.0.1 when checked. Ports come from 20000 up to 40000 or the start of
// the kernel's ephemeral range (usually 32768), whichever is lower, starting
// at a random offset per process; the same process never gets a port twice
// (until the range wraps around). Use it for the code under test too (e.g.
// teaphone's own SIP port), never a fixed 5060.
func FreePorts(n, align int) (int, error) {
	if n < 1 || n > 1000 {
		return 0, fmt.Errorf("peertest: FreePorts: bad count %d", n)
	}
	if align < 1 {
		align = 1
	}
	portAlloc.mu.Lock()
	defer portAlloc.mu.Unlock()
	if portAlloc.max == 0 {
		portAlloc.max = portLimit()
		portAlloc.next = portMin + rand.IntN(portAlloc.max-portMin)
	}
	for tries := 0; tries < 200; tries++ {
		base := roundUp(portAlloc.next, align)
		if base+n > portAlloc.max {
			base = roundUp(portMin, align)
		}
		busy := firstBusy(base, n)
		if busy < 0 {
			portAlloc.next = base + n
			return base, nil
		}
		portAlloc.next = busy + 1 // skip past the busy port
	}
	return 0, fmt.Errorf("peertest: no block of %d free ports found in %d-%d", n, portMin, portAlloc.max-1)
}

// FreePort returns one port that was free for both UDP and TCP on 127.0.0.1.
func FreePort() (int, error) { return FreePorts(1, 1) }

func roundUp(v, align int) int { return (v + align - 1) / align * align }

// firstBusy returns the first port of base..base+n-1 that is in use, or -1.
func firstBusy(base, n int) int {
	for p := base; p < base+n; p++ {
		if !portFree(p) {
			return p
		}
	}
	return -1
}

func portFree(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}
