package phone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

// ErrNoRTPPort is returned when no RTP/RTCP port pair is free in the range.
var ErrNoRTPPort = errors.New("no free RTP port in the configured range")

// portAllocator hands out RTP/RTCP socket pairs (even RTP port, RTCP = RTP+1,
// RFC 3550 §11) from a configured range, binding them at once so the ports in
// the SDP are really ours.
type portAllocator struct {
	mu       sync.Mutex
	ip       net.IP
	min, max int
	next     int
}

func newPortAllocator(ip net.IP, min, max int) *portAllocator {
	if min <= 0 {
		min = 10000
	}
	if max < min+1 {
		max = min + 1
	}
	if min%2 == 1 {
		min++
	}
	pairs := (max - min + 1) / 2
	if pairs < 1 {
		pairs = 1
	}
	return &portAllocator{ip: ip, min: min, max: max, next: min + 2*rand.IntN(pairs)}
}

// allocate binds a free pair. The caller owns the sockets and closes them.
func (a *portAllocator) allocate() (rtp, rtcp *net.UDPConn, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pairs := (a.max - a.min + 1) / 2
	for i := 0; i < pairs; i++ {
		p := a.next
		a.next += 2
		if a.next+1 > a.max {
			a.next = a.min
		}
		rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: a.ip, Port: p})
		if err != nil {
			if isOutOfFiles(err) {
				return nil, nil, noFilesError()
			}
			continue
		}
		rtcp, err = net.ListenUDP("udp", &net.UDPAddr{IP: a.ip, Port: p + 1})
		if err != nil {
			rtp.Close()
			if isOutOfFiles(err) {
				return nil, nil, noFilesError()
			}
			continue
		}
		return rtp, rtcp, nil
	}
	return nil, nil, fmt.Errorf("%w (%d-%d)", ErrNoRTPPort, a.min, a.max)
}
