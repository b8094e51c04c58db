//go:build unix

package bench

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// relay sits between two phones in a direct UDP call on 127.0.0.1 and
// impairs the RTP between them. The caller dials sip:USER@127.0.0.1:PORT
// (PORT = relay.sipPort); the relay is a stateless proxy (RFC 3261 §16.11)
// in front of the callee: it pushes its Via on requests and pops it from
// responses, Record-Routes the INVITE so in-dialog requests come through it
// too, and rewrites every SDP body (c=, m=audio, a=rtcp; ICE candidates
// and rtcp-mux are removed) so that both phones send RTP and RTCP to the
// relay's own ports. RTP is forwarded with loss and jitter (impairment),
// RTCP untouched.
//
//	caller ──SIP──► relay.sip ──SIP──► callee
//	caller ──RTP──► mediaA  … impaired … mediaB ──RTP──► callee
//	caller ◄─RTP── mediaA  … impaired … mediaB ◄─RTP── callee
type relay struct {
	sip     *net.UDPConn
	sipPort int
	callee  *net.UDPAddr // the callee's SIP address

	a, b *mediaPair // a faces the caller, b the callee

	wg     sync.WaitGroup
	done   chan struct{}
	closed atomic.Bool
}

// mediaPair is an RTP socket (even port) and its RTCP socket (port+1),
// and where the phone on that side wants to receive its RTP and RTCP.
type mediaPair struct {
	rtp, rtcp *net.UDPConn
	mu        sync.Mutex
	peerRTP   *net.UDPAddr // from that phone's SDP
	peerRTCP  *net.UDPAddr
	imp       *impairer // for RTP leaving through this pair toward its phone
	queue     delayQueue
	seq       uint64
	kick      chan struct{}

	forwarded, dropped atomic.Int64 // RTP toward this pair's phone
}

func (m *mediaPair) port() int { return m.rtp.LocalAddr().(*net.UDPAddr).Port }

func (m *mediaPair) peers() (rtp, rtcp *net.UDPAddr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peerRTP, m.peerRTCP
}

// startRelay listens on 127.0.0.1 for a call to the callee at calleeSIP
// and impairs the RTP of both directions by im (separate random streams per
// direction). Close stops it.
func startRelay(calleeSIP string, im impairment) (*relay, error) {
	callee, err := net.ResolveUDPAddr("udp4", calleeSIP)
	if err != nil {
		return nil, err
	}
	r := &relay{callee: callee, done: make(chan struct{})}
	if r.sip, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, err
	}
	r.sipPort = r.sip.LocalAddr().(*net.UDPAddr).Port
	if r.a, err = listenMediaPair(); err != nil {
		r.sip.Close()
		return nil, err
	}
	if r.b, err = listenMediaPair(); err != nil {
		r.sip.Close()
		r.a.close()
		return nil, err
	}
	// Toward the callee is direction 0 (the one a bench measures: the
	// caller sends the speech), toward the caller direction 1.
	r.b.imp, r.a.imp = newImpairer(im, 0), newImpairer(im, 1)
	r.wg.Add(7)
	go r.serveSIP()
	go r.forwardRTP(r.a, r.b) // from the caller, out of b to the callee
	go r.forwardRTP(r.b, r.a)
	go r.forwardRTCP(r.a, r.b)
	go r.forwardRTCP(r.b, r.a)
	go r.sendDelayed(r.b)
	go r.sendDelayed(r.a)
	return r, nil
}

// listenMediaPair binds an even port and the odd one above it.
func listenMediaPair() (*mediaPair, error) {
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	for range 100 {
		c, err := net.ListenUDP("udp4", lo)
		if err != nil {
			return nil, err
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		if p%2 == 0 && p < 65535 {
			if c2, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lo.IP, Port: p + 1}); err == nil {
				return &mediaPair{rtp: c, rtcp: c2, kick: make(chan struct{}, 1)}, nil
			}
		}
		c.Close()
	}
	return nil, errors.New("relay: no free even/odd UDP port pair")
}

func (m *mediaPair) close() {
	m.rtp.Close()
	m.rtcp.Close()
}

// Close stops the relay and waits for its goroutines.
func (r *relay) Close() {
	if r.closed.Swap(true) {
		return
	}
	r.sip.Close()
	r.a.close()
	r.b.close()
	close(r.done)
	r.wg.Wait()
}

// counts returns the RTP packets forwarded and dropped toward the callee.
func (r *relay) counts() (forwarded, dropped int64) {
	return r.b.forwarded.Load(), r.b.dropped.Load()
}

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 §4: packet
// types 192..223 are RTCP).
func isRTCP(p []byte) bool { return len(p) >= 2 && p[1] >= 192 && p[1] <= 223 }

// forwardRTP reads RTP arriving at in and queues it, impaired, for out.
func (r *relay) forwardRTP(in, out *mediaPair) {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := in.rtp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		dst, _ := out.peers()
		if dst == nil {
			continue
		}
		if isRTCP(pkt) { // multiplexed RTCP passes unimpaired
			_, _ = out.rtp.WriteToUDP(pkt, dst)
			continue
		}
		drop, delay := out.imp.next()
		if drop {
			out.dropped.Add(1)
			continue
		}
		if delay == 0 {
			out.mu.Lock()
			empty := out.queue.Len() == 0
			out.mu.Unlock()
			if empty {
				out.forwarded.Add(1)
				_, _ = out.rtp.WriteToUDP(pkt, dst)
				continue
			}
		}
		out.mu.Lock()
		out.seq++
		out.queue.add(time.Now().Add(delay), out.seq, pkt)
		out.mu.Unlock()
		select {
		case out.kick <- struct{}{}:
		default:
		}
	}
}

// sendDelayed sends m's queued packets to its phone when they are due.
func (r *relay) sendDelayed(m *mediaPair) {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		m.mu.Lock()
		now := time.Now()
		for {
			pkt, ok := m.queue.popDue(now)
			if !ok {
				break
			}
			if m.peerRTP != nil {
				m.forwarded.Add(1)
				_, _ = m.rtp.WriteToUDP(pkt, m.peerRTP)
			}
		}
		due, ok := m.queue.nextDue()
		m.mu.Unlock()
		wait := time.Hour
		if ok {
			wait = max(time.Until(due), 0)
		}
		timer.Reset(wait)
		select {
		case <-m.kick:
		case <-timer.C:
		case <-r.done:
			return
		}
	}
}

// forwardRTCP passes RTCP from in's phone to out's phone unimpaired.
func (r *relay) forwardRTCP(in, out *mediaPair) {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := in.rtcp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if _, dst := out.peers(); dst != nil {
			_, _ = out.rtcp.WriteToUDP(buf[:n], dst)
		}
	}
}

// serveSIP proxies SIP datagrams between the caller(s) and the callee.
func (r *relay) serveSIP() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, src, err := r.sip.ReadFromUDP(buf)
		if err != nil {
			return
		}
		msg, dst, err := r.route(string(buf[:n]), src)
		if err != nil || dst == nil {
			continue // not for us, or unroutable: a stateless proxy drops it
		}
		_, _ = r.sip.WriteToUDP([]byte(msg), dst)
	}
}
