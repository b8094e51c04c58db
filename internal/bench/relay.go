//go:build unix

package bench

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"strings"
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

// sipMsg is a SIP message split into its start line, header lines and
// body (CRLF line ends; no header folding).
type sipMsg struct {
	start   string
	headers []string
	body    string
}

func parseSIP(s string) (*sipMsg, error) {
	head, body, ok := strings.Cut(s, "\r\n\r\n")
	if !ok {
		return nil, errors.New("no end of headers")
	}
	lines := strings.Split(head, "\r\n")
	return &sipMsg{start: lines[0], headers: lines[1:], body: body}, nil
}

func (m *sipMsg) String() string {
	var b strings.Builder
	b.WriteString(m.start + "\r\n")
	for _, h := range m.headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n" + m.body)
	return b.String()
}

func (m *sipMsg) isResponse() bool { return strings.HasPrefix(m.start, "SIP/2.0 ") }

// header returns the index of the first header named name (or its compact
// form) and its value, or -1.
func (m *sipMsg) header(name, compact string) (int, string) {
	for i, h := range m.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if strings.EqualFold(k, name) || (compact != "" && strings.EqualFold(k, compact)) {
			return i, strings.TrimSpace(v)
		}
	}
	return -1, ""
}

// popFirstValue removes the first comma-separated value of header i and
// returns it (the whole line goes when it held one value).
func (m *sipMsg) popFirstValue(i int) string {
	k, v, _ := strings.Cut(m.headers[i], ":")
	first, rest, more := strings.Cut(v, ",")
	if more {
		m.headers[i] = k + ":" + rest
	} else {
		m.headers = append(m.headers[:i], m.headers[i+1:]...)
	}
	return strings.TrimSpace(first)
}

// route rewrites one datagram from src and returns it with its next hop.
func (r *relay) route(s string, src *net.UDPAddr) (string, *net.UDPAddr, error) {
	m, err := parseSIP(s)
	if err != nil {
		return "", nil, err
	}
	fromCallee := src.IP.Equal(r.callee.IP) && src.Port == r.callee.Port
	var dst *net.UDPAddr
	if m.isResponse() {
		i, top := m.header("Via", "v")
		if i < 0 || !strings.Contains(top, fmt.Sprintf("127.0.0.1:%d;", r.sipPort)) {
			return "", nil, errors.New("response without our Via")
		}
		m.popFirstValue(i)
		i, next := m.header("Via", "v")
		if i < 0 {
			return "", nil, errors.New("response with no Via left")
		}
		if dst, err = viaAddr(next); err != nil {
			return "", nil, err
		}
	} else {
		method, rest, _ := strings.Cut(m.start, " ")
		ruri, version, _ := strings.Cut(rest, " ")
		if i, rt := m.header("Route", ""); i >= 0 && strings.Contains(rt, fmt.Sprintf("127.0.0.1:%d", r.sipPort)) {
			// In-dialog request through our Record-Route (RFC 3261
			// §16.4): drop our Route, go to the next one or the R-URI.
			m.popFirstValue(i)
			next := ruri
			if j, rt2 := m.header("Route", ""); j >= 0 {
				next = strings.Trim(strings.TrimSpace(strings.SplitN(rt2, ",", 2)[0]), "<>")
			}
			if dst, err = uriAddr(next); err != nil {
				return "", nil, err
			}
		} else {
			// An initial request from the caller: to the callee.
			dst = r.callee
			if user, _, ok := strings.Cut(strings.TrimPrefix(ruri, "sip:"), "@"); ok {
				ruri = fmt.Sprintf("sip:%s@%s", user, r.callee)
			}
			m.start = method + " " + ruri + " " + version
			if method == "INVITE" {
				m.headers = append([]string{fmt.Sprintf("Record-Route: <sip:127.0.0.1:%d;lr>", r.sipPort)}, m.headers...)
			}
		}
		_, top := m.header("Via", "v")
		h := fnv.New64a()
		h.Write([]byte(top))
		via := fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-rly%x", r.sipPort, h.Sum64())
		m.headers = append([]string{via}, m.headers...)
	}
	if _, ct := m.header("Content-Type", "c"); strings.HasPrefix(strings.ToLower(ct), "application/sdp") && m.body != "" {
		side, toward := r.a, r.b // an SDP from the caller: the callee must send to b
		if fromCallee {
			side, toward = r.b, r.a
		}
		body, rtp, rtcp, err := rewriteSDP(m.body, toward.port())
		if err != nil {
			return "", nil, err
		}
		side.mu.Lock()
		side.peerRTP, side.peerRTCP = rtp, rtcp
		side.mu.Unlock()
		m.body = body
	}
	if i, _ := m.header("Content-Length", "l"); i >= 0 {
		m.headers[i] = "Content-Length: " + strconv.Itoa(len(m.body))
	}
	return m.String(), dst, nil
}

// rewriteSDP points the audio stream of an SDP at 127.0.0.1:port (RTCP at
// port+1) and returns where its author wants RTP and RTCP. ICE and
// rtcp-mux attributes go: the relay is the only path.
func rewriteSDP(body string, port int) (out string, rtp, rtcp *net.UDPAddr, err error) {
	lines := strings.Split(strings.TrimRight(body, "\r\n"), "\r\n")
	var kept []string
	host := ""
	peerPort, peerRTCP := 0, 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "):
			// Session level, then the audio's own (which wins).
			host = strings.TrimSpace(strings.TrimPrefix(l, "c=IN IP4 "))
			l = "c=IN IP4 127.0.0.1"
		case strings.HasPrefix(l, "m=audio "):
			f := strings.Fields(l)
			if len(f) < 2 {
				return "", nil, nil, errors.New("bad m= line")
			}
			if peerPort, err = strconv.Atoi(f[1]); err != nil {
				return "", nil, nil, err
			}
			f[1] = strconv.Itoa(port)
			l = strings.Join(f, " ")
		case strings.HasPrefix(l, "a=rtcp:"):
			f := strings.Fields(strings.TrimPrefix(l, "a=rtcp:"))
			if len(f) > 0 {
				peerRTCP, _ = strconv.Atoi(f[0])
			}
			l = fmt.Sprintf("a=rtcp:%d", port+1)
		case strings.HasPrefix(l, "a=candidate"), strings.HasPrefix(l, "a=ice-"), l == "a=rtcp-mux", strings.HasPrefix(l, "a=end-of-candidates"):
			continue
		}
		kept = append(kept, l)
	}
	if peerPort == 0 || host == "" {
		return "", nil, nil, errors.New("SDP without audio address")
	}
	if peerRTCP == 0 {
		peerRTCP = peerPort + 1
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "", nil, nil, fmt.Errorf("SDP address %q is not an IP", host)
	}
	return strings.Join(kept, "\r\n") + "\r\n", &net.UDPAddr{IP: ip, Port: peerPort}, &net.UDPAddr{IP: ip, Port: peerRTCP}, nil
}

// viaAddr is where a response goes for this Via value (RFC 3261 §18.2.2,
// rport as in RFC 3581).
func viaAddr(v string) (*net.UDPAddr, error) {
	f := strings.Fields(v) // "SIP/2.0/UDP" "host:port;params"
	if len(f) < 2 {
		return nil, fmt.Errorf("bad Via %q", v)
	}
	sentBy, params, _ := strings.Cut(strings.Join(f[1:], ""), ";")
	host, port := hostPort(sentBy)
	for _, p := range strings.Split(params, ";") {
		k, val, _ := strings.Cut(p, "=")
		switch strings.ToLower(k) {
		case "received":
			host = val
		case "rport":
			if n, err := strconv.Atoi(val); err == nil {
				port = n
			}
		}
	}
	return net.ResolveUDPAddr("udp4", net.JoinHostPort(host, strconv.Itoa(port)))
}

// uriAddr is the host:port of a sip: URI (5060 when it has no port).
func uriAddr(uri string) (*net.UDPAddr, error) {
	u := strings.TrimPrefix(strings.Trim(uri, "<>"), "sip:")
	if _, after, ok := strings.Cut(u, "@"); ok {
		u = after
	}
	u, _, _ = strings.Cut(u, ";")
	u, _, _ = strings.Cut(u, ">")
	host, port := hostPort(u)
	return net.ResolveUDPAddr("udp4", net.JoinHostPort(host, strconv.Itoa(port)))
}

func hostPort(s string) (string, int) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, 5060
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return h, 5060
	}
	return h, n
}
